// Test helpers: a push gateway (docs/push.md) on a real HTTP port that records every notification
// it is sent, answers 410 (a dead registration) for the device token "dead" and a redirect for
// "redirect"; and a trap, a listener that must receive nothing, on any loopback address
// (127.0.0.2, 127.0.0.3, … route to lo on Linux).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PushGateway {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every notification received, oldest first. */
  readonly received: Received[];
  close(): void;
}

export interface Received {
  readonly path: string;
  readonly raw: string;
  readonly notification: { conversation: string; seq: number; sender: string; kind: string };
  readonly device: { user: string; device: string; token: string | null };
}

/**
 * A push gateway: records every POST; answers 410 for the token "dead", and 307 to
 * `redirectTo` for the token "redirect".
 */
export async function startPushGateway(
  options: { redirectTo?: string } = {},
): Promise<PushGateway> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(raw) as Omit<Received, 'path' | 'raw'>;
      received.push({ path: req.url ?? '', raw, ...body });
      const token = body.device.token;
      if (token === 'redirect' && options.redirectTo) {
        res.writeHead(307, { location: options.redirectTo }).end();
      } else {
        res.writeHead(token === 'dead' ? 410 : 200).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, close: () => server.close() };
}

export interface Trap {
  /** `http://<host>:<port>` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** TCP connections accepted so far: a trap must see none. */
  readonly connections: () => number;
  close(): Promise<void>;
}

/** A listener that counts every connection it accepts and answers 200 to anything. */
export async function startTrap(host = '127.0.0.1'): Promise<Trap> {
  let connections = 0;
  const server = createServer((_req, res) => res.end('trapped'));
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    host,
    port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
