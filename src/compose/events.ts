import type { Config } from '../config/index.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { EventPublisher, RedisStreamSink, WebhookSink, type EventSink } from '../events/index.js';
import type { ParleyMetrics } from '../observability/index.js';
import { AllowList, OutboundClient } from '../outbound/index.js';
import type { Cluster } from './cluster.js';
import type { Services } from './services.js';

// The event feed (docs/events.md): a Redis stream on a cluster, webhooks where the operator
// named them, and the outbound clients every request the server makes goes through.

export /** An outbound client that may reach exactly `urls` (the operator's), with the outbound limits. */
function outboundClient(config: Config, urls: readonly string[], setting: string): OutboundClient {
  return new OutboundClient({
    allow: AllowList.parse(urls, `${setting} entry`),
    timeoutMs: config.limits.outboundTimeoutMs,
    responseBytesMax: config.limits.outboundResponseBytesMax,
  });
}

export function eventSinks(
  config: Config,
  cluster: Cluster | null,
  log: Logger,
  webhooks: OutboundClient,
): EventSink[] {
  const sinks: EventSink[] = [];
  if (cluster) {
    sinks.push(
      new RedisStreamSink({
        redis: cluster.redis,
        stream: config.events.stream,
        lengthMax: config.events.streamLengthMax,
        logger: log,
      }),
    );
  }
  if (config.events.webhookUrls.length > 0) {
    sinks.push(
      new WebhookSink({
        urls: config.events.webhookUrls,
        secret: config.events.webhookSecret,
        logger: log,
        outbound: webhooks,
      }),
    );
  }
  return sinks;
}

/**
 * The event publisher over the configured sinks, and how to subscribe it to what it reports
 * (the caller does, once every other subscriber is in). Without a sink (a single node with no
 * webhook) it subscribes to nothing: every event would be built for nobody.
 */
export function composeEvents(
  config: Config,
  cluster: Cluster | null,
  log: Logger,
  metrics: ParleyMetrics,
  services: Services,
  webhookOutbound: OutboundClient,
): { events: EventPublisher; subscribe: () => void } {
  const sinks = eventSinks(config, cluster, log, webhookOutbound);
  const webhookSink = sinks.find((s): s is WebhookSink => s instanceof WebhookSink);
  if (webhookSink) {
    const { stats } = webhookSink;
    metrics.countersFrom(
      'parley_webhook_events_total',
      'Webhook deliveries by outcome: delivered, failed (one attempt), given_up, dropped.',
      'result',
      () => ({
        delivered: stats.delivered,
        failed: stats.failedAttempts,
        given_up: stats.gaveUp,
        dropped: stats.dropped,
      }),
    );
  }
  const events = new EventPublisher({ sinks, node: config.node.id, clock: systemClock });
  const subscribe = (): void => {
    if (sinks.length > 0) subscribeEvents(services, events);
  };
  return { events, subscribe };
}

/** The feed hears messages, actions, profiles and deletions, after every other subscriber. */
function subscribeEvents(services: Services, events: EventPublisher): void {
  services.messaging.events.subscribe(events);
  services.messaging.events.subscribeActions(events);
  services.profiles.subscribe(events);
  services.auth.onDeletion({ deleted: (account) => events.accountDeleted(account) });
}
