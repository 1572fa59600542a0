import { asError, type ParleyError } from '../core/errors.js';
import { metricsNowMs, type HotMetrics } from '../core/metrics.js';
import type { AppendRequest, AppendResult, MessageLog } from './store/index.js';

/**
 * Checks a batch before it is stored: one verdict per request, null to store it, an error to
 * refuse it. Runs in submission order, one batch at a time, so a check that has to look
 * something up cannot reorder sends.
 */
export type Vetter = (
  requests: readonly AppendRequest[],
) => (ParleyError | null)[] | Promise<(ParleyError | null)[]>;

/**
 * Called once with a send's result, or with the error that kept it from being stored (its batch
 * failed, also when retried alone). A refusal (a vetter's or the store's) is a result.
 */
export type Committed = (result: AppendResult | undefined, error?: unknown) => void;

interface Pending {
  readonly request: AppendRequest;
  readonly done: Committed;
  /** When it was submitted (metricsNowMs), for the send-to-commit latency. */
  readonly atMs: number;
}

/**
 * Group commit: every send submitted in one event-loop turn goes into one store transaction.
 * While a batch is being written, new sends queue up and form the next batch, so under load the
 * batch grows with the store's latency instead of each send paying for its own commit.
 * At most `batchMax` sends go into one transaction.
 *
 * Batches are vetted and handed to the store one at a time, in submission order. With
 * `pipeline` 1 (the default) the next batch waits for the previous commit. A store that commits
 * the batches it is given strictly in order may take a deeper pipeline (the SQLite append thread
 * takes 4): later batches are handed over while one is being written, so the event loop and the
 * writer work at once; a batch goes ahead of one in flight only once it has `pipelinedBatchMin`
 * sends. Results are still delivered in batch order, and if a batch fails,
 * nothing later is handed over until its sends have been retried one by one (see settle), so a
 * link's sends keep their order in every case.
 */
export class GroupCommitter {
  private readonly store: MessageLog;
  private readonly batchMax: number;
  private readonly pipeline: number;
  private readonly pipelinedBatchMin: number;
  private queue: Pending[] = [];
  private running: Promise<void> | null = null;
  private vet: Vetter | null = null;
  /** Set while a failed batch is retried: nothing new is handed to the store meanwhile. */
  private failing: Promise<void> | null = null;
  /** Wakes a drain that waits with room in its pipeline (see drainSoon). */
  private wake: (() => void) | null = null;

  private readonly metrics: HotMetrics | undefined;

  constructor(
    store: MessageLog,
    batchMax: number,
    metrics?: HotMetrics,
    options: { pipeline?: number; pipelinedBatchMin?: number } = {},
  ) {
    this.store = store;
    this.batchMax = batchMax;
    this.metrics = metrics;
    this.pipeline = Math.max(1, options.pipeline ?? 1);
    this.pipelinedBatchMin = Math.max(1, options.pipelinedBatchMin ?? PIPELINED_BATCH_MIN);
  }

  /** Installs the check every batch passes before it is stored (see Vetter). */
  setVetter(vet: Vetter): void {
    this.vet = vet;
  }

  /** enqueue() as a promise: for callers off the hot path (and the tests). */
  submit(request: AppendRequest): Promise<AppendResult> {
    return new Promise((resolve, reject) =>
      this.enqueue(request, (result, error) => (result ? resolve(result) : reject(asError(error)))),
    );
  }

  /**
   * submit() without a promise: `done` is called once the send is committed or refused. The
   * real-time send path uses it, so that a send in flight holds one small record, not a chain
   * of promises (under load tens of thousands are in flight, and each one is garbage to collect).
   */
  enqueue(request: AppendRequest, done: Committed): void {
    this.queue.push({ request, done, atMs: metricsNowMs() });
    if (this.running === null) this.running = this.drainSoon();
    else if (this.queue.length >= this.pipelinedBatchMin) this.wake?.();
  }

