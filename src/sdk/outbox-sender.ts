// The outbox at work: each send is written to the OutboxStorage before its first transmission,
// transmitted once per link (after every welcome, with its original ref, so the server dedupes),
// and leaves the storage when the server answers `sent` or refuses it for good. Storage calls
// run one at a time, in call order, as OutboxStorage promises its implementations.
import type { ErrorFrame, SentFrame } from '../protocol/index.js';
import type { SendableBody } from './body.js';
import { ParleyClientError } from './errors.js';
import type { LinkView } from './link-view.js';
import type { Pacer } from './requests.js';
import type { FailedEvent, Message, OutboxEntry, OutboxStorage, SentMessage } from './types.js';
import { errorOf } from './wire.js';

/** A send refused with a temporary error is retried after this long. */
const SEND_RETRY_MS = 1_000;
const REF_CHARS_MAX = 64;

interface Waiter {
  resolve(message: SentMessage): void;
  reject(error: ParleyClientError): void;
}

interface OutboxItem {
  readonly entry: OutboxEntry;
  readonly waiters: Waiter[];
  /** The link generation it was queued for and written on (0: none). */
  queuedOn: number;
  sentOn: number;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
}

export interface OutboxEvents {
  /** The storage failed on a delete: the entry may come back at the next start. */
  storageFailed(error: ParleyClientError): void;
  failed(event: FailedEvent): void;
}

export class OutboxSender {
  readonly #storage: OutboxStorage;
  readonly #link: LinkView;
  readonly #pacer: Pacer;
  readonly #events: OutboxEvents;
  readonly #isClosed: () => boolean;
  /** Resolves once the stored entries are loaded; rejects with the storage's error. */
  readonly loaded: Promise<void>;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #outbox = new Map<string, OutboxItem>();
  /** Sends whose storage write is still under way: pending, not yet transmittable. */
  readonly #staged = new Map<string, OutboxItem>();
  /** The storage writes of staged sends, which close() waits for. */
  readonly #writes = new Set<Promise<boolean>>();

