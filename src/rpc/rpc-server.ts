import {
  Server,
  ServerCredentials,
  status as Status,
  type Metadata,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { ParleyError, isParleyError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { rpcPackage, type RpcMethods, type RpcService } from './schema.js';
import { ServiceToken } from './service-token.js';
import { toStatus } from './status.js';

// The gRPC listener (docs/rpc.md): IMService and ParleyService on one port, every call checked
// against the service token before its handler runs. Handlers throw ParleyErrors; the status
// table (status.ts) turns them into gRPC statuses. Nothing of a request is logged.

/** A handler: the decoded request and the call's metadata → the response. */
export type RpcHandler<Req, Res> = (request: Req, metadata: Metadata) => Promise<Res>;

export type RpcHandlers<S extends RpcService> = {
  [M in keyof RpcMethods[S]]: RpcMethods[S][M] extends [infer Req, infer Res]
    ? RpcHandler<Req, Res>
    : never;
};

export interface RpcServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly logger: Logger;
  readonly im: RpcHandlers<'IMService'>;
  readonly parley: RpcHandlers<'ParleyService'>;
  /** Told about every call: its method and the gRPC status name it ended with. */
  readonly onCall?: (method: string, code: string) => void;
  /** Largest request message accepted, in bytes. */
  readonly messageBytesMax: number;
}

export interface RpcListener {
  readonly port: number;
  /** Stops taking calls, lets running ones finish (up to `graceMs`), then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

const STATUS_NAMES = Object.fromEntries(
  Object.entries(Status)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v, k]),
) as Record<number, string>;

function implement(
  service: string,
  handlers: Record<string, RpcHandler<unknown, unknown>>,
  token: ServiceToken,
  options: RpcServerOptions,
): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    const name = `${service}.${method}`;
    impl[method] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const done = (code: Status) => options.onCall?.(name, STATUS_NAMES[code] ?? 'UNKNOWN');
      if (!token.matches(call.metadata.get('authorization')[0])) {
        const refusal = toStatus(
          new ParleyError('unauthenticated', 'A valid service token is required.'),
        );
        done(refusal.code);
        callback(refusal);
        return;
      }
      handler(call.request, call.metadata).then(
        (response) => {
          done(Status.OK);
          callback(null, response);
        },
        (err: unknown) => {
          if (!isParleyError(err)) options.logger.error({ err, method: name }, 'rpc call failed');
          const failure = toStatus(err);
          done(failure.code);
          callback(failure);
        },
      );
    };
  }
  return impl;
}

export async function startRpcServer(options: RpcServerOptions): Promise<RpcListener> {
  const pkg = rpcPackage();
  const token = new ServiceToken(options.token);
  const server = new Server({ 'grpc.max_receive_message_length': options.messageBytesMax });
  server.addService(
    pkg.IMService.service,
    implement(
      'IMService',
      options.im as unknown as Record<string, RpcHandler<unknown, unknown>>,
      token,
      options,
    ),
  );
  server.addService(
    pkg.ParleyService.service,
    implement(
      'ParleyService',
      options.parley as unknown as Record<string, RpcHandler<unknown, unknown>>,
      token,
      options,
    ),
  );
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${options.port}`, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  let closing: Promise<void> | null = null;
  return {
    port,
    close: (graceMs = 5_000) =>
      (closing ??= new Promise<void>((resolve) => {
        const cut = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        cut.unref();
        server.tryShutdown(() => {
          clearTimeout(cut);
          resolve();
        });
      })),
  };
}
