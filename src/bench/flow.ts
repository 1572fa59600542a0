import { LatencyHistogram } from './histogram.js';
import { CostMeter, costFigures } from './cost.js';
import { procFigures } from './proc-stats.js';
import { latencyFigures } from './report.js';
import type { RunContext, Outcome } from './scenario.js';
import type { BenchClient, Frame } from './ws-client.js';

// The message flow shared by `direct` and `group`: senders send M messages each to their
// conversation, with at most `inflight` unacknowledged and, when `rate` > 0, paced to that many
// per second; every receiver counts the `message` pushes it gets, once per (conversation, seq). The send time rides in the text
// ("bench message <ref> t=<ms>"; bodies take no extra fields), so end-to-end latency is measured
// on the receiving client, in this process.
// The run ends when every send is answered and every acked message delivered, or on the time cap,
// or when nothing has moved for STALL_MS. With --warmup-s, messages sent in the first seconds
// (while the server's code is still being optimized) count for everything but the latencies.

const STALL_MS = 5_000;
const TICK_MS = 10;

export interface FlowSpec {
  readonly senders: readonly { readonly client: BenchClient; readonly conversation: string }[];
  /** Every connected client; each counts the pushes it gets. */
  readonly receivers: readonly BenchClient[];
  /** How many receivers each message must reach. */
  readonly fanout: number;
}

class Sender {
  next = 0;
  readonly inflight = new Map<string, number>();
  constructor(
    readonly index: number,
    readonly client: BenchClient,
    readonly conversation: string,
    /** Staggers paced senders over one interval, so they do not all fire on the same tick. */
    readonly offsetMs: number,
  ) {}
}

