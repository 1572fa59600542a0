// Dialling: one WebSocket link at a time, opened with `hello`, renewed after it drops with
// jittered backoff, and the close-code rules of docs/protocol.md §8 (4409 kicked: stop; 4401:
// renew the token or stop; 4429: wait longer). Each attempt and drop bumps the generation, so
// callbacks and queued work of an older link do nothing.
import type { Codec, ClientFrame } from '../protocol/index.js';
import { backoffDelayMs } from './backoff.js';
import { ParleyClientError } from './errors.js';
import { Heartbeat } from './heartbeat.js';
import {
  ABNORMAL_CLOSE,
  LinkError,
  defaultWebSocket,
  loadCodec,
  openLink,
  socketUrl,
  type Link,
} from './link.js';
import type { LinkView, Timer } from './link-view.js';
import type {
  ClientOptions,
  ConnectErrorEvent,
  InboundFrame,
  WebSocketConstructor,
} from './types.js';

/** A link up this long resets the backoff. */
const STABLE_LINK_MS = 60_000;
/** After a 4429 close, wait at least this long. */
const RATE_LIMITED_WAIT_MS = 10_000;
const CLOSE_KICKED = 4409;
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_RATE_LIMITED = 4429;

/** What the connection asks of the client around it. */
export interface ConnectionHost {
  isClosed(): boolean;
  /** A frame of the current link (not yet dispatched). */
  frame(frame: InboundFrame): void;
  /** The current link is gone: its requests fail, its paced writes are dropped. */
  dropped(): void;
  /** A link attempt ended before its welcome. */
  connectFailed(event: ConnectErrorEvent): void;
  /** Between links: a new attempt is scheduled. */
  reconnecting(extra: { readonly code: number; readonly reason?: string }): void;
  /** Stop for good (a kick, a refused token, no way to open a socket). */
  shutdown(error: ParleyClientError, code?: number): void;
  /** `refreshToken` gave a new token; the next hello uses it. */
  tokenRenewed(token: string): void;
}

export class Connection implements LinkView {
  readonly #options: ClientOptions;
  readonly #host: ConnectionHost;
  readonly #heartbeat: Heartbeat;
  #token: string;
  #codec: Promise<Codec> | undefined;
  #webSocket: Promise<WebSocketConstructor> | undefined;

  #gen = 0;
  #link: Link | null = null;
  #online = false;
  #kicked = false;
  /** Backoff attempts since the last stable link. */
  #attempt = 0;
  /** Link attempts that ended before their welcome since the last welcome. */
  #failedAttempts = 0;
  /** When the current link got its welcome; 0 when it has not. */
  #linkUpAt = 0;
  #reconnectTimer: Timer | undefined;
  #helloTimer: Timer | undefined;

  constructor(options: ClientOptions, host: ConnectionHost) {
    this.#options = options;
    this.#host = host;
    this.#token = options.token;
    this.#heartbeat = new Heartbeat(
      () => this.send({ type: 'ping' }),
      () => this.abandon(this.#gen, 'no pong'),
    );
  }

  get gen(): number {
    return this.#gen;
  }

  get online(): boolean {
    return this.#online;
  }

  send(frame: ClientFrame): void {
    this.#link?.send(frame);
  }

