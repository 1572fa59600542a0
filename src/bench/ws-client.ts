import WebSocket, { type RawData } from 'ws';
import type { BenchUser } from './target.js';

// The benchmark's real-time client: one WebSocket with the JSON codec (parley.v1.json), as lean
// as a client can be so that the server, not the client, is what is measured. It answers server
// pings by itself; every other frame goes to `onFrame`, except replies to request(), which
// resolve their promise instead.

export type Frame = { readonly type: string; readonly [key: string]: unknown };

const SUBPROTOCOL = 'parley.v1.json';
/** Handshake plus welcome, per connection. */
export const CONNECT_TIMEOUT_MS = 15_000;

interface Waiting {
  readonly resolve: (frame: Frame) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class BenchClient {
  readonly user: BenchUser;
  onFrame: (frame: Frame) => void = () => undefined;
  /** Called once when the link closes, unless the client closed it itself. */
  onLost: (code: number) => void = () => undefined;
  pingsAnswered = 0;
  isClosed = false;
  private readonly ws: WebSocket;
  private readonly waiting = new Map<string, Waiting>();
  private nextId = 1;
  private closing = false;
  private lastError: Frame | null = null;

  private constructor(ws: WebSocket, user: BenchUser) {
    this.ws = ws;
    this.user = user;
    ws.on('message', (raw: RawData) =>
      this.receive(JSON.parse((raw as Buffer).toString()) as Frame),
    );
    ws.once('close', (code: number) => {
      this.isClosed = true;
      const why = this.lastError ? `: ${String(this.lastError.code)}` : '';
      for (const [id, w] of this.waiting) {
        clearTimeout(w.timer);
        this.waiting.delete(id);
        w.reject(new Error(`link closed (${code}${why})`));
      }
      if (!this.closing) this.onLost(code);
    });
  }

  /** Opens a link and says hello; resolves once welcomed. */
  static async connect(wsUrl: string, user: BenchUser, timeoutMs: number): Promise<BenchClient> {
    const ws = new WebSocket(wsUrl, [SUBPROTOCOL], {
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
    });
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode ?? '?'}`)),
      );
      ws.once('close', (code) => reject(new Error(`closed before open (${code})`)));
      ws.once('error', (err) => reject(err));
    });
    const client = new BenchClient(ws, user);
    try {
      const welcome = await client.request(
        { type: 'hello', token: user.token, device: user.device },
        timeoutMs,
      );
      if (welcome.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(welcome)}`);
    } catch (err) {
      client.drop();
      throw err;
    }
    return client;
  }

  send(frame: object): void {
    if (!this.isClosed) this.ws.send(JSON.stringify(frame));
  }

  /** Sends a frame with a fresh id and resolves with the reply that echoes it. */
  request(frame: object, timeoutMs: number): Promise<Frame> {
    const id = `r${this.nextId++}`;
    return new Promise<Frame>((resolve, reject) => {
      if (this.isClosed) return reject(new Error('link closed'));
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(
          new Error(`no reply to ${(frame as { type?: string }).type ?? '?'} in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      this.send({ ...frame, id });
    });
  }

  /** Closes the link abruptly, like a lost network; onLost is not called. */
  drop(): void {
    this.closing = true;
    this.ws.terminate();
  }

  /** Closes the link with a normal close; onLost is not called. */
  close(): void {
    this.closing = true;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000, 'bench done');
    else this.ws.terminate();
  }

  private receive(frame: Frame): void {
    if (frame.type === 'ping') {
      this.pingsAnswered += 1;
      this.send({ type: 'pong' });
      return;
    }
    if (frame.type === 'error') this.lastError = frame;
    const id = frame.id;
    if (typeof id === 'string') {
      const w = this.waiting.get(id);
      if (w) {
        this.waiting.delete(id);
        clearTimeout(w.timer);
        w.resolve(frame);
        return;
      }
    }
    this.onFrame(frame);
  }
}

/** Connects users with at most `concurrency` handshakes at once; on failure, closes them all. */
export class ClientSet {
  readonly clients: BenchClient[] = [];
  private closed = false;

  /**
   * `wsUrl` may list several nodes: user i then connects to wsUrl[i % length], so that
   * neighbours (the two ends of a direct pair) land on different nodes and a group spreads evenly.
   */
  async connectAll(
    wsUrl: string | readonly string[],
    users: readonly BenchUser[],
    concurrency: number,
    timeoutMs: number,
  ): Promise<BenchClient[]> {
    const out = new Array<BenchClient>(users.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < users.length && !this.closed) {
        const index = next++;
        const url = typeof wsUrl === 'string' ? wsUrl : wsUrl[index % wsUrl.length]!;
        const client = await BenchClient.connect(url, users[index]!, timeoutMs);
        if (this.closed) {
          client.drop();
          return;
        }
        this.clients.push(client);
        out[index] = client;
      }
    };
    const workers = Math.max(1, Math.min(concurrency, users.length));
    await Promise.all(Array.from({ length: workers }, worker));
    if (this.closed) throw new Error('client set closed while connecting');
    return out;
  }

  closeAll(): void {
    this.closed = true;
    for (const client of this.clients) client.close();
  }
}
