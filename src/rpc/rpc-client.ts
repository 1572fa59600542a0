import {
  Metadata,
  credentials,
  waitForClientReady,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { rpcPackage, type RpcMethods, type RpcService } from './schema.js';
import { bearer } from './service-token.js';
import { fromServiceError } from './status.js';

// A promise-based client of Parley's gRPC services, for the `--role http` node and for other
// Node backends. Failures reject with the ParleyError the server answered (status.ts).

export interface RpcClientOptions {
  /** host:port */
  readonly target: string;
  readonly token: string;
  /** Deadline of each call. Default 10 s. */
  readonly callTimeoutMs?: number;
}

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

  constructor(options: RpcClientOptions) {
    const pkg = rpcPackage();
    const creds = credentials.createInsecure();
    this.clients = {
      IMService: new pkg.IMService(options.target, creds),
      ParleyService: new pkg.ParleyService(options.target, creds),
    };
    this.authorization = bearer(options.token);
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
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
        (err, response) => (err ? reject(fromServiceError(err)) : resolve(response as never)),
      ),
    );
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
