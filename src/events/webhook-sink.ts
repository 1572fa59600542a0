import { createHmac } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import { OutboundError, type OutboundClient } from '../outbound/index.js';
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
}

/** One URL's queue, delivered one event at a time in order. */
class Endpoint {
  readonly url: string;
  private readonly options: Required<WebhookOptions>;
  private readonly queue: Delivery[] = [];
  private running: Promise<void> | null = null;
  private closing = false;
  /** Cuts the request in flight and the backoff wait short at shutdown. */
  private readonly abort = new AbortController();

  constructor(url: string, options: Required<WebhookOptions>) {
    this.url = url;
    this.options = options;
  }

  push(delivery: Delivery): void {
    if (this.queue.length >= this.options.queueMax) {
      // queue[0] may be in flight; the oldest one waiting is the next.
      const dropped = this.queue.splice(1, 1)[0] ?? this.queue.shift();
      this.options.logger.warn(
        { host: hostOf(this.url), event: dropped?.event.id },
        'webhook queue full; dropped oldest',
      );
    }
    this.queue.push(delivery);
    this.running ??= this.drain().finally(() => (this.running = null));
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
          { host: hostOf(this.url), event: delivery.event.id, attempts: delivery.attempts },
          'webhook delivery gave up',
        );
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

  private async attempt(delivery: Delivery): Promise<boolean> {
    const timestamp = Date.now();
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
      // A 3xx is a failure like a 5xx: the receiver must be configured by its final URL.
      return response.status >= 200 && response.status < 300;
    } catch (err) {
      // A network error or a timeout: retried with backoff like a 5xx. A refused URL or address
      // would be refused again, but it is logged like any failure and given up the same way.
      if (!(err instanceof OutboundError)) throw err;
      if (err.code === 'url_refused' || err.code === 'address_refused') {
        this.options.logger.warn({ host: hostOf(this.url), reason: err.reason }, 'webhook refused');
      }
      return false;
    }
  }
}

/** Only the host goes to the logs: a webhook URL may carry a credential in its path or query. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid';
  }
}

export class WebhookSink implements EventSink {
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
    this.endpoints = options.urls.map((url) => new Endpoint(url, full));
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
