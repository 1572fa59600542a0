import type { ParleyError } from '../core/errors.js';
import { metricsNowMs, type HotMetrics } from '../core/metrics.js';
import type { AppendRequest, AppendResult, MessageStore } from './message-store.js';

/**
 * Checks a batch before it is stored: one verdict per request, null to store it, an error to
 * refuse it. Runs in submission order, one batch at a time, so a check that has to look
 * something up cannot reorder sends.
 */
export type Vetter = (
  requests: readonly AppendRequest[],
) => (ParleyError | null)[] | Promise<(ParleyError | null)[]>;

interface Pending {
  readonly request: AppendRequest;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (err: unknown) => void;
  /** When it was submitted (metricsNowMs), for the send-to-commit latency. */
  readonly atMs: number;
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
  private vet: Vetter | null = null;

  private readonly metrics: HotMetrics | undefined;

  constructor(store: MessageStore, batchMax: number, metrics?: HotMetrics) {
    this.store = store;
    this.batchMax = batchMax;
    this.metrics = metrics;
  }

  /** Installs the check every batch passes before it is stored (see Vetter). */
  setVetter(vet: Vetter): void {
    this.vet = vet;
  }

  submit(request: AppendRequest): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject, atMs: metricsNowMs() });
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
    let admitted = batch;
    try {
      if (this.vet) {
        const verdicts = await this.vet(batch.map((p) => p.request));
        admitted = [];
        batch.forEach((p, i) => {
          const error = verdicts[i];
          if (error) p.resolve({ ok: false, error });
          else admitted.push(p);
        });
      }
      results = admitted.length > 0 ? await this.store.append(admitted.map((p) => p.request)) : [];
    } catch (err) {
      // One bad send must not fail its neighbours: retry them one by one, so only the send that
      // causes the error (or every send, if the store itself is down) gets it.
      if (admitted.length > 1) {
        for (const p of admitted) await this.commit([p]);
        return;
      }
      for (const p of admitted) p.reject(err);
      return;
    }
    admitted.forEach((p, i) => p.resolve(results[i]!));
    if (admitted.length > 0) this.metrics?.committed(admitted);
  }
}
