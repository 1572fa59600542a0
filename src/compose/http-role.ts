import type { Config } from '../config/index.js';
import type { Logger } from '../core/logger.js';
import { Health, ParleyMetrics, registerOperationsRoutes } from '../observability/index.js';
import { SeedForwarder, registerSeedRoutes } from '../seed/index.js';
import { createHttpApp, registerApiDocs, type HttpApp } from '../server/index.js';
import { Closers } from './closers.js';
import type { RunningParley } from './running.js';

/** The port the HTTP server got and a URL to reach it from this machine. */
export function listeningUrl(app: HttpApp, config: Config): { port: number; url: string } {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host =
    config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  return { port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `--role http` (docs/rpc.md): a node with no store of its own that serves the seed HTTP API
 * (plus /metrics, /healthz, /readyz and the API documentation) and forwards each request to
 * another node's IMService, as the seeds split their HTTP server from their RPC server.
 */
export async function startHttpRole(
  config: Config,
  role: Extract<Config['role'], { kind: 'http' }>,
  log: Logger,
): Promise<RunningParley> {
  const metrics = new ParleyMetrics({ nodeId: config.node.id });
  const closers = new Closers(log);
  // Loaded here, not at the top: a full node without gRPC never loads @grpc (decision 0078).
  const { RpcClient } = await import('../rpc/index.js');
  const client = new RpcClient({ target: role.rpcTarget, token: role.token, logger: log });
  closers.defer('rpc client', () => client.close());
  const forwarder = new SeedForwarder(client);
  const health = new Health({
    checks: [{ name: 'rpc', probe: () => client.waitForReady(1_500) }],
    logger: log,
  });
  const app = createHttpApp({
    bodyBytesMax: config.limits.httpBodyBytesMax,
    logger: log,
    trustProxy: config.http.trustProxy,
  });
  await registerApiDocs(app);
  registerOperationsRoutes(app, { metrics, health });
  registerSeedRoutes(app, {
    seed: forwarder,
    mode: config.http.seedApi,
    authenticate: forwarder.authenticate,
    bodyBytesMax: config.limits.httpBodyBytesMax,
  });
  closers.defer('http', () => app.close());
  try {
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await closers.closeAll().catch(() => undefined);
    throw err;
  }
  const { port, url } = listeningUrl(app, config);
  log.info({ port, url, role: 'http', rpcTarget: role.rpcTarget }, 'parley listening');
  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    wsUrl: '',
    tcpPort: null,
    grpcPort: null,
    config,
    drain: () => health.drain(),
    close: () =>
      (closing ??= (async () => {
        health.drain();
        if (config.drainDelayMs > 0) await sleep(config.drainDelayMs);
        await closers.closeAll();
        log.info('parley stopped');
      })()),
  };
}
