import { systemClock, type Clock } from '../core/clock.js';
import type { Presence, PresenceEntry } from './presence.js';

const keyOf = (e: PresenceEntry): string => JSON.stringify([e.device, e.node]);

/** In-process Presence: the single-process default, shareable by several in-process nodes. */
export class MemoryPresence implements Presence {
  private readonly ttlMs: number;
  private readonly clock: Clock;
  /** user → (device, node) → expiry time. */
  private readonly users = new Map<
    string,
    Map<string, { entry: PresenceEntry; expiresMs: number }>
  >();

  constructor(options: { ttlMs: number; clock?: Clock }) {
    this.ttlMs = options.ttlMs;
    this.clock = options.clock ?? systemClock;
  }

  add(entry: PresenceEntry): Promise<void> {
    let devices = this.users.get(entry.user);
    if (!devices) {
      devices = new Map();
      this.users.set(entry.user, devices);
    }
    devices.set(keyOf(entry), { entry: { ...entry }, expiresMs: this.clock.nowMs() + this.ttlMs });
    return Promise.resolve();
  }

  remove(entry: PresenceEntry): Promise<void> {
    const devices = this.users.get(entry.user);
    devices?.delete(keyOf(entry));
    if (devices?.size === 0) this.users.delete(entry.user);
    return Promise.resolve();
  }

  refresh(entries: readonly PresenceEntry[]): Promise<void> {
    const expiresMs = this.clock.nowMs() + this.ttlMs;
    for (const entry of entries) {
      const live = this.users.get(entry.user)?.get(keyOf(entry));
      if (live) live.expiresMs = expiresMs;
      else void this.add(entry);
    }
    return Promise.resolve();
  }

  locate(userIds: readonly string[]): Promise<Map<string, PresenceEntry[]>> {
    const now = this.clock.nowMs();
    const found = new Map<string, PresenceEntry[]>();
    for (const user of userIds) {
      const devices = this.users.get(user);
      if (!devices) continue;
      const live: PresenceEntry[] = [];
      for (const [key, value] of devices) {
        if (value.expiresMs > now) live.push({ ...value.entry });
        else devices.delete(key);
      }
      if (live.length > 0) found.set(user, live);
      else this.users.delete(user);
    }
    return Promise.resolve(found);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
