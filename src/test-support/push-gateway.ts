// Test helper: a push gateway (docs/push.md) on a real HTTP port that records every notification
// it is sent, and answers 410 (a dead registration) for the device token "dead".
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

/** A push gateway: records every POST; answers 410 for the token "dead". */
export async function startPushGateway(): Promise<PushGateway> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(raw) as Omit<Received, 'path' | 'raw'>;
      received.push({ path: req.url ?? '', raw, ...body });
      res.writeHead(body.device.token === 'dead' ? 410 : 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, close: () => server.close() };
}
