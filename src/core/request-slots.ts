import { ParleyError } from './errors.js';

// Bounds how many heavy reads (pull, sync, history, search, export) one key (a user) has in
// flight on this node, across its connections and HTTP requests. A read holds a page in memory
// while it is read and encoded, so this, times limits.pageBytesMax, bounds what one user can make
// the node hold (docs/security.md). Later reads wait in order; past `queuedMax` waiting they are
// refused with rate_limited. Node-local on purpose: memory is per node.

export class RequestSlots {
  private readonly inFlightMax: number;
  private readonly queuedMax: number;
  private readonly keys = new Map<string, { active: number; waiting: (() => void)[] }>();

  constructor(inFlightMax: number, queuedMax: number) {
    this.inFlightMax = inFlightMax;
    this.queuedMax = queuedMax;
  }

  /** Runs `fn` in one of the key's slots, waiting for one if need be. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    await this.take(key);
    try {
      return await fn();
    } finally {
      this.release(key);
    }
  }

  /**
   * Takes one of the key's slots, waiting for one if need be, and returns its release (which
   * acts once). For reads whose answer is still held after `fn` would return: an HTTP response
   * that is being written keeps its slot until the response closes.
   */
  async acquire(key: string): Promise<() => void> {
    await this.take(key);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.release(key);
    };
  }

  /** Reads in flight for this key (for tests and metrics). */
  active(key: string): number {
    return this.keys.get(key)?.active ?? 0;
  }

  private take(key: string): Promise<void> {
    let entry = this.keys.get(key);
    if (!entry) {
      entry = { active: 0, waiting: [] };
      this.keys.set(key, entry);
    }
    if (entry.active < this.inFlightMax) {
      entry.active += 1;
      return Promise.resolve();
    }
    if (entry.waiting.length >= this.queuedMax) {
      return Promise.reject(
        new ParleyError('rate_limited', 'Too many reads at once; wait for the answers.', {
          retryAfterMs: 1000,
        }),
      );
    }
    const waiting = entry.waiting;
    // The slot passes straight to the waiter: `active` stays as it is (see release).
    return new Promise((resolve) => waiting.push(resolve));
  }

  private release(key: string): void {
    const entry = this.keys.get(key);
    if (!entry) return;
    const next = entry.waiting.shift();
    if (next) return next();
    entry.active -= 1;
    if (entry.active === 0) this.keys.delete(key);
  }
}