  constructor(
    storage: OutboxStorage,
    link: LinkView,
    pacer: Pacer,
    events: OutboxEvents,
    isClosed: () => boolean,
  ) {
    this.#storage = storage;
    this.#link = link;
    this.#pacer = pacer;
    this.#events = events;
    this.#isClosed = isClosed;
    this.loaded = this.#store((s) => s.load()).then((entries) => {
      for (const entry of entries) this.#outbox.set(entry.ref, newItem(entry));
    });
    this.loaded.catch(() => undefined);
  }

  /** Stores the send, then transmits it (now or after the next welcome); see ParleyClient.send. */
  async send(conversation: string, body: SendableBody, ref: string): Promise<SentMessage> {
    const existing = this.#outbox.get(ref) ?? this.#staged.get(ref);
    if (existing) return waitFor(existing);
    const item = newItem({ ref, conversation, body, createdAt: Date.now() });
    const sent = waitFor(item);
    // close() may reject it while the write below is under way, before it is returned to the
    // caller: without a handler meanwhile, Node would report an unhandled rejection.
    sent.catch(() => undefined);
    // Staged before the first await, so that pending() counts it as soon as send returns.
    this.#staged.set(ref, item);
    const write = this.#write(item);
    this.#writes.add(write);
    const transmittable = await write;
    this.#writes.delete(write);
    this.#staged.delete(ref);
    if (transmittable && !this.#isClosed()) {
      this.#outbox.set(ref, item);
      this.transmit(item);
    }
    return sent;
  }

  /** Writes a staged send to the storage; true when it is then to be transmitted. Never rejects. */
  async #write(item: OutboxItem): Promise<boolean> {
    try {
      await this.loaded;
      const restored = this.#outbox.get(item.entry.ref); // the ref was in the stored outbox
      if (restored) {
        restored.waiters.push(...item.waiters.splice(0));
        return false;
      }
      await this.#store((s) => s.put(item.entry));
      return true;
    } catch (err) {
      for (const waiter of item.waiters.splice(0)) waiter.reject(storageError(err));
      return false;
    }
  }

  /** Unacknowledged sends, oldest first: the outbox, then what is staged (sent after it all). */
  pending(): OutboxEntry[] {
    return [...this.#outbox.values(), ...this.#staged.values()].map((i) => i.entry);
  }

  /** After a welcome: every entry goes out on the new link, in outbox order. */
  transmitAll(): void {
    for (const item of this.#outbox.values()) this.transmit(item);
  }

  /** Queues one entry for the current link, once per link. */
  transmit(item: OutboxItem): void {
    const gen = this.#link.gen;
    if (!this.#link.online || item.queuedOn === gen) return;
    item.queuedOn = gen;
    this.#pacer.pace(() => {
      if (gen !== this.#link.gen || !this.#link.online || item.sentOn === gen) return;
      if (this.#outbox.get(item.entry.ref) !== item) return;
      const { ref, conversation, body } = item.entry;
      this.#link.send({ type: 'send', ref, conversation, body });
      item.sentOn = gen;
    });
  }

  /**
   * The server stored a send: settles it and returns it as the SDK reports it, or undefined for a
   * second answer to a resend (the first settled it).
   */
  sent(
    f: SentFrame,
    sender: { readonly user: string; readonly device: string },
  ): SentMessage | undefined {
    const item = this.#outbox.get(f.ref);
    if (!item) return undefined;
    this.#outbox.delete(f.ref);
    clearTimeout(item.retryTimer);
    this.#forget(f.ref);
    const message: Message = {
      conversation: f.conversation,
      seq: f.seq,
      id: f.messageId,
      sender: sender.user,
      device: sender.device,
      body: item.entry.body,
      at: f.at,
      recalled: false,
      editedAt: null,
      reactions: [],
      hidden: false,
    };
    const sent: SentMessage = { ...message, ref: f.ref, duplicate: f.duplicate === true };
    for (const waiter of item.waiters.splice(0)) waiter.resolve(sent);
    return sent;
  }

  /**
   * An error frame: false when it answers no send of the outbox. A temporary refusal is retried
   * after SEND_RETRY_MS; a permanent one settles the send and leaves the outbox (`failed`).
   */
  refused(f: ErrorFrame): boolean {
    const item = f.ref !== undefined ? this.#outbox.get(f.ref) : undefined;
    if (!item) return false;
    const error = errorOf(f);
    clearTimeout(item.retryTimer);
    if (error.temporary) {
      item.queuedOn = 0;
      item.sentOn = 0;
      item.retryTimer = setTimeout(() => this.transmit(item), SEND_RETRY_MS);
      return true;
    }
    this.#outbox.delete(item.entry.ref);
    this.#forget(item.entry.ref);
    for (const waiter of item.waiters.splice(0)) waiter.reject(error);
    this.#events.failed({ entry: item.entry, error });
    return true;
  }

  /** The client closed: what waits fails with `error`; the entries stay in the storage. */
  close(error: ParleyClientError): void {
    for (const item of [...this.#outbox.values(), ...this.#staged.values()]) {
      clearTimeout(item.retryTimer);
      for (const waiter of item.waiters.splice(0)) waiter.reject(error);
    }
  }

  /** Resolves once the storage calls made so far, and the writes of staged sends, are done. */
  async flushed(): Promise<void> {
    await Promise.all(this.#writes);
    await this.#queue;
  }

  #forget(ref: string): void {
    this.#store((s) => s.delete(ref)).catch((cause: unknown) =>
      this.#events.storageFailed(
        new ParleyClientError('bad_response', 'The outbox storage failed.', { cause }),
      ),
    );
  }

  #store<T>(op: (storage: OutboxStorage) => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => op(this.#storage));
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/** Throws the coded error for a bad conversation id, body or ref (checked before any storage). */
export function checkSend(
  conversationId: string,
  body: SendableBody,
  ref: string | undefined,
): void {
  if (typeof conversationId !== 'string' || conversationId === '') {
    throw new ParleyClientError(
      'invalid_request',
      'The conversation id must be a non-empty string.',
    );
  }
  if (typeof body !== 'object' || body === null || typeof body.kind !== 'string') {
    throw new ParleyClientError('invalid_request', 'The body must be an object with a "kind".');
  }
  if (ref !== undefined && (typeof ref !== 'string' || ref === '' || ref.length > REF_CHARS_MAX)) {
    throw new ParleyClientError('invalid_request', `A ref is 1 to ${REF_CHARS_MAX} characters.`);
  }
}

/** 128 random bits, hex: unique per device without coordination. */
export function newRef(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}

function newItem(entry: OutboxEntry): OutboxItem {
  return { entry, waiters: [], queuedOn: 0, sentOn: 0, retryTimer: undefined };
}

function waitFor(item: OutboxItem): Promise<SentMessage> {
  return new Promise((resolve, reject) => item.waiters.push({ resolve, reject }));
}

/** A storage failure as the SDK reports it; a client error (a closed client) stays as it is. */
function storageError(err: unknown): ParleyClientError {
  if (err instanceof ParleyClientError) return err;
  return new ParleyClientError('bad_response', 'The outbox storage failed.', { cause: err });
}
