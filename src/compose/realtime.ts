import { readFileSync } from 'node:fs';
import type { Config } from '../config/index.js';
import type { Logger } from '../core/logger.js';
import { SessionWatch } from '../auth/index.js';
import {
  Gateway,
  attachWsTransport,
  listenTcpTransport,
  type TcpListener,
} from '../gateway/index.js';
import type { ParleyMetrics } from '../observability/index.js';
import { jsonCodec } from '../protocol/index.js';
import { createProtoCodec } from '../protocol/proto/index.js';
import type { RpcListener } from '../rpc/index.js';
import { imServiceHandlers } from '../seed/index.js';
import type { Closers } from './closers.js';
import type { HttpEdge } from './http.js';
import type { Services } from './services.js';
import type { Stores } from './stores.js';

// The real-time edges of a full node: the gateway on WebSocket (on the HTTP server) and TCP, the
// watch that closes links whose session ended, and gRPC. Each registers its closing as it opens.

/** The Protobuf schema, two directories up from both src/compose/ and dist/compose/. */
const PROTO_FILE = new URL('../../proto/parley.proto', import.meta.url);

export interface RealtimeInputs {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: ParleyMetrics;
  readonly stores: Stores;
  readonly services: Services;
  readonly http: HttpEdge;
  readonly closers: Closers;
}

export interface Listening {
  readonly tcp: TcpListener | null;
  readonly rpc: RpcListener | null;
}

/**
 * Builds the gateway and its WebSocket transport on the HTTP server, then listens: HTTP, gRPC
 * and TCP. Closing runs the other way: links first, then the listeners.
 */
export async function listenAll(inputs: RealtimeInputs): Promise<Listening> {
  const { config, log, metrics, services, http, closers } = inputs;
  const { auth, messaging, router } = services;
  const authenticate = (token: string | undefined) => auth.authenticate(token);
  let tcp: TcpListener | null = null;
  let rpc: RpcListener | null = null;
  // Registered first, so closed last: the listeners stop once the links on them are gone.
  closers.defer('grpc', () => rpc?.close());
  closers.defer('http', () => http.app.close());
  closers.defer('tcp', () => tcp?.close());
  const gateway = new Gateway({
    authenticate,
    linkClosed: (userId, device, livedMs) => auth.linkClosed(userId, device, livedMs),
    messaging,
    router,
    limits: config.limits,
    logger: log,
    nodeId: config.node.id,
    metrics,
    reads: http.reads,
  });
  const codecs = { json: jsonCodec, proto: createProtoCodec(readFileSync(PROTO_FILE, 'utf8')) };
  const accept = gateway.accept.bind(gateway);
  const closeWs = attachWsTransport({
    server: http.app.server,
    path: '/ws',
    frameBytesMax: config.limits.frameBytesMax,
    codecs,
    accept,
  });
  closers.defer('websocket', closeWs);
  closers.defer('gateway', () => gateway.close());
  // Every way a session ends, in any process, closes the links using it (docs/security.md).
  const sessionWatch = new SessionWatch({
    store: inputs.stores.sessionEnds,
    ended: (hashes) => gateway.sessionsEnded(hashes),
    logger: log,
    pollMs: config.limits.sessionWatchIntervalMs,
  });
  sessionWatch.start();
  closers.defer('session watch', () => sessionWatch.stop());

  await http.app.listen({ host: config.http.host, port: config.http.port });
  if (config.grpc) {
    // gRPC and its .proto loader are loaded only by a node that serves gRPC (decision 0078).
    const { parleyServiceHandlers, startRpcServer } = await import('../rpc/index.js');
    rpc = await startRpcServer({
      ...config.grpc,
      logger: log,
      messageBytesMax: config.limits.httpBodyBytesMax,
      onCall: (method, code) => metrics.rpcCall(method, code),
      im: imServiceHandlers({ seed: http.seed, mode: config.http.seedApi, authenticate }),
      parley: parleyServiceHandlers({ messaging, users: services.users, auth, router }),
    });
  }
  if (config.tcp) {
    tcp = await listenTcpTransport({
      ...config.tcp,
      frameBytesMax: config.limits.frameBytesMax,
      codec: codecs.proto,
      accept,
    });
  }
  return { tcp, rpc };
}
