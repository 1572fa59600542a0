import type { Config } from '../config/index.js';

/** A started node, as `parley serve` and the tests hold it. */
export interface RunningParley {
  readonly url: string;
  readonly port: number;
  /** The real-time protocol over WebSocket ('' on a `--role http` node, which has none). */
  readonly wsUrl: string;
  /** The TCP transport's port, or null when it is off. */
  readonly tcpPort: number | null;
  /** The gRPC port (docs/rpc.md), or null when it is off. */
  readonly grpcPort: number | null;
  readonly config: Config;
  /** From now on /readyz answers 503 (close() starts with it). */
  drain(): void;
  /** Stops accepting, lets in-flight requests and commits finish, then closes the store. */
  close(): Promise<void>;
}
