// Outbox storages that work everywhere: in memory (the default) and over the Web Storage API
// (`localStorage` in browsers). The file storage for Node is in file-outbox.ts, kept out of this
// entry point so that browser bundles never see node:fs.
import type { OutboxEntry, OutboxStorage } from './types.js';

/** The default: entries live as long as the client object. */
export class MemoryOutbox implements OutboxStorage {
  readonly #entries = new Map<string, OutboxEntry>();

  load(): Promise<OutboxEntry[]> {
    return Promise.resolve([...this.#entries.values()]);
  }

  put(entry: OutboxEntry): Promise<void> {
    this.#entries.set(entry.ref, entry);
    return Promise.resolve();
  }

  delete(ref: string): Promise<void> {
    this.#entries.delete(ref);
    return Promise.resolve();
  }
}

/** The part of the Web Storage API this adapter uses (`localStorage`, `sessionStorage`). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Keeps the outbox under one key of a Web Storage (by default `localStorage`), as a JSON array,
 * so that unsent messages survive a reload. Use one key per device id: two tabs that share a
 * device id would resend each other's entries (and kick each other: give each tab its own
 * device). A full storage (QuotaExceededError) makes `put` reject, and so the `send`.
 */
export class LocalStorageOutbox implements OutboxStorage {
  readonly #key: string;
  readonly #storage: StorageLike;

  constructor(options: { key: string; storage?: StorageLike }) {
    this.#key = options.key;
    const storage = options.storage ?? (globalThis as { localStorage?: StorageLike }).localStorage;
    if (!storage) throw new TypeError('No localStorage here: pass `storage`.');
    this.#storage = storage;
  }

  load(): Promise<OutboxEntry[]> {
    return Promise.resolve(this.#read());
  }

  put(entry: OutboxEntry): Promise<void> {
    const entries = this.#read().filter((e) => e.ref !== entry.ref);
    entries.push(entry);
    this.#write(entries);
    return Promise.resolve();
  }

  delete(ref: string): Promise<void> {
    const entries = this.#read();
    const kept = entries.filter((e) => e.ref !== ref);
    if (kept.length !== entries.length) this.#write(kept);
    return Promise.resolve();
  }

  #read(): OutboxEntry[] {
    const text = this.#storage.getItem(this.#key);
    if (text === null) return [];
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return []; // Not ours, or damaged: an unreadable outbox must not keep the client offline.
    }
    return Array.isArray(value) ? value.filter(isOutboxEntry) : [];
  }

  #write(entries: OutboxEntry[]): void {
    if (entries.length === 0) this.#storage.removeItem(this.#key);
    else this.#storage.setItem(this.#key, JSON.stringify(entries));
  }
}

/** Stored entries are checked on the way in: a damaged one is skipped, not resent. */
export function isOutboxEntry(value: unknown): value is OutboxEntry {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    typeof e.ref === 'string' &&
    typeof e.conversation === 'string' &&
    typeof e.createdAt === 'number' &&
    typeof e.body === 'object' &&
    e.body !== null &&
    typeof (e.body as { kind?: unknown }).kind === 'string'
  );
}
