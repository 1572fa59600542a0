import type { Logger } from '../core/logger.js';
import type { SessionEnds } from './session-ends.js';

// Closes live links whose session ended anywhere: another node, another process (the admin
// CLI on the same SQLite file), an expiry, a new login of the same device. Every `pollMs` it reads
// the sessions ended within a window several polls long (so a late commit is not missed; see the
// SessionEnds contract) and hands their token hashes to `ended`, which closes what it holds.

export interface SessionWatchOptions {
  readonly store: SessionEnds;
  readonly ended: (tokenHashes: readonly string[]) => void;
  readonly logger: Logger;
  /** How often to read the log: the bound on how late a link learns its session ended. */
  readonly pollMs: number;
}

/** Entries older than this are pruned; far longer than any window read. */
const KEEP_MS = 10 * 60_000;
const PRUNE_EVERY_MS = 60_000;

export class SessionWatch {
  private readonly options: SessionWatchOptions;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private prunedAtMs = 0;

  constructor(options: SessionWatchOptions) {
    this.options = options;
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.options.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One read of the log; overlapping reads are skipped (the next covers them). */
  async poll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { store, ended, pollMs, logger } = this.options;
    try {
      const hashes = await store.endedWithin(Math.max(10_000, pollMs * 10));
      if (hashes.length > 0) ended(hashes);
      if (Date.now() - this.prunedAtMs >= PRUNE_EVERY_MS) {
        this.prunedAtMs = Date.now();
        await store.prune(KEEP_MS);
      }
    } catch (err) {
      logger.warn({ err }, 'reading ended sessions failed; the next poll retries');
    } finally {
      this.running = false;
    }
  }
}