  /** Resolves once everything submitted so far is committed (or failed). */
  async flush(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private async drainSoon(): Promise<void> {
    // Let every send of this turn arrive before the first transaction starts.
    await nextTurn();
    const inFlight: { readonly done: Promise<void>; settled: boolean }[] = [];
    let previous: Promise<void> = Promise.resolve();
    try {
      while (this.queue.length > 0 || inFlight.length > 0) {
        // A batch goes ahead of another still in flight only if it is big enough to be worth a
        // handoff of its own; small ones wait and grow (each handoff has a fixed cost).
        const ready =
          inFlight.length === 0
            ? this.queue.length > 0
            : inFlight.length < this.pipeline && this.queue.length >= this.pipelinedBatchMin;
        if (ready) {
          while (this.failing) await this.failing;
          const handed = await this.hand(this.queue.splice(0, this.batchMax));
          const entry = { done: this.settle(handed, previous), settled: false };
          void entry.done.then(() => (entry.settled = true));
          previous = entry.done;
          inFlight.push(entry);
          continue;
        }
        // Wait for the oldest commit; while the pipeline has room, also wake when a send
        // arrives, to hand it over without waiting for the batch ahead.
        const oldest = inFlight[0]!.done;
        if (inFlight.length < this.pipeline) {
          await Promise.race([oldest, new Promise<void>((resolve) => (this.wake = resolve))]);
          this.wake = null;
        } else {
          await oldest;
        }
        while (inFlight[0]?.settled) inFlight.shift();
      }
    } finally {
      this.running = null;
    }
  }

  /** Vets a batch and hands what passes to the store; refused sends are answered at once. */
  private async hand(batch: Pending[], retrying = false): Promise<Handed> {
    let admitted = batch;
    try {
      if (this.vet) {
        const verdicts = await this.vet(batch.map((p) => p.request));
        admitted = [];
        batch.forEach((p, i) => {
          const error = verdicts[i];
          if (error) p.done({ ok: false, error });
          else admitted.push(p);
        });
      }
    } catch (err) {
      return {
        admitted,
        results: Promise.reject(asError(err)),
      };
    }
    if (this.pipeline > 1 && !retrying) {
      // One microtask is enough for the batch ahead, if it failed at once (an inline store), to
      // have been caught by settle(), which then set `failing`: wait for its retry.
      await Promise.resolve();
      while (this.failing) await this.failing;
    }
    const results =
      admitted.length > 0 ? this.store.append(admitted.map((p) => p.request)) : Promise.resolve([]);
    // Observed here so that a rejection is never unhandled while the batch waits its turn.
    results.catch(() => undefined);
    return { admitted, results };
  }

  /**
   * Answers a handed batch once it and every batch before it are settled. A batch the store
   * rejects as a whole is retried one send at a time, after the batches before it, and while
   * it is, the drain hands nothing new to the store: so only the send that causes the error (or
   * every send, if the store itself is down) gets it, and no later send overtakes it.
   */
  private async settle(handed: Handed, previous: Promise<void>): Promise<void> {
    const { admitted } = handed;
    let results: AppendResult[];
    try {
      results = await handed.results;
    } catch {
      // Every send is tried once more alone, also the only send of a batch: with a pipeline, a
      // batch may have failed for the batch ahead of it (the store died under both).
      const retry = (async () => {
        await previous;
        for (const p of admitted) {
          // Vetted again, as a batch of its own: the vet itself may have been what failed.
          const alone = await this.hand([p], true);
          try {
            const [result] = await alone.results;
            if (result) {
              p.done(result);
              this.metrics?.committed([p]);
            }
          } catch (error) {
            p.done(undefined, error);
          }
        }
      })();
      this.failing = retry;
      try {
        await retry;
      } finally {
        if (this.failing === retry) this.failing = null;
      }
      return;
    }
    await previous;
    admitted.forEach((p, i) => p.done(results[i]));
    if (admitted.length > 0) this.metrics?.committed(admitted);
  }
}

interface Handed {
  readonly admitted: Pending[];
  readonly results: Promise<AppendResult[]>;
}

/** The smallest batch handed over while another is still in flight (see drainSoon). */
const PIPELINED_BATCH_MIN = 64;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
