// The request table: a frame with an id goes out, the answer that echoes the id settles it.
// Requests wait for the link (up to `requestTimeoutMs`), time out, and fail with `disconnected`
// when their link drops: whether they happened is then unknown, as for any request on a lost
// connection. The Pacer keeps sends under the server's rate.
import { TokenBucket } from '../core/token-bucket.js';
import type { ClientFrame, ServerFrame } from '../protocol/index.js';
import { ParleyClientError } from './errors.js';
import type { LinkView, Timer } from './link-view.js';
import type { InboundFrame } from './types.js';
import { errorOf } from './wire.js';

interface PendingRequest {
  resolve(frame: InboundFrame): void;
  reject(error: ParleyClientError): void;
}

interface OnlineWaiter {
  resolve(): void;
  reject(error: ParleyClientError): void;
}

/** Client-side pacing of send, recall, edit, react and typing: they share the server's bucket. */
export class Pacer {
  readonly #bucket: TokenBucket;
  readonly #intervalMs: number;
  readonly #queue: (() => void)[] = [];
  #timer: Timer | undefined;

  constructor(ratePerSec: number, burstMax: number) {
    this.#bucket = new TokenBucket(ratePerSec, burstMax, Date.now());
    this.#intervalMs = Math.max(1, Math.ceil(1000 / ratePerSec));
  }

  /** Runs `write` now if the rate allows, else in turn after the ones before it. */
  pace(write: () => void): void {
    this.#queue.push(write);
    this.#pump();
  }

  /** Forgets what waits (its link dropped; each write checked its link anyway). */
  clear(): void {
    this.#queue.length = 0;
  }

  stop(): void {
    this.clear();
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #pump(): void {
    if (this.#timer !== undefined) return;
    while (this.#queue.length > 0 && this.#bucket.take(Date.now())) this.#queue.shift()?.();
    if (this.#queue.length > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, this.#intervalMs);
    }
  }
}

export class RequestTable {
  readonly #link: LinkView;
  readonly #pacer: Pacer;
  readonly #timeoutMs: number;
  readonly #isClosed: () => boolean;
  readonly #requests = new Map<string, PendingRequest>();
  readonly #onlineWaiters = new Set<OnlineWaiter>();
  #nextId = 1;

  constructor(link: LinkView, pacer: Pacer, timeoutMs: number, isClosed: () => boolean) {
    this.#link = link;
    this.#pacer = pacer;
    this.#timeoutMs = timeoutMs;
    this.#isClosed = isClosed;
  }

  /**
   * Sends `frame` with a fresh id once the link is up and resolves with the answer of type
   * `expect` that echoes the id; an error frame rejects with its code.
   */
  async request<T extends ServerFrame>(
    frame: ClientFrame,
    expect: T['type'],
    paced = false,
  ): Promise<T> {
    const deadline = Date.now() + this.#timeoutMs;
    await this.whenOnline(deadline);
    const gen = this.#link.gen;
    const id = `r${this.#nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#requests.delete(id);
        reject(new ParleyClientError('timeout'));
      }, deadline - Date.now());
      this.#requests.set(id, {
        resolve: (answer) => {
          clearTimeout(timer);
          if (answer.type === expect) resolve(answer as T);
          else
            reject(
              new ParleyClientError('bad_response', `Expected ${expect}, got ${answer.type}.`),
            );
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      const write = () => {
        if (gen === this.#link.gen && this.#link.online) this.#link.send({ ...frame, id });
      };
      if (paced) this.#pacer.pace(write);
      else write();
    });
  }

  /** Settles the request this frame answers; false when it answers none (a push, a late one). */
  answer(id: string, frame: InboundFrame): boolean {
    const request = this.#requests.get(id);
    if (!request) return false;
    this.#requests.delete(id);
    if (frame.type === 'error')
      request.reject(errorOf(frame as Extract<ServerFrame, { type: 'error' }>));
    else request.resolve(frame);
    return true;
  }

  /** Resolves when the link is welcomed; rejects with `code` at the deadline, or on close. */
  whenOnline(deadline: number, code: 'timeout' | 'connect_timeout' = 'timeout'): Promise<void> {
    if (this.#link.online) return Promise.resolve();
    if (this.#isClosed()) return Promise.reject(new ParleyClientError('client_closed'));
    return new Promise((resolve, reject) => {
      const waiter: OnlineWaiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.#onlineWaiters.delete(waiter);
        reject(new ParleyClientError(code, 'The link did not come up in time.'));
      }, deadline - Date.now());
      this.#onlineWaiters.add(waiter);
    });
  }

  /** The link got its welcome: what waits for it goes ahead. */
  online(): void {
    for (const waiter of this.#onlineWaiters) waiter.resolve();
    this.#onlineWaiters.clear();
  }

  /** The link dropped: its requests fail with `disconnected`. */
  dropped(): void {
    for (const request of this.#requests.values()) {
      request.reject(new ParleyClientError('disconnected'));
    }
    this.#requests.clear();
  }

  /** The client closed: what waits for a link fails with `error`. */
  close(error: ParleyClientError): void {
    this.dropped();
    for (const waiter of this.#onlineWaiters) waiter.reject(error);
    this.#onlineWaiters.clear();
  }
}