  async dial(): Promise<void> {
    const gen = ++this.#gen;
    let link: Link;
    try {
      this.#codec ??= loadCodec(this.#options.codec ?? 'json', this.#options.protoSchema);
      this.#webSocket ??= this.#options.WebSocket
        ? Promise.resolve(this.#options.WebSocket)
        : defaultWebSocket();
      const [codec, WebSocketImpl] = await Promise.all([this.#codec, this.#webSocket]);
      if (gen !== this.#gen || this.#host.isClosed()) return;
      link = await openLink(socketUrl(this.#options.url), codec, WebSocketImpl, {
        onFrame: (frame) => this.#onFrame(gen, frame),
        onClose: (code, reason) => this.#onLinkClosed(gen, code, reason),
      });
    } catch (err) {
      if (gen !== this.#gen || this.#host.isClosed()) return;
      if (err instanceof LinkError) {
        this.#afterClose(err.code, err.message);
      } else {
        // No codec or no WebSocket implementation: retrying cannot help.
        this.#host.shutdown(new ParleyClientError('network', String(err), { cause: err }));
      }
      return;
    }
    if (gen !== this.#gen || this.#host.isClosed()) {
      link.close();
      return;
    }
    this.#link = link;
    this.#heartbeat.received();
    this.#kicked = false;
    link.send({ type: 'hello', id: 'hello', token: this.#token, device: this.#options.device });
    this.#helloTimer = setTimeout(
      () => this.abandon(gen, 'no welcome in time'),
      this.#options.requestTimeoutMs ?? 15_000,
    );
  }

  /** The welcome came: the link is up; `heartbeatMs` is the server's unless set in the options. */
  welcomed(heartbeatMs: number): void {
    clearTimeout(this.#helloTimer);
    this.#online = true;
    this.#linkUpAt = Date.now();
    this.#failedAttempts = 0;
    this.#heartbeat.start(this.#options.heartbeatMs ?? heartbeatMs);
  }

  /** The server said `kicked`: the close that follows ends the client. */
  kicked(): void {
    this.#kicked = true;
  }

  /** Gives up on a link that seems dead (or could not catch up), and reconnects. */
  abandon(gen: number, reason: string): void {
    if (gen !== this.#gen || this.#host.isClosed()) return;
    this.#link?.close();
    this.#drop();
    this.#afterClose(ABNORMAL_CLOSE, reason);
  }

  /** The browser says the network is back: try at once instead of waiting out the backoff. */
  networkBack(reconnecting: boolean): void {
    if (reconnecting && this.#reconnectTimer !== undefined) this.#scheduleDial(0);
    else if (this.#online) this.#heartbeat.probe();
  }

  /** Ends the link and every timer, for good. */
  close(): void {
    this.#link?.close();
    this.#drop();
    clearTimeout(this.#reconnectTimer);
  }

  #onFrame(gen: number, frame: InboundFrame): void {
    if (gen !== this.#gen) return;
    if (this.#options.testDropInbound?.(frame)) return;
    this.#heartbeat.received();
    this.#host.frame(frame);
  }

  #onLinkClosed(gen: number, code: number, reason: string): void {
    if (gen !== this.#gen) return;
    this.#drop();
    this.#afterClose(code, reason);
  }

  /** Forgets the current link: its requests fail, its sends wait for the next one. */
  #drop(): void {
    this.#gen += 1; // callbacks of the dropped link are ignored from here on
    this.#link = null;
    this.#online = false;
    clearTimeout(this.#helloTimer);
    this.#heartbeat.stop();
    this.#host.dropped();
  }

  /** The close-code rules of docs/protocol.md §8. */
  #afterClose(code: number, reason: string): void {
    if (this.#host.isClosed()) return;
    const welcomed = this.#linkUpAt > 0;
    if (!welcomed) this.#connectFailed(code, reason);
    if (code === CLOSE_KICKED || this.#kicked) {
      this.#host.shutdown(new ParleyClientError('kicked'), code);
      return;
    }
    if (code === CLOSE_UNAUTHENTICATED) {
      if (!this.#options.refreshToken) {
        this.#host.shutdown(
          new ParleyClientError('unauthenticated', 'The server refused the token.'),
          code,
        );
        return;
      }
      this.#host.reconnecting({ code, reason });
      void this.#renewToken(code);
      return;
    }
    if (welcomed && Date.now() - this.#linkUpAt >= STABLE_LINK_MS) this.#attempt = 0;
    this.#linkUpAt = 0;
    let delay = backoffDelayMs(this.#backoff(), this.#attempt);
    this.#attempt += 1;
    if (code === CLOSE_RATE_LIMITED) delay = Math.max(delay, RATE_LIMITED_WAIT_MS);
    this.#host.reconnecting({ code, ...(reason ? { reason } : {}) });
    this.#scheduleDial(delay);
  }

  /** A link attempt ended before its welcome: socket.io-client's and centrifuge's connect error. */
  #connectFailed(code: number, reason: string): void {
    this.#failedAttempts += 1;
    const error = new ParleyClientError(
      'connect_failed',
      `The link attempt failed (${code}${reason ? `: ${reason}` : ''}).`,
    );
    this.#host.connectFailed({ error, attempt: this.#failedAttempts, code, reason });
  }

  async #renewToken(code: number): Promise<void> {
    try {
      const token = await this.#options.refreshToken!();
      if (this.#host.isClosed()) return;
      this.#token = token;
      this.#host.tokenRenewed(token);
      this.#scheduleDial(backoffDelayMs(this.#backoff(), this.#attempt++));
    } catch (cause) {
      this.#host.shutdown(
        new ParleyClientError('unauthenticated', 'The token was refused and not renewed.', {
          cause,
        }),
        code,
      );
    }
  }

  #scheduleDial(delayMs: number): void {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (!this.#host.isClosed()) void this.dial();
    }, delayMs);
  }

  #backoff() {
    return {
      baseMs: this.#options.backoffBaseMs ?? 500,
      maxMs: this.#options.backoffMaxMs ?? 30_000,
    };
  }
}