export async function runFlow(ctx: RunContext, spec: FlowSpec): Promise<Outcome> {
  const { options, deadline } = ctx;
  const perSender = options.messages;
  const total = spec.senders.length * perSender;
  const intervalMs = options.rate > 0 ? 1000 / options.rate : 0;
  const senders = spec.senders.map(
    (s, i) => new Sender(i, s.client, s.conversation, (intervalMs * i) / spec.senders.length),
  );
  const bySender = new Map(senders.map((s) => [s.client, s]));
  const latency = new LatencyHistogram();
  const ackLatency = new LatencyHistogram();
  const errorCodes = new Map<string, number>();
  let acked = 0;
  let refused = 0;
  let abandoned = 0;
  let delivered = 0;
  let outOfOrder = 0;
  let duplicates = 0;
  let lostLinks = 0;
  let startMs = 0;
  /** Sends before this time (performance.now()) are warm-up: their latencies are not counted. */
  let measureFromMs = 0;
  let lastAckMs = 0;
  let lastDeliveryMs = 0;
  let lastMoveMs = 0;
  let finish: (why: string | null) => void = () => undefined;
  const finished = new Promise<string | null>((resolve) => (finish = resolve));

  const settled = () => acked + refused + abandoned >= total && delivered >= acked * spec.fanout;

  const pump = (s: Sender, now: number): void => {
    const allowed =
      intervalMs === 0
        ? perSender
        : Math.min(perSender, Math.floor((now - startMs - s.offsetMs) / intervalMs) + 1);
    while (s.next < allowed && s.inflight.size < options.inflight && !s.client.isClosed) {
      const ref = `${s.index}-${s.next++}`;
      const t = performance.now();
      s.inflight.set(ref, t);
      s.client.send({
        type: 'send',
        ref,
        conversation: s.conversation,
        body: { kind: 'text', text: `bench message ${ref} t=${t}` },
      });
    }
  };

  const answered = (s: Sender, frame: Frame): void => {
    const ref = frame.ref;
    const sentAt = typeof ref === 'string' ? s.inflight.get(ref) : undefined;
    if (sentAt === undefined) return;
    s.inflight.delete(ref as string);
    const now = performance.now();
    lastMoveMs = now;
    if (frame.type === 'sent') {
      acked += 1;
      lastAckMs = now;
      if (sentAt >= measureFromMs) ackLatency.recordMs(now - sentAt);
    } else {
      refused += 1;
      const code = String(frame.code);
      errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
    }
    if (intervalMs === 0) pump(s, now);
    if (settled()) finish(null);
  };

  for (const client of spec.receivers) {
    // Per conversation: every seq this receiver got (a repeat is a duplicate) and the highest one
    // (a push below it arrived out of seq order: still delivered, but counted and failed).
    const seen = new Map<string, { readonly seqs: Set<number>; highest: number }>();
    const sender = bySender.get(client);
    client.onFrame = (frame) => {
      if (frame.type === 'message') {
        const conversation = frame.conversation as string;
        const seq = frame.seq as number;
        let mine = seen.get(conversation);
        if (mine === undefined) seen.set(conversation, (mine = { seqs: new Set(), highest: 0 }));
        if (mine.seqs.has(seq)) {
          duplicates += 1;
          return;
        }
        mine.seqs.add(seq);
        if (seq < mine.highest) outOfOrder += 1;
        else mine.highest = seq;
        const now = performance.now();
        delivered += 1;
        lastDeliveryMs = lastMoveMs = now;
        const t = sendTimeOf(frame.body);
        if (t !== null && t >= measureFromMs) latency.recordMs(now - t);
        if (settled()) finish(null);
      } else if (sender && (frame.type === 'sent' || frame.type === 'error')) {
        answered(sender, frame);
      }
    };
    client.onLost = () => {
      lostLinks += 1;
      if (sender) {
        abandoned += sender.inflight.size + (perSender - sender.next);
        sender.inflight.clear();
        sender.next = perSender;
      }
      if (settled()) finish(null);
    };
  }

  const meter = new CostMeter(ctx.target);
  await meter.begin();
  startMs = lastMoveMs = performance.now();
  measureFromMs = startMs + options.warmupS * 1000;
  ctx.progress.start(
    () =>
      `sent ${acked}/${total}  delivered ${delivered}  ` +
      `${Math.round(acked / Math.max(0.001, (performance.now() - startMs) / 1000))}/s  ` +
      `in flight ${senders.reduce((n, s) => n + s.inflight.size, 0)}`,
  );
  const ticker = setInterval(() => {
    const now = performance.now();
    if (deadline.expired) return finish(`time cap of ${options.durationS} s hit`);
    if (now - lastMoveMs > STALL_MS) return finish(`stalled: nothing moved for ${STALL_MS} ms`);
    if (intervalMs > 0) for (const s of senders) pump(s, now);
  }, TICK_MS);
  for (const s of senders) pump(s, startMs);
  if (settled()) finish(null);
  const stopReason = await finished;
  clearInterval(ticker);
  ctx.progress.stop();
  const cost = await meter.end();

  const expected = acked * spec.fanout;
  const sendSpanS = Math.max(1e-3, (lastAckMs - startMs) / 1000);
  const deliverySpanS = Math.max(1e-3, (lastDeliveryMs - startMs) / 1000);
  const failures: string[] = [];
  if (stopReason !== null) failures.push(stopReason);
  if (delivered < expected || expected === 0) {
    failures.push(
      `delivery ${delivered}/${expected} (${((delivered / Math.max(1, expected)) * 100).toFixed(2)}%)`,
    );
  }
  if (acked < total) failures.push(`only ${acked} of ${total} sends acknowledged`);
  if (delivered > 0 && latency.count === 0) {
    failures.push(
      `every message was sent in the ${options.warmupS} s warm-up: no latency measured`,
    );
  }
  if (refused > 0)
    failures.push(`sends refused: ${[...errorCodes].map(([c, n]) => `${c}×${n}`).join(', ')}`);
  if (lostLinks > 0) failures.push(`${lostLinks} connection(s) lost`);
  if (duplicates > 0) failures.push(`${duplicates} push(es) duplicated`);
  if (outOfOrder > 0) {
    failures.push(`${outOfOrder} push(es) arrived after a higher seq of their conversation`);
  }
  return {
    failures,
    figures: {
      sentPerSec: acked / sendSpanS,
      deliveredPerSec: delivered / deliverySpanS,
      deliveryRate: expected > 0 ? delivered / expected : 0,
      ...latencyFigures('latency', latency.percentiles()),
      latencyMeasured: latency.count,
      ackP50Ms: ackLatency.percentiles()?.p50 ?? null,
      ackP99Ms: ackLatency.percentiles()?.p99 ?? null,
      sent: acked,
      delivered,
      expected,
      errors: refused + lostLinks + duplicates + outOfOrder,
      outOfOrder,
      elapsedMs: Math.max(lastAckMs, lastDeliveryMs) - startMs,
      ...procFigures(cost.proc),
      ...costFigures(cost, delivered),
    },
  };
}

/** The send time a bench message carries at the end of its text, or null. */
function sendTimeOf(body: unknown): number | null {
  const text = (body as { text?: unknown } | undefined)?.text;
  if (typeof text !== 'string') return null;
  const at = text.lastIndexOf(' t=');
  const t = at < 0 ? NaN : Number(text.slice(at + 3));
  return Number.isFinite(t) ? t : null;
}
