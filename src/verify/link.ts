// One WebSocket link of a verify client (JSON codec): hello, requests matched to their answers by
// id, sends matched by ref, and a heartbeat that declares the link dead when pongs stop, the way
// protocol.md §8 tells a client to notice a node that froze or a network that went silent.
import { setTimeout as sleep } from 'node:timers/promises';
import type WebSocket from 'ws';

const HELLO_WAIT_MS = 5_000;
const REQUEST_WAIT_MS = 10_000;
const PING_INTERVAL_MS = 1_000;
/** No pong for this long: the link is dead, whatever TCP thinks. */
const PONG_WAIT_MS = 3_000;

/** A frame as the JSON codec decodes it. */
export type Frame = { readonly type: string; readonly [key: string]: unknown };

/** The link closed before the answer came: the answer is unknown. */
export class LinkClosed extends Error {}

/** The answer was an error: the request did nothing, and may be tried again. */
export class RequestFailed extends LinkClosed {}

export class Link {
  readonly closed: Promise<void>;
  ready = false;
  closeReason = '';
  private readonly ws: WebSocket;
  private readonly onPush: (frame: Frame) => void;
  private readonly pending = new Map<string, (frame: Frame) => void>();
  private readonly sends = new Map<string, (frame: Frame) => void>();
  private readonly resends = new Map<string, { answer: Promise<Frame>; rearm: () => void }>();
  private nextId = 0;
  private lastPongAt = Date.now();
  private isClosed = false;

  constructor(ws: WebSocket, onPush: (frame: Frame) => void) {
    this.ws = ws;
    this.onPush = onPush;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code) => {
        this.finish(this.closeReason || `closed ${code}`);
        resolve();
      });
    });
    ws.on('error', (err) => this.finish(`error ${err.message}`));
    ws.on('message', (data: Buffer) => this.onFrame(JSON.parse(data.toString('utf8')) as Frame));
  }

  /** Sends `hello` once the socket is open; resolves with the node id of `welcome`. */
  async hello(token: string, device: string): Promise<string> {
    const opened = new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      void this.closed.then(() => reject(new LinkClosed(this.closeReason)));
    });
    const timer = setTimeout(() => this.close('hello timeout'), HELLO_WAIT_MS);
    try {
      await opened;
      const welcome = await this.request({ type: 'hello', token, device });
      if (welcome.type !== 'welcome') {
        this.close(`hello refused: ${String(welcome.code)}`);
        throw new LinkClosed(this.closeReason);
      }
      this.ready = true;
      return String(welcome.node);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A request answered by a frame with its id. With `expect`, any other answer (an `error`, such
   * as `internal` while the database is away) rejects with RequestFailed: try again later.
   */
  async request(frame: Record<string, unknown>, expect?: string): Promise<Frame> {
    const id = String(++this.nextId);
    const answer = await this.await(this.pending, id, () => this.write({ ...frame, id }));
    if (expect !== undefined && answer.type !== expect) {
      throw new RequestFailed(`${String(frame.type)}: ${answer.type} ${String(answer.code)}`);
    }
    return answer;
  }

  /**
   * A `send`; resolves with its `sent` or `error` (matched by ref). Written again while the first
   * write waits, it keeps the one wait (re-armed), so that either answer settles it.
   */
  send(ref: string, conversation: string, body: unknown): Promise<Frame> {
    const id = String(++this.nextId);
    const frame = { type: 'send', id, ref, conversation, body };
    const waiting = this.resends.get(ref);
    if (waiting) {
      waiting.rearm();
      this.write(frame);
      return waiting.answer;
    }
    let rearm = (): void => {};
    const answer = this.await(
      this.sends,
      ref,
      () => this.write(frame),
      (r) => (rearm = r),
    );
    this.resends.set(ref, { answer, rearm: () => rearm() });
    void answer.finally(() => this.resends.delete(ref)).catch(() => {});
    return answer;
  }

  write(frame: Record<string, unknown>): void {
    if (!this.isClosed) this.ws.send(JSON.stringify(frame));
  }

  /** Pings every second; closes the link when a pong is late. Resolves when the link is gone. */
  async keepAlive(): Promise<void> {
    this.lastPongAt = Date.now();
    while (!this.isClosed) {
      if (Date.now() - this.lastPongAt > PONG_WAIT_MS) {
        this.close('no pong');
        break;
      }
      this.write({ type: 'ping', id: `p${++this.nextId}` });
      await Promise.race([sleep(PING_INTERVAL_MS), this.closed]);
    }
  }

  close(reason = 'closed by client'): void {
    if (!this.closeReason) this.closeReason = reason;
    this.ws.terminate();
    this.finish(reason);
  }

  private await(
    table: Map<string, (frame: Frame) => void>,
    key: string,
    write: () => void,
    onRearm?: (rearm: () => void) => void,
  ): Promise<Frame> {
    if (this.isClosed) return Promise.reject(new LinkClosed(this.closeReason));
    return new Promise((resolve, reject) => {
      const expire = (): void => {
        table.delete(key);
        reject(new LinkClosed('no answer'));
      };
      let timer = setTimeout(expire, REQUEST_WAIT_MS);
      onRearm?.(() => {
        clearTimeout(timer);
        timer = setTimeout(expire, REQUEST_WAIT_MS);
      });
      table.set(key, (frame) => {
        clearTimeout(timer);
        table.delete(key);
        if (frame.type === 'closed') reject(new LinkClosed(this.closeReason));
        else resolve(frame);
      });
      write();
    });
  }

  private onFrame(frame: Frame): void {
    const id = typeof frame.id === 'string' ? frame.id : undefined;
    if (frame.type === 'pong') {
      this.lastPongAt = Date.now();
    } else if (frame.type === 'ping') {
      this.write({ type: 'pong', id });
    } else if (frame.type === 'sent' || (frame.type === 'error' && frame.ref !== undefined)) {
      const waiting = this.sends.get(String(frame.ref));
      if (waiting) waiting(frame);
      else this.onPush(frame); // no wait left for it: the client still records it
    } else if (id !== undefined && this.pending.has(id)) {
      this.pending.get(id)!(frame);
    } else if (frame.type === 'kicked' || (frame.type === 'error' && id === undefined)) {
      this.closeReason ||= `${frame.type} ${String(frame.code ?? frame.reason)}`;
    } else {
      this.onPush(frame);
    }
  }

  private finish(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.ready = false;
    if (!this.closeReason) this.closeReason = reason;
    const closed: Frame = { type: 'closed' };
    for (const answer of [...this.pending.values(), ...this.sends.values()]) answer(closed);
  }
}
