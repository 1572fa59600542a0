import type { AppendRequest, AppendResult, MessageStore } from './message-store.js';

interface Pending {
  readonly request: AppendRequest;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Group commit: every send submitted in one event-loop turn goes into one store transaction.
 * While a batch is being written, new sends queue up and form the next batch, so under load the
 * batch grows with the store's latency instead of each send paying for its own commit.
 * At most `batchMax` sends go into one transaction; one batch is in flight at a time.
 */
export class GroupCommitter {
  private readonly store: MessageStore;
  private readonly batchMax: number;
  private queue: Pending[] = [];
  private running: Promise<void> | null = null;
  /** Called after each committed batch with its size, for metrics. */
  onBatch: ((size: number) => void) | null = null;

  constructor(store: MessageStore, batchMax: number) {
    this.store = store;
    this.batchMax = batchMax;
  }

  submit(request: AppendRequest): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (this.running === null) this.running = this.drainSoon();
    });
  }

  /** Resolves once everything submitted so far is committed (or failed). */
  async flush(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private async drainSoon(): Promise<void> {
    // Let every send of this turn arrive before the first transaction starts.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.batchMax);
        await this.commit(batch);
      }
    } finally {
      this.running = null;
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    let results: AppendResult[];
    try {
      results = await this.store.append(batch.map((p) => p.request));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]!));
    this.onBatch?.(batch.length);
  }
}
