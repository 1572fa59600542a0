import { ParleyError } from '../core/errors.js';
import type { DirectGuard } from '../messaging/index.js';
import type { ContactStore, DirectBar } from './contact-store.js';

/** Bounded cache of pair answers: when full it is dropped whole. */
const ENTRIES_MAX = 100_000;

const barError = (bar: 'blocked' | 'deleted'): ParleyError =>
  bar === 'blocked'
    ? new ParleyError('blocked', 'One of you has blocked the other; unblock to message.')
    : new ParleyError('account_deleted');

const pairKey = (a: string, b: string): string => (a < b ? `${a}:${b}` : `${b}:${a}`);

/**
 * Refuses direct messages between two users when either has blocked the other (`blocked`) or
 * either account was deleted (`account_deleted`). Answers are cached per pair when `cache` is on
 * (one node), and forgotten on every block or unblock this node makes and on every deletion. A
 * cluster runs without the cache: another node's block could not reach it, and a primary-key
 * read per direct send is cheap.
 */
export class BlockGuard implements DirectGuard {
  private readonly store: ContactStore;
  private readonly cache: Map<string, DirectBar> | null;
  /** Bumped on every forget: an answer read before a change is not cached after it. */
  private epoch = 0;
  private readonly reading = new Map<string, { epoch: number; answer: Promise<DirectBar> }>();

  constructor(store: ContactStore, options: { cache: boolean }) {
    this.store = store;
    this.cache = options.cache ? new Map() : null;
  }

  async assertMayMessage(senderId: string, peerId: string): Promise<void> {
    const bar = await this.barOf(senderId, peerId);
    if (bar !== null) throw barError(bar);
  }

  knownVerdict(senderId: string, peerId: string): ParleyError | null | undefined {
    const cached = this.cache?.get(pairKey(senderId, peerId));
    return cached === undefined ? undefined : cached === null ? null : barError(cached);
  }

  /** Pairs the cache knows are answered from it; the rest in one store read. */
  async barredAmong(userId: string, others: readonly string[]): Promise<ReadonlySet<string>> {
    const barred = new Set<string>();
    const unknown: string[] = [];
    for (const other of others) {
      const cached = this.cache?.get(pairKey(userId, other));
      if (cached === undefined) unknown.push(other);
      else if (cached !== null) barred.add(other);
    }
    if (unknown.length > 0) {
      for (const other of await this.store.barredAmong(userId, unknown)) barred.add(other);
    }
    return barred;
  }

  async barOf(a: string, b: string): Promise<DirectBar> {
    const key = pairKey(a, b);
    const cached = this.cache?.get(key);
    if (cached !== undefined) return cached;
    const epoch = this.epoch;
    // Concurrent asks for one pair share one read (a burst of sends at start-up).
    let reading = this.reading.get(key);
    if (!reading || reading.epoch !== epoch) {
      reading = { epoch, answer: this.store.directBar(a, b) };
      const mine = reading;
      this.reading.set(key, mine);
      void mine.answer.then(
        () => this.reading.get(key) === mine && this.reading.delete(key),
        () => this.reading.get(key) === mine && this.reading.delete(key),
      );
    }
    const bar = await reading.answer;
    if (this.cache && epoch === this.epoch) {
      if (this.cache.size >= ENTRIES_MAX) this.cache.clear();
      this.cache.set(key, bar);
    }
    return bar;
  }

  /** Called after a block or unblock of this pair commits. */
  forget(a: string, b: string): void {
    this.epoch++;
    this.cache?.delete(pairKey(a, b));
  }

  /** Called after an account's deletion commits: its pairs are not known here by user. */
  forgetAll(): void {
    this.epoch++;
    this.cache?.clear();
  }
}
