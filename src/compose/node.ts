import type { Config } from '../config/index.js';
import { createLogger, type Logger } from '../core/logger.js';
import { activeTestBug } from '../core/test-bugs.js';
import { ParleyMetrics } from '../observability/index.js';
import type { OutboundClient } from '../outbound/index.js';
import { Closers } from './closers.js';
import { joinCluster, openCluster } from './cluster.js';
import { composeEvents, outboundClient } from './events.js';
import { composeHttp, type HttpEdge } from './http.js';
import { listeningUrl, sleep, startHttpRole } from './http-role.js';
import { listenAll, type Listening } from './realtime.js';
import type { RunningParley } from './running.js';
import { composeServices, registerDeletionSteps } from './services.js';
import { openBlobStore, openStores } from './stores.js';

/**
 * Starts a node: the stores, the cluster (with Redis), the capabilities, then the edges. Every
 * part registers its closing with one Closers as it opens, so a start that fails halfway and a
 * normal stop tear down the same way.
 */
export async function startParley(config: Config, logger?: Logger): Promise<RunningParley> {
  const log = logger ?? createLogger(config.log.level, config.node.id);
  if (config.role.kind === 'http') return startHttpRole(config, config.role, log);
  const metrics = new ParleyMetrics({ nodeId: config.node.id });
  // Built before anything opens: a bad entry stops the start with nothing to clean up.
  // Registration and sending check pusher URLs against this one list (src/outbound/).
  const pushOutbound = outboundClient(config, config.push.gateways, 'PARLEY_PUSH_GATEWAYS');
  const webhookOutbound = outboundClient(config, config.events.webhookUrls, 'PARLEY_WEBHOOK_URLS');
  const closers = new Closers(log);
  closers.defer('push outbound', () => pushOutbound.close());
  try {
    return await startFullNode(config, log, metrics, closers, { pushOutbound, webhookOutbound });
  } catch (err) {
    await closers.closeAll().catch(() => undefined);
    throw err;
  }
}

async function startFullNode(
  config: Config,
  log: Logger,
  metrics: ParleyMetrics,
  closers: Closers,
  outbound: { readonly pushOutbound: OutboundClient; readonly webhookOutbound: OutboundClient },
): Promise<RunningParley> {
  const { stores, cluster, blobs } = await openFoundations(config, log, metrics, closers);
  const services = composeServices({
    config,
    log,
    metrics,
    stores,
    cluster,
    blobs,
    pushOutbound: outbound.pushOutbound,
  });
  const feed = composeEvents(config, cluster, log, metrics, services, outbound.webhookOutbound);
  closers.defer('events', () => feed.events.close());
  const http = await composeHttp({
    config,
    log,
    metrics,
    stores,
    cluster,
    services,
    pushOutbound: outbound.pushOutbound,
  });
  if (config.push.gateways.length > 0) {
    await services.pushes.start();
    services.messaging.events.subscribe(services.pushes);
  }
  // The feed hears events last, and its deletion event goes out before the other steps' effects.
  feed.subscribe();
  registerDeletionSteps(services);
  closers.defer('push notifier', () => services.pushes.stop());
  closers.defer('profile push', () => services.profilePush.close());
  if (cluster) {
    const stopBeat = await joinCluster(config, cluster, services.router, services.messaging, log);
    closers.defer('cluster beat', stopBeat);
  }
  // In-flight commits finish once every edge that submits them has closed.
  closers.defer('commits', () => services.committer.flush());
  const { tcp, rpc } = await listenAll({
    config,
    log,
    metrics,
    stores,
    services,
    http,
    closers,
  });
  const running = runningNode(config, log, http, closers, { tcp, rpc });
  const bug = activeTestBug();
  if (bug) log.warn({ bug }, 'a deliberate bug is on (PARLEY_TEST_BUG): this server loses data');
  log.info(
    {
      port: running.port,
      url: running.url,
      tcpPort: running.tcpPort,
      grpcPort: running.grpcPort,
      store: config.store.kind,
      cluster: cluster !== null,
      seedApi: config.http.seedApi,
    },
    'parley listening',
  );
  return running;
}

/** The started node as its holder sees it: where it listens, and how it drains and stops. */
function runningNode(
  config: Config,
  log: Logger,
  http: HttpEdge,
  closers: Closers,
  listening: Listening,
): RunningParley {
  const { port, url } = listeningUrl(http.app, config);
  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    wsUrl: url.replace(/^http/, 'ws') + '/ws',
    tcpPort: listening.tcp?.port ?? null,
    grpcPort: listening.rpc?.port ?? null,
    config,
    drain: () => http.health.drain(),
    close: () =>
      (closing ??= (async () => {
        // Not ready first, so that load balancers stop sending (docs/operations.md). Then
        // clients are told to reconnect elsewhere (1012) before the listeners stop; their
        // presence is cleared while Redis is still there; in-flight commits finish last.
        http.health.drain();
        if (config.drainDelayMs > 0) await sleep(config.drainDelayMs);
        await closers.closeAll();
        log.info('parley stopped');
      })()),
  };
}

/** The stores, the cluster (with Redis) and the blob store, each closed after what uses it. */
async function openFoundations(
  config: Config,
  log: Logger,
  metrics: ParleyMetrics,
  closers: Closers,
) {
  const stores = await openStores(config, log);
  closers.defer('stores', () => stores.close());
  if ('searchBacklog' in stores) {
    metrics.gaugeFrom(
      'parley_search_backlog',
      'Messages stored but not yet in the search index (SQLite).',
      () => stores.searchBacklog(),
    );
  }
  const cluster = config.redis ? await openCluster(config, config.redis, log, metrics) : null;
  if (cluster) closers.defer('cluster', () => cluster.close());
  const blobs = await openBlobStore(config.attachments.blobStore);
  closers.defer('blobs', () => blobs.close());
  return { stores, cluster, blobs };
}
