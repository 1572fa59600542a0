import { ParleyError } from '../core/errors.js';
import type { DirectGuard } from '../messaging/index.js';
import type { ContactStore } from './contact-store.js';

/** Bounded cache of pair answers: when full it is dropped whole. */
const ENTRIES_MAX = 100_000;

const blockedError = (): ParleyError =>
  new ParleyError('blocked', 'One of you has blocked the other; unblock to message.');

const pairKey = (a: string, b: string): string => (a < b ? `${a}:${b}` : `${b}:${a}`);

/**
 * Refuses direct messages between two users when either has blocked the other. Answers are cached
 * per pair when `cache` is on (one node), and forgotten on every block or unblock this node
 * makes. A cluster runs without the cache: another node's block could not reach it, and a
 * primary-key read per direct send is cheap.
 */
export class BlockGuard implements DirectGuard {
  private readonly store: ContactStore;
  private readonly cache: Map<string, boolean> | null;
  /** Bumped on every forget: an answer read before a change is not cached after it. */
  private epoch = 0;
  private readonly reading = new Map<string, { epoch: number; answer: Promise<boolean> }>();

  constructor(store: ContactStore, options: { cache: boolean }) {
    this.store = store;
    this.cache = options.cache ? new Map() : null;
  }

  async assertMayMessage(senderId: string, peerId: string): Promise<void> {
    if (await this.isBlocked(senderId, peerId)) throw blockedError();
  }

  knownVerdict(senderId: string, peerId: string): ParleyError | null | undefined {
    const cached = this.cache?.get(pairKey(senderId, peerId));
    return cached === undefined ? undefined : cached ? blockedError() : null;
  }

  async isBlocked(a: string, b: string): Promise<boolean> {
    const key = pairKey(a, b);
    const cached = this.cache?.get(key);
    if (cached !== undefined) return cached;
    const epoch = this.epoch;
    // Concurrent asks for one pair share one read (a burst of sends at start-up).
    let reading = this.reading.get(key);
    if (!reading || reading.epoch !== epoch) {
      reading = { epoch, answer: this.store.isBlocked(a, b) };
      const mine = reading;
      this.reading.set(key, mine);
      void mine.answer.then(
        () => this.reading.get(key) === mine && this.reading.delete(key),
        () => this.reading.get(key) === mine && this.reading.delete(key),
      );
    }
    const blocked = await reading.answer;
    if (this.cache && epoch === this.epoch) {
      if (this.cache.size >= ENTRIES_MAX) this.cache.clear();
      this.cache.set(key, blocked);
    }
    return blocked;
  }

  /** Called after a block or unblock of this pair commits. */
  forget(a: string, b: string): void {
    this.epoch++;
    this.cache?.delete(pairKey(a, b));
  }
}
