import { createHmac } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import { OutboundError, hostOf, type OutboundClient } from '../outbound/index.js';
import type { EventSink, ParleyEvent } from './event-sink.js';

// POSTs each event to every configured URL, signed, with retries and exponential backoff.
// Signature: `X-Parley-Signature: t=<unix ms>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the
// secret>` (the timestamp in the signed payload lets receivers refuse replays). Every POST goes
// through the outbound module: its allow-list is these very URLs, a redirect is a failure (never
// followed), and its timeout and answer cap are the outbound limits.

export interface WebhookOptions {
  readonly urls: readonly string[];
  readonly secret: string;
  readonly logger: Logger;
  /** Allows the operator's webhook URLs (PARLEY_WEBHOOK_URLS); the sink closes it. */
  readonly outbound: OutboundClient;
  /** Events waiting or being retried, per URL; past it the oldest is dropped. */
  readonly queueMax?: number;
  readonly attemptsMax?: number;
  readonly backoffBaseMs?: number;
}

export function signWebhook(secret: string, timestampMs: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampMs}.${body}`).digest('hex');
  return `t=${timestampMs},v1=${mac}`;
}

interface Delivery {
  readonly event: ParleyEvent;
  readonly body: string;
  attempts: number;
  /** Why the last attempt failed, for the give-up log: a code and a secret-free reason. */
  failure?: { readonly code: string; readonly reason: string };
}

/** Counts since start, over every URL (WebhookSink.stats). */
export interface WebhookStats {
  /** Events a receiver accepted (2xx). */
  delivered: number;
  /** Attempts that failed: any other status, or an OutboundError (timeout, refusal, …). */
  failedAttempts: number;
  /** Events given up after their last attempt (shutdown's drops are only logged). */
  gaveUp: number;
  /** Events dropped, unsent, because their URL's queue was full. */
  dropped: number;
}

/** One URL's queue, delivered one event at a time in order. */
class Endpoint {
  readonly url: string;
  private readonly options: Required<WebhookOptions>;
  private readonly stats: WebhookStats;
  private readonly queue: Delivery[] = [];
  private running: Promise<void> | null = null;
  private closing = false;
  /** Cuts the request in flight and the backoff wait short at shutdown. */
  private readonly abort = new AbortController();

  constructor(url: string, options: Required<WebhookOptions>, stats: WebhookStats) {
    this.url = url;
    this.options = options;
    this.stats = stats;
  }

  push(delivery: Delivery): void {
    if (this.queue.length >= this.options.queueMax) {
      // queue[0] may be in flight; the oldest one waiting is the next.
      const dropped = this.queue.splice(1, 1)[0] ?? this.queue.shift();
      this.stats.dropped += 1;
      this.options.logger.warn(
        { host: hostOf(this.url), event: dropped?.event.id },
        'webhook queue full; dropped oldest',
      );
    }
    this.queue.push(delivery);
    // Nobody awaits the loop but close(): a rejection here would be unhandled and end the process.
    this.running ??= this.drain()
      .catch((err: unknown) => {
        this.options.logger.error(
          { host: hostOf(this.url), code: errorName(err) },
          'webhook delivery loop failed',
        );
      })
      .finally(() => (this.running = null));
  }

  /**
   * Gives what is in flight `graceMs` to finish, then aborts it and drops the rest (logged), so
   * a dead receiver cannot hold a node's shutdown.
   */
  async close(graceMs = 2_000): Promise<void> {
    this.closing = true;
    const running = this.running;
    if (!running) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([running, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    if (this.queue.length > 0) {
      this.options.logger.warn(
        { host: hostOf(this.url), dropped: this.queue.length },
        'webhook events dropped at shutdown',
      );
    }
    this.queue.length = 0;
    this.abort.abort();
    await running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const delivery = this.queue[0]!;
      if (await this.attempt(delivery)) {
        this.queue.shift();
        continue;
      }
      delivery.attempts += 1;
      if (delivery.attempts >= this.options.attemptsMax || this.closing) {
        this.options.logger.warn(
          {
            host: hostOf(this.url),
            event: delivery.event.id,
            attempts: delivery.attempts,
            ...delivery.failure,
          },
          'webhook delivery gave up',
        );
        this.stats.gaveUp += 1;
        this.queue.shift();
        continue;
      }
      const delayMs = this.options.backoffBaseMs * 2 ** (delivery.attempts - 1);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.abort.signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, delayMs);
        this.abort.signal.addEventListener('abort', done);
      });
    }
  }

  /** One POST; false when it failed, with why in `delivery.failure`. Never throws. */
  private async attempt(delivery: Delivery): Promise<boolean> {
    const timestamp = Date.now();
    let failure: { code: string; reason: string };
    try {
      const response = await this.options.outbound.request(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-parley-event-id': delivery.event.id,
          'x-parley-event-type': delivery.event.type,
          'x-parley-signature': signWebhook(this.options.secret, timestamp, delivery.body),
        },
        body: delivery.body,
        signal: this.abort.signal,
      });
      if (response.status >= 200 && response.status < 300) {
        this.stats.delivered += 1;
        return true;
      }
      // A 3xx is a failure like a 5xx: the receiver must be configured by its final URL.
      failure = { code: 'status', reason: String(response.status) };
    } catch (err) {
      // Retried with backoff like a 5xx and given up the same way, whatever the cause: a refused
      // URL or address, or a request node:http cannot build, fails again, but that is all. Never
      // rethrown: nobody awaits this loop (and the client rejects with OutboundError only).
      failure =
        err instanceof OutboundError
          ? { code: err.code, reason: err.reason }
          : { code: 'unexpected', reason: errorName(err) };
      // A refusal is logged at once; any other failure once, when the event is given up.
      if (failure.code.endsWith('_refused')) {
        this.options.logger.warn({ host: hostOf(this.url), ...failure }, 'webhook refused');
      }
    }
    this.stats.failedAttempts += 1;
    delivery.failure = failure;
    return false;
  }
}

/** A stranger error's code or class name: its message may quote the URL or a header. */
function errorName(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.name : typeof err;
}

export class WebhookSink implements EventSink {
  /** Counts since start, over every URL. */
  readonly stats: WebhookStats = { delivered: 0, failedAttempts: 0, gaveUp: 0, dropped: 0 };
  private readonly endpoints: Endpoint[];
  private readonly outbound: OutboundClient;

  constructor(options: WebhookOptions) {
    this.outbound = options.outbound;
    const full: Required<WebhookOptions> = {
      queueMax: 10_000,
      attemptsMax: 6,
      backoffBaseMs: 500,
      ...options,
    };
    this.endpoints = options.urls.map((url) => new Endpoint(url, full, this.stats));
  }

  append(event: ParleyEvent): void {
    const body = JSON.stringify(event);
    for (const endpoint of this.endpoints) endpoint.push({ event, body, attempts: 0 });
  }

  /**
   * Delivers what it can within `graceMs`, then drops the rest (see Endpoint.close), and closes
   * the outbound client's idle connections.
   */
  async close(graceMs = 2_000): Promise<void> {
    await Promise.all(this.endpoints.map((e) => e.close(graceMs)));
    this.outbound.close();
  }
}
