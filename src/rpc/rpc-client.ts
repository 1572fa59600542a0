import {
  Metadata,
  credentials,
  waitForClientReady,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import type { Logger } from '../core/logger.js';
import { rpcPackage, type RpcMethods, type RpcService } from './schema.js';
import { bearer } from './service-token.js';
import { fromServiceError, parleyCodeOf } from './status.js';

// A promise-based client of Parley's gRPC services, for the `--role http` node and for other
// Node backends. Failures reject with the ParleyError the server answered (status.ts); a call
// that reached no Parley server rejects with `unavailable`, saying the target is unreachable.

export interface RpcClientOptions {
  /** host:port */
  readonly target: string;
  readonly token: string;
  /** Deadline of each call. Default 10 s. */
  readonly callTimeoutMs?: number;
  /** Longest wait between two attempts to reach a target that is down. Default 1 s. */
  readonly reconnectBackoffMaxMs?: number;
  /** Told once when the target stops answering, and once when it answers again. */
  readonly logger?: Logger;
}

// gRPC's own backoff grows to 120 s: a target back after a minute's outage would stay unused for
// up to two more, while every call failed at once. Re-dialling a down target once a second costs
// a refused TCP connect; that is the bound on how long a returned target waits to be used.
const RECONNECT_BACKOFF_MAX_MS = 1_000;
const RECONNECT_BACKOFF_INITIAL_MS = 100;

type UnaryMethod = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: number },
  callback: (err: ServiceError | null, response: unknown) => void,
) => void;

export class RpcClient {
  private readonly clients: Record<RpcService, Client>;
  private readonly authorization: string;
  private readonly callTimeoutMs: number;
  private readonly target: string;
  private readonly logger: Logger | undefined;
  /** The last call reached no Parley server: the next one that does is logged as the return. */
  private unreachable = false;

  constructor(options: RpcClientOptions) {
    const pkg = rpcPackage();
    const creds = credentials.createInsecure();
    const backoffMaxMs = options.reconnectBackoffMaxMs ?? RECONNECT_BACKOFF_MAX_MS;
    const channel = {
      'grpc.initial_reconnect_backoff_ms': Math.min(RECONNECT_BACKOFF_INITIAL_MS, backoffMaxMs),
      'grpc.max_reconnect_backoff_ms': backoffMaxMs,
    };
    this.clients = {
      IMService: new pkg.IMService(options.target, creds, channel),
      ParleyService: new pkg.ParleyService(options.target, creds, channel),
    };
    this.authorization = bearer(options.token);
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.target = options.target;
    this.logger = options.logger;
  }

  call<S extends RpcService, M extends keyof RpcMethods[S] & string>(
    service: S,
    method: M,
    request: RpcMethods[S][M] extends [infer Req, unknown] ? Partial<Req> : never,
    extra: Readonly<Record<string, string>> = {},
  ): Promise<RpcMethods[S][M] extends [unknown, infer Res] ? Res : never> {
    const metadata = new Metadata();
    metadata.set('authorization', this.authorization);
    for (const [key, value] of Object.entries(extra)) metadata.set(key, value);
    const fn = (this.clients[service] as unknown as Record<string, UnaryMethod>)[method];
    if (!fn) return Promise.reject(new Error(`no method ${service}.${method}`));
    return new Promise((resolve, reject) =>
      fn.call(
        this.clients[service],
        request,
        metadata,
        { deadline: Date.now() + this.callTimeoutMs },
        (err, response) => {
          this.noteReach(err === null || parleyCodeOf(err) !== null, err);
          if (err) reject(fromServiceError(err));
          else resolve(response as never);
        },
      ),
    );
  }

  /** Logs the target's outage and its return once each, not once per failed call. */
  private noteReach(reached: boolean, err: ServiceError | null): void {
    if (reached === !this.unreachable) return;
    this.unreachable = !reached;
    if (reached) this.logger?.info({ rpcTarget: this.target }, 'rpc target reachable again');
    else {
      this.logger?.warn(
        { rpcTarget: this.target, grpcCode: err?.code, details: err?.details },
        'rpc target unreachable',
      );
    }
  }

  /** Resolves once a connection to the target is up, rejects if none is within `ms`. */
  waitForReady(ms: number): Promise<void> {
    return new Promise((resolve, reject) =>
      waitForClientReady(this.clients.IMService, Date.now() + ms, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  close(): void {
    for (const client of Object.values(this.clients)) client.close();
  }
}
