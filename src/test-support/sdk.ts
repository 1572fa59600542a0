// Setup shared by the SDK's tests against a real server: the server itself, the clients made on
// it (all closed after the suite), and a recorder of client events.
import { after, before } from 'node:test';
import { createClient, type ParleyClient } from '../sdk/client.js';
import type { ClientEvents, ClientOptions } from '../sdk/types.js';
import { startTestServer, type TestServer } from './server.js';

export interface SdkTestServer {
  /** The server's base URL (once the suite's `before` has run). */
  readonly url: string;
  /** A client of this server, not connected yet; closed after the suite. */
  client(options: Omit<ClientOptions, 'url'>): ParleyClient;
}

/**
 * Call inside a describe: starts a test server before the suite's tests; after them closes every
 * client made with `client()`, then the server.
 */
export function sdkTestServer(): SdkTestServer {
  let server: TestServer | undefined;
  const clients: ParleyClient[] = [];

  before(async () => {
    server = await startTestServer();
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
  });

  const url = (): string => {
    if (!server) throw new Error('the test server has not started');
    return server.url;
  };
  return {
    get url() {
      return url();
    },
    client(options) {
      const c = createClient({ url: url(), ...options });
      clients.push(c);
      return c;
    },
  };
}

/** Records every payload of the events asked for. */
export function record<K extends keyof ClientEvents>(
  client: ParleyClient,
  event: K,
): ClientEvents[K][] {
  const seen: ClientEvents[K][] = [];
  client.on(event, (payload) => seen.push(payload));
  return seen;
}
