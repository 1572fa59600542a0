// The real-time client: docs/protocol.md §8 as code. It keeps one link open (reconnecting with
// jittered backoff), resends its outbox with the original refs after every welcome, catches up
// with sync and pull, and hands the application each message once, in seq order per
// conversation, with every gap closed before what follows it.
//
// Gap rule. Per conversation, `seen` is the highest seq up to which every message was emitted.
// A message above seen + 1 (a push, or the `sent` of an own send) is held back, and a pull
// {after: seen} fetches what lies between. The pull is the authority: seqs it skips are not
// visible to this user (history before a join, say) and are not waited for.
import { TokenBucket } from '../core/token-bucket.js';
import type { Codec } from '../protocol/index.js';
import type {
  ClientFrame,
  ContactFrame,
  ProfileFrame,
  EditedFrame,
  ErrorFrame,
  HiddenFrame,
  MemberFrame,
  PresenceFrame,
  PulledFrame,
  ReactionFrame,
  ReceiptFrame,
  RecalledFrame,
  SentFrame,
  ServerFrame,
  SyncedFrame,
  WelcomeFrame,
  WireMessage,
} from '../protocol/index.js';
import { ParleyApi } from './api.js';
import { backoffDelayMs } from './backoff.js';
import { readBody, type EditBody, type SendableBody } from './body.js';
import { Emitter, type Handler } from './emitter.js';
import { ParleyClientError } from './errors.js';
import {
  ABNORMAL_CLOSE,
  LinkError,
  defaultWebSocket,
  loadCodec,
  openLink,
  socketUrl,
  type Link,
} from './link.js';
import { MemoryOutbox } from './outbox.js';
import type {
  ClientEventName,
  ClientEvents,
  ClientOptions,
  ClientState,
  ConversationState,
  EditedEvent,
  HiddenEvent,
  InboundFrame,
  Message,
  MessagePage,
  OutboxEntry,
  OutboxStorage,
  PageQuery,
  ReactionEvent,
  RecalledEvent,
  SentMessage,
  StateEvent,
  WebSocketConstructor,
} from './types.js';

export interface SendOptions {
  /** Your own id for the message (≤ 64 characters, unique per device); generated when absent. */
  readonly ref?: string;
}

/** A conversation first met after the first sync is caught up at most this far back. */
const NEW_CONVERSATION_BACKLOG = 100;
/** Messages per catch-up pull (the server's default `PARLEY_PULL_COUNT_MAX`). */
const PULL_PAGE = 100;
/** Pulls per conversation per catch-up: a bound against a server that never says "no more". */
const CATCH_UP_PULLS_MAX = 10_000;
/** Pulls in a row that bring nothing new before a catch-up gives up and the link is renewed. */
const STALLED_PULLS_MAX = 20;
/** Conversations caught up at once after a reconnect. */
const CATCH_UP_CONCURRENCY = 4;
/** A push above seen + 1 waits this long for the pushes before it, which may be in flight. */
const GAP_FILL_DELAY_MS = 50;
/** Acks are gathered this long and sent as one per conversation. */
const ACK_DELAY_MS = 100;
/** At most one `typing` per conversation this often, as docs/protocol.md asks. */
const TYPING_INTERVAL_MS = 3_000;
/** A send refused with a temporary error is retried after this long. */
const SEND_RETRY_MS = 1_000;
/** How long `connect()` waits for the first welcome by default (socket.io-client's `timeout`). */
const CONNECT_TIMEOUT_MS = 20_000;
/** A link up this long resets the backoff. */
const STABLE_LINK_MS = 60_000;
/** After a 4429 close, wait at least this long. */
const RATE_LIMITED_WAIT_MS = 10_000;
const REF_CHARS_MAX = 64;

/** Answers that are also reported as events (see #onFrame). */
const ACTION_ANSWERS = new Set(['recalled', 'edited', 'reaction', 'hidden']);

const CLOSE_KICKED = 4409;
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_RATE_LIMITED = 4429;

interface Waiter {
  resolve(message: SentMessage): void;
  reject(error: ParleyClientError): void;
}

interface OutboxItem {
  readonly entry: OutboxEntry;
  readonly waiters: Waiter[];
  /** The link generation it was queued for and written on (0: none). */
  queuedOn: number;
  sentOn: number;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
}

interface PendingRequest {
  resolve(frame: InboundFrame): void;
  reject(error: ParleyClientError): void;
}

type Timer = ReturnType<typeof setTimeout>;

export function createClient(options: ClientOptions): ParleyClient {
  return new ParleyClient(options);
}

export class ParleyClient {
  /** REST calls with the same url and token. */
  readonly api: ParleyApi;
  readonly device: string;

  readonly #options: ClientOptions;
  readonly #events: Emitter<ClientEvents>;
  readonly #storage: OutboxStorage;
  readonly #loaded: Promise<void>;
  #storageQueue: Promise<unknown> = Promise.resolve();
  readonly #outbox = new Map<string, OutboxItem>();
  /** Sends whose storage write is still under way: pending, not yet transmittable. */
  readonly #staged = new Map<string, OutboxItem>();

  #token: string;
  #state: ClientState = 'idle';
  #user: { id: string; username: string } | undefined;
  #codec: Promise<Codec> | undefined;
  #webSocket: Promise<WebSocketConstructor> | undefined;

  /** Increments with every link attempt; callbacks of older links check it and do nothing. */
  #gen = 0;
  #link: Link | null = null;
  #online = false;
  #kicked = false;
  #attempt = 0;
  /** Link attempts that ended before their welcome since the last welcome. */
  #failedAttempts = 0;
  #linkUpAt = 0;
  #lastRxAt = 0;
  #pingSentAt: number | null = null;
  #reconnectTimer: Timer | undefined;
  #helloTimer: Timer | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  readonly #onlineWaiters = new Set<{ resolve(): void; reject(e: ParleyClientError): void }>();

  readonly #requests = new Map<string, PendingRequest>();
  #nextRequestId = 1;

  readonly #seen = new Map<string, number>();
  readonly #held = new Map<string, Map<number, Message>>();
  #baselined = false;
  #cursor: string | undefined;
  readonly #filling = new Map<string, Promise<void>>();
  readonly #fillTargets = new Map<string, number>();
  readonly #gapTimers = new Map<string, Timer>();

  /** Conversations this user left or was removed from: no acks for them (not_member). */
  readonly #left = new Set<string>();
  readonly #acks = new Map<string, number>();
  #ackTimer: Timer | undefined;
  readonly #reads = new Map<string, number>();
  readonly #typingAt = new Map<string, number>();

  readonly #bucket: TokenBucket;
  readonly #sendIntervalMs: number;
  readonly #paced: (() => void)[] = [];
  #paceTimer: Timer | undefined;

  readonly #wake = () => this.#onNetworkBack();

  constructor(options: ClientOptions) {
    for (const key of ['url', 'token', 'device'] as const) {
      if (typeof options[key] !== 'string' || options[key] === '') {
        throw new TypeError(`createClient: "${key}" must be a non-empty string.`);
      }
    }
    this.#options = options;
    this.#token = options.token;
    this.device = options.device;
    this.api = new ParleyApi({
      url: options.url,
      token: options.token,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.#events = new Emitter<ClientEvents>((err, event) => this.#handlerFailed(err, event));
    this.#storage = options.outbox ?? new MemoryOutbox();
    const rate = options.sendRatePerSec ?? 40;
    this.#bucket = new TokenBucket(rate, options.sendBurstMax ?? 80, Date.now());
    this.#sendIntervalMs = Math.max(1, Math.ceil(1000 / rate));
    this.#loaded = this.#store((s) => s.load()).then((entries) => {
      for (const entry of entries) this.#outbox.set(entry.ref, newItem(entry));
    });
    this.#loaded.catch(() => undefined);
  }

  // Public API -------------------------------------------------------------------------------

  get state(): ClientState {
    return this.#state;
  }

  /** The logged-in user, known from the first welcome on. */
  get user(): { readonly id: string; readonly username: string } | undefined {
    return this.#user;
  }

  /**
   * Opens the link. Resolves at the first welcome; from then on the client reconnects by itself
   * until `close()`. Rejects with `connect_timeout` when no welcome came within
   * `connectTimeoutMs` (the client keeps trying until `close()`), when the client is closed first
   * (by `close()`, a kick, or a refused token that could not be renewed), or when the outbox
   * cannot be loaded.
   */
  async connect(): Promise<void> {
    if (this.#isClosed()) throw new ParleyClientError('client_closed');
    const deadline = Date.now() + (this.#options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    if (this.#state === 'idle') {
      this.#setState('connecting');
      const wake = (globalThis as { addEventListener?: (t: string, f: () => void) => void })
        .addEventListener;
      wake?.call(globalThis, 'online', this.#wake);
      try {
        await this.#loaded;
      } catch (cause) {
        this.#shutdown(
          new ParleyClientError('bad_response', 'The outbox could not be loaded.', { cause }),
        );
        throw cause;
      }
      void this.#dial();
    }
    // Once welcomed, the client reconnects by itself: a later call has nothing to wait for.
    if (this.#user !== undefined) return;
    await this.#whenOnline(deadline, 'connect_timeout');
  }

  /** Ends the link for good. Unsent messages stay in the outbox storage for the next client. */
  async close(): Promise<void> {
    this.#shutdown();
    await this.#storageQueue;
  }

  /** Adds a handler, typed by the event (ClientEvents); returns the function that removes it. */
  on<K extends ClientEventName>(event: K, handler: Handler<ClientEvents[K]>): () => void {
    return this.#events.on(event, handler);
  }

  /** Adds a handler that runs for the next event of that name only. */
  once<K extends ClientEventName>(event: K, handler: Handler<ClientEvents[K]>): () => void {
    return this.#events.once(event, handler);
  }

  /** Removes a handler added with `on` or `once` (one subscription of it), or, without one, all. */
  off<K extends ClientEventName>(event: K, handler?: Handler<ClientEvents[K]>): void {
    this.#events.off(event, handler);
  }

  /**
   * Stores the send in the outbox, then transmits it (now, or after the next welcome). Resolves
   * with the stored message when the server acknowledges it, however many reconnects that takes;
   * rejects on a permanent refusal (the entry then leaves the outbox) or when the client closes
   * (the entry stays in the outbox storage).
   */
  async send(
    conversationId: string,
    body: SendableBody,
    options: SendOptions = {},
  ): Promise<SentMessage> {
    if (this.#isClosed()) throw new ParleyClientError('client_closed');
    checkSend(conversationId, body, options.ref);
    const ref = options.ref ?? newRef();
    const existing = this.#outbox.get(ref) ?? this.#staged.get(ref);
    if (existing) return waitFor(existing);
    const entry: OutboxEntry = { ref, conversation: conversationId, body, createdAt: Date.now() };
    const item = newItem(entry);
    const sent = waitFor(item);
    // Staged before the first await, so that pending() counts it as soon as send returns.
    this.#staged.set(ref, item);
    try {
      await this.#loaded;
      const restored = this.#outbox.get(ref); // the ref was already in the stored outbox
      if (restored) {
        restored.waiters.push(...item.waiters.splice(0));
        return await sent;
      }
      await this.#store((s) => s.put(entry));
    } catch (err) {
      for (const waiter of item.waiters.splice(0)) waiter.reject(storageError(err));
      return sent;
    } finally {
      this.#staged.delete(ref);
    }
    if (this.#isClosed()) return sent; // #shutdown rejected it
    this.#outbox.set(ref, item);
    this.#transmit(item);
    return sent;
  }

  /** Unacknowledged sends, oldest first (for a "sending…" state in the UI). */
  pending(conversationId?: string): OutboxEntry[] {
    // The outbox first: what is staged was sent after all of it.
    const entries = [...this.#outbox.values(), ...this.#staged.values()].map((i) => i.entry);
    return conversationId === undefined
      ? entries
      : entries.filter((e) => e.conversation === conversationId);
  }

  /**
   * A page of history in ascending seq: over the link when online, else (or when the link drops
   * meanwhile) over REST. It does not emit `message` events; the live stream does that.
   */
  async pull(conversationId: string, query: PageQuery = {}): Promise<MessagePage> {
    if (!this.#online) return this.api.messages.history(conversationId, query);
    try {
      return await this.#pullOverLink(conversationId, query);
    } catch (err) {
      if (!(err instanceof ParleyClientError) || err.code !== 'disconnected') throw err;
      return this.api.messages.history(conversationId, query);
    }
  }

  async #pullOverLink(conversationId: string, query: PageQuery): Promise<MessagePage> {
    const page = await this.#request<PulledFrame>(
      {
        type: 'pull',
        conversation: conversationId,
        ...(query.after !== undefined ? { after: query.after } : {}),
        ...(query.before !== undefined ? { before: query.before } : {}),
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
      },
      'pulled',
    );
    return { messages: page.messages.map(fromWire), hasMore: page.hasMore };
  }

  /** Moves this user's read watermark; sent now, or after the next welcome when offline. */
  markRead(conversationId: string, seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < 1) return;
    this.#reads.set(conversationId, Math.max(seq, this.#reads.get(conversationId) ?? 0));
    this.#flushReads();
  }

  /** Tells the other members that this user is typing; at most once per 3 s per conversation. */
  typing(conversationId: string): void {
    if (!this.#online) return;
    const now = Date.now();
    if (now - (this.#typingAt.get(conversationId) ?? -Infinity) < TYPING_INTERVAL_MS) return;
    this.#typingAt.set(conversationId, now);
    const gen = this.#gen;
    this.#pace(() => {
      if (gen === this.#gen && this.#online) {
        this.#link?.send({ type: 'typing', conversation: conversationId });
      }
    });
  }

  /** Recalls one of this user's messages (within the server's recall window). */
  async recall(conversationId: string, seq: number): Promise<RecalledEvent> {
    const f = await this.#request<RecalledFrame>(
      { type: 'recall', conversation: conversationId, seq },
      'recalled',
      true,
    );
    return { conversation: f.conversation, seq: f.seq, by: f.by };
  }

  /**
   * Replaces the text (and mentions) of one of this user's text messages, within the server's
   * edit window. The body is a `text` body; the message keeps its `replyTo` and `forwardedFrom`.
   */
  async edit(conversationId: string, seq: number, body: EditBody): Promise<EditedEvent> {
    return editedOf(
      await this.#request<EditedFrame>(
        { type: 'edit', conversation: conversationId, seq, body },
        'edited',
        true,
      ),
    );
  }

  /** Adds (or, with `add = false`, takes back) this user's reaction to a message. */
  async react(
    conversationId: string,
    seq: number,
    emoji: string,
    add = true,
  ): Promise<ReactionEvent> {
    return reactionOf(
      await this.#request<ReactionFrame>(
        {
          type: 'react',
          conversation: conversationId,
          seq,
          emoji,
          ...(add ? {} : { remove: true }),
        },
        'reaction',
        true,
      ),
    );
  }

  /** Delete for me: the message reads as `{kind: "hidden"}` for this user from now on. */
  async hide(conversationId: string, seq: number): Promise<HiddenEvent> {
    const f = await this.#request<HiddenFrame>(
      { type: 'hide', conversation: conversationId, seq },
      'hidden',
    );
    return { conversation: f.conversation, seq: f.seq };
  }

  // The link ---------------------------------------------------------------------------------

  async #dial(): Promise<void> {
    const gen = ++this.#gen;
    let link: Link;
    try {
      this.#codec ??= loadCodec(this.#options.codec ?? 'json', this.#options.protoSchema);
      this.#webSocket ??= this.#options.WebSocket
        ? Promise.resolve(this.#options.WebSocket)
        : defaultWebSocket();
      const [codec, WebSocketImpl] = await Promise.all([this.#codec, this.#webSocket]);
      if (gen !== this.#gen || this.#isClosed()) return;
      link = await openLink(socketUrl(this.#options.url), codec, WebSocketImpl, {
        onFrame: (frame) => this.#onFrame(gen, frame),
        onClose: (code, reason) => this.#onLinkClosed(gen, code, reason),
      });
    } catch (err) {
      if (gen !== this.#gen || this.#isClosed()) return;
      if (err instanceof LinkError) {
        this.#afterClose(err.code, err.message);
      } else {
        // No codec or no WebSocket implementation: retrying cannot help.
        this.#shutdown(new ParleyClientError('network', String(err), { cause: err }));
      }
      return;
    }
    if (gen !== this.#gen || this.#isClosed()) {
      link.close();
      return;
    }
    this.#link = link;
    this.#lastRxAt = Date.now();
    this.#kicked = false;
    link.send({ type: 'hello', id: 'hello', token: this.#token, device: this.device });
    this.#helloTimer = setTimeout(
      () => this.#abandonLink(gen, 'no welcome in time'),
      this.#options.requestTimeoutMs ?? 15_000,
    );
  }

  #onFrame(gen: number, frame: InboundFrame): void {
    if (gen !== this.#gen) return;
    if (this.#options.testDropInbound?.(frame)) return;
    this.#lastRxAt = Date.now();
    const id = (frame as { id?: unknown }).id;
    if (typeof id === 'string' && id !== 'hello') {
      const request = this.#requests.get(id);
      if (request) {
        this.#requests.delete(id);
        if (frame.type === 'error') request.reject(errorOf(frame as ErrorFrame));
        else request.resolve(frame);
        // The answer to a recall, edit, reaction or hide also tells this device's views, as the
        // push tells everyone else's: the application updates them in one place.
        if (!ACTION_ANSWERS.has(frame.type)) return;
      }
    }
    const f = frame as ServerFrame;
    switch (f.type) {
      case 'welcome':
        return this.#onWelcome(gen, f);
      case 'sent':
        return this.#onSent(f);
      case 'message':
        return this.#accept(fromWire(f));
      case 'error':
        return this.#onError(f);
      case 'receipt':
        return this.#emit('receipt', receiptOf(f));
      case 'typing':
        return this.#emit('typing', { conversation: f.conversation, user: f.user ?? '' });
      case 'presence':
        return this.#emit('presence', presenceOf(f));
      case 'recalled':
        return this.#emit('recalled', { conversation: f.conversation, seq: f.seq, by: f.by });
      case 'edited':
        return this.#emit('edited', editedOf(f));
      case 'reaction':
        return this.#emit('reaction', reactionOf(f));
      case 'hidden':
        return this.#emit('hidden', { conversation: f.conversation, seq: f.seq });
      case 'member':
        this.#noteMembership(f);
        this.#emit('member', memberOf(f));
        // Its seq is the system message recording the change, which a removed member gets no
        // push of: a hint of what to pull.
        return this.#hint(f.conversation, f.seq);
      case 'contact':
        return this.#emit('contact', contactOf(f));
      case 'profile':
        return this.#emit('profile', profileOf(f));
      case 'kicked':
        this.#kicked = true;
        return;
      case 'ping':
        this.#link?.send({ type: 'pong' });
        return;
      case 'pong':
      case 'synced':
      case 'pulled':
        return; // Answers to requests that timed out or were abandoned.
    }
    if (frame.type === 'undecodable') {
      this.#emit('error', new ParleyClientError('bad_response', 'A frame could not be decoded.'));
    }
  }

  #onWelcome(gen: number, f: WelcomeFrame): void {
    clearTimeout(this.#helloTimer);
    this.#online = true;
    this.#linkUpAt = Date.now();
    this.#failedAttempts = 0;
    this.#user = { id: f.user, username: f.username };
    this.#setState('online');
    for (const waiter of this.#onlineWaiters) waiter.resolve();
    this.#onlineWaiters.clear();
    this.#startHeartbeat(gen, this.#options.heartbeatMs ?? f.heartbeatMs);
    this.#flushReads();
    this.#flushAcks();
    for (const item of this.#outbox.values()) this.#transmit(item);
    void this.#catchUp(gen);
  }

  #onLinkClosed(gen: number, code: number, reason: string): void {
    if (gen !== this.#gen) return;
    this.#dropLink();
    this.#afterClose(code, reason);
  }

  /** Gives up on a link that seems dead, and reconnects. */
  #abandonLink(gen: number, reason: string): void {
    if (gen !== this.#gen || this.#isClosed()) return;
    this.#link?.close();
    this.#dropLink();
    this.#afterClose(ABNORMAL_CLOSE, reason);
  }

  /** Forgets the current link: its requests fail, its sends wait for the next one. */
  #dropLink(): void {
    this.#gen += 1; // callbacks of the dropped link are ignored from here on
    this.#link = null;
    this.#online = false;
    clearTimeout(this.#helloTimer);
    clearInterval(this.#heartbeatTimer);
    this.#paced.length = 0;
    for (const request of this.#requests.values()) {
      request.reject(new ParleyClientError('disconnected'));
    }
    this.#requests.clear();
  }

  /** The close-code rules of docs/protocol.md §8. */
  #afterClose(code: number, reason: string): void {
    if (this.#isClosed()) return;
    const welcomed = this.#linkUpAt > 0;
    if (!welcomed) this.#connectFailed(code, reason);
    if (code === CLOSE_KICKED || this.#kicked) {
      this.#shutdown(new ParleyClientError('kicked'), code);
      return;
    }
    if (code === CLOSE_UNAUTHENTICATED) {
      if (!this.#options.refreshToken) {
        this.#shutdown(
          new ParleyClientError('unauthenticated', 'The server refused the token.'),
          code,
        );
        return;
      }
      this.#setState('reconnecting', { code, reason });
      void this.#renewToken(code);
      return;
    }
    if (welcomed && Date.now() - this.#linkUpAt >= STABLE_LINK_MS) this.#attempt = 0;
    this.#linkUpAt = 0;
    let delay = backoffDelayMs(this.#backoff(), this.#attempt);
    this.#attempt += 1;
    if (code === CLOSE_RATE_LIMITED) delay = Math.max(delay, RATE_LIMITED_WAIT_MS);
    this.#setState('reconnecting', { code, ...(reason ? { reason } : {}) });
    this.#scheduleDial(delay);
  }

  /** A link attempt ended before its welcome: socket.io-client's and centrifuge's connect error. */
  #connectFailed(code: number, reason: string): void {
    this.#failedAttempts += 1;
    const error = new ParleyClientError(
      'connect_failed',
      `The link attempt failed (${code}${reason ? `: ${reason}` : ''}).`,
    );
    this.#emit('connect_error', { error, attempt: this.#failedAttempts, code, reason });
  }

  async #renewToken(code: number): Promise<void> {
    try {
      const token = await this.#options.refreshToken!();
      if (this.#isClosed()) return;
      this.#token = token;
      this.api.token = token;
      this.#scheduleDial(backoffDelayMs(this.#backoff(), this.#attempt++));
    } catch (cause) {
      this.#shutdown(
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
      if (this.#state !== 'closed') void this.#dial();
    }, delayMs);
  }

  /** The browser says the network is back: try at once instead of waiting out the backoff. */
  #onNetworkBack(): void {
    if (this.#state === 'reconnecting' && this.#reconnectTimer !== undefined) {
      this.#scheduleDial(0);
    } else if (this.#online) {
      this.#link?.send({ type: 'ping' });
      this.#pingSentAt ??= Date.now();
    }
  }

  #backoff() {
    return {
      baseMs: this.#options.backoffBaseMs ?? 500,
      maxMs: this.#options.backoffMaxMs ?? 30_000,
    };
  }

  /** Our own dead-link check: ping after a quiet heartbeat, drop after an unanswered one. */
  #startHeartbeat(gen: number, heartbeatMs: number): void {
    clearInterval(this.#heartbeatTimer);
    this.#pingSentAt = null;
    this.#heartbeatTimer = setInterval(
      () => {
        if (gen !== this.#gen || !this.#link) return;
        const now = Date.now();
        if (this.#pingSentAt !== null && this.#lastRxAt < this.#pingSentAt) {
          if (now - this.#pingSentAt >= heartbeatMs) this.#abandonLink(gen, 'no pong');
          return;
        }
        this.#pingSentAt = null;
        if (now - this.#lastRxAt >= heartbeatMs) {
          this.#link.send({ type: 'ping' });
          this.#pingSentAt = now;
        }
      },
      Math.max(100, Math.floor(heartbeatMs / 2)),
    );
  }

  #shutdown(error?: ParleyClientError, code?: number): void {
    if (this.#isClosed()) return;
    const removeListener = (
      globalThis as { removeEventListener?: (t: string, f: () => void) => void }
    ).removeEventListener;
    removeListener?.call(globalThis, 'online', this.#wake);
    this.#link?.close();
    this.#dropLink();
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#ackTimer);
    clearTimeout(this.#paceTimer);
    for (const timer of this.#gapTimers.values()) clearTimeout(timer);
    this.#gapTimers.clear();
    const closed = error ?? new ParleyClientError('client_closed');
    for (const item of [...this.#outbox.values(), ...this.#staged.values()]) {
      clearTimeout(item.retryTimer);
      for (const waiter of item.waiters.splice(0)) waiter.reject(closed);
    }
    for (const waiter of this.#onlineWaiters) waiter.reject(closed);
    this.#onlineWaiters.clear();
    this.#setState('closed', {
      ...(code !== undefined ? { code } : {}),
      ...(error ? { reason: error.message } : {}),
    });
    if (error) this.#emit('error', error);
  }

  /** A method, not a comparison, so that TypeScript does not narrow the state across awaits. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #setState(state: ClientState, extra: { code?: number; reason?: string } = {}): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    const event: StateEvent = { state, previous, ...extra };
    this.#emit('state', event);
  }

  // Requests ---------------------------------------------------------------------------------

  /**
   * Sends a request when the link is up (waiting for it up to `requestTimeoutMs`) and resolves
   * with the answer that echoes its id. A dropped link rejects it with `disconnected`: whether
   * it happened is unknown, as for any request on a lost connection.
   */
  async #request<T extends ServerFrame>(
    frame: ClientFrame,
    expect: T['type'],
    paced = false,
  ): Promise<T> {
    const deadline = Date.now() + (this.#options.requestTimeoutMs ?? 15_000);
    await this.#whenOnline(deadline);
    const gen = this.#gen;
    const id = `r${this.#nextRequestId++}`;
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
        if (gen === this.#gen && this.#online) this.#link?.send({ ...frame, id });
      };
      if (paced) this.#pace(write);
      else write();
    });
  }

  #whenOnline(deadline: number, code: 'timeout' | 'connect_timeout' = 'timeout'): Promise<void> {
    if (this.#online) return Promise.resolve();
    if (this.#isClosed()) return Promise.reject(new ParleyClientError('client_closed'));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: ParleyClientError) => {
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

  /** Runs `write` under the client-side rate (send, recall, typing share the server's bucket). */
  #pace(write: () => void): void {
    this.#paced.push(write);
    this.#pump();
  }

  #pump(): void {
    if (this.#paceTimer !== undefined) return;
    while (this.#paced.length > 0 && this.#bucket.take(Date.now())) this.#paced.shift()?.();
    if (this.#paced.length > 0) {
      this.#paceTimer = setTimeout(() => {
        this.#paceTimer = undefined;
        this.#pump();
      }, this.#sendIntervalMs);
    }
  }

  // The outbox -------------------------------------------------------------------------------

  /** Storage calls run one at a time, in call order. */
  #store<T>(op: (storage: OutboxStorage) => Promise<T>): Promise<T> {
    const run = this.#storageQueue.then(() => op(this.#storage));
    this.#storageQueue = run.catch(() => undefined);
    return run;
  }

  /** Queues one outbox entry for the current link, once per link. */
  #transmit(item: OutboxItem): void {
    const gen = this.#gen;
    if (!this.#online || item.queuedOn === gen) return;
    item.queuedOn = gen;
    this.#pace(() => {
      if (gen !== this.#gen || !this.#online || item.sentOn === gen) return;
      if (this.#outbox.get(item.entry.ref) !== item) return;
      const { ref, conversation, body } = item.entry;
      this.#link?.send({ type: 'send', ref, conversation, body });
      item.sentOn = gen;
    });
  }

  #onSent(f: SentFrame): void {
    const item = this.#outbox.get(f.ref);
    if (!item || !this.#user) return; // a second answer to a resend: the first one settled it
    this.#outbox.delete(f.ref);
    clearTimeout(item.retryTimer);
    this.#forget(f.ref);
    const message: Message = {
      conversation: f.conversation,
      seq: f.seq,
      id: f.messageId,
      sender: this.#user.id,
      device: this.device,
      body: item.entry.body,
      at: f.at,
      recalled: false,
      editedAt: null,
      reactions: [],
      hidden: false,
    };
    const sent: SentMessage = { ...message, ref: f.ref, duplicate: f.duplicate === true };
    for (const waiter of item.waiters.splice(0)) waiter.resolve(sent);
    this.#emit('sent', sent);
    this.#accept(message);
  }

  #onError(f: ErrorFrame): void {
    const item = f.ref !== undefined ? this.#outbox.get(f.ref) : undefined;
    if (!item) {
      // Errors of frames without an id (ack, read, typing) and the error before a close.
      this.#emit('error', errorOf(f));
      return;
    }
    const error = errorOf(f);
    if (error.temporary) {
      item.queuedOn = 0;
      item.sentOn = 0;
      clearTimeout(item.retryTimer);
      item.retryTimer = setTimeout(() => this.#transmit(item), SEND_RETRY_MS);
      return;
    }
    this.#outbox.delete(item.entry.ref);
    clearTimeout(item.retryTimer);
    this.#forget(item.entry.ref);
    for (const waiter of item.waiters.splice(0)) waiter.reject(error);
    this.#emit('failed', { entry: item.entry, error });
  }

  #forget(ref: string): void {
    this.#store((s) => s.delete(ref)).catch((cause: unknown) =>
      this.#emit(
        'error',
        new ParleyClientError('bad_response', 'The outbox storage failed.', { cause }),
      ),
    );
  }

  // Ordering, dedupe and gaps ----------------------------------------------------------------

  /** A message from a push or an own `sent`: emit it in order, hold it, or drop a duplicate. */
  #accept(m: Message): void {
    const c = m.conversation;
    let seen = this.#seen.get(c);
    if (seen === undefined && this.#baselined) {
      seen = Math.max(0, m.seq - 1 - NEW_CONVERSATION_BACKLOG);
      this.#seen.set(c, seen);
    }
    if (seen !== undefined && m.seq <= seen) return;
    let held = this.#held.get(c);
    if (!held) this.#held.set(c, (held = new Map<number, Message>()));
    held.set(m.seq, m);
    if (seen === undefined) return; // before the first sync: it sets the baseline
    this.#drain(c);
    if (this.#held.has(c)) this.#scheduleFill(c);
  }

  /** Emits held messages that now follow `seen`, and drops the ones at or below it. */
  #drain(c: string): void {
    const held = this.#held.get(c);
    if (!held) return;
    let seen = this.#seen.get(c) ?? 0;
    for (let next = held.get(seen + 1); next; next = held.get(seen + 1)) {
      held.delete(next.seq);
      this.#deliver(next);
      seen = next.seq;
    }
    for (const seq of held.keys()) if (seq <= seen) held.delete(seq);
    if (held.size === 0) this.#held.delete(c);
  }

  #deliver(m: Message): void {
    this.#seen.set(m.conversation, m.seq);
    this.#emit('message', m);
    const own = m.sender === this.#user?.id && m.device === this.device;
    if (!own && this.#options.autoAck !== false && !this.#left.has(m.conversation)) {
      this.#acks.set(m.conversation, Math.max(m.seq, this.#acks.get(m.conversation) ?? 0));
      this.#ackTimer ??= setTimeout(() => this.#flushAcks(), ACK_DELAY_MS);
    }
  }

  #heldMax(c: string): number {
    const held = this.#held.get(c);
    return held ? Math.max(...held.keys()) : 0;
  }

  /** A push says that `seq` exists in `c`: pull up to it unless its message comes meanwhile. */
  #hint(c: string, seq: number): void {
    const seen = this.#seen.get(c);
    if (seen === undefined || seq <= seen) return;
    this.#fillTargets.set(c, Math.max(seq, this.#fillTargets.get(c) ?? 0));
    this.#scheduleFill(c);
  }

  #scheduleFill(c: string): void {
    if (this.#gapTimers.has(c) || this.#filling.has(c) || !this.#online) return;
    const gen = this.#gen;
    this.#gapTimers.set(
      c,
      setTimeout(() => {
        this.#gapTimers.delete(c);
        const behind = (this.#fillTargets.get(c) ?? 0) > (this.#seen.get(c) ?? 0);
        if (gen === this.#gen && (this.#held.has(c) || behind)) {
          this.#fill(c).catch((err: unknown) => this.#catchUpFailed(gen, err));
        }
      }, GAP_FILL_DELAY_MS),
    );
  }

  /**
   * Pulls after `seen` until nothing is missing up to `target` (a sync's lastSeq) and below the
   * highest held message. One fill per conversation runs at a time; a call during one raises
   * its target and shares it.
   */
  #fill(c: string, target = 0): Promise<void> {
    this.#fillTargets.set(c, Math.max(target, this.#fillTargets.get(c) ?? 0));
    const running = this.#filling.get(c);
    if (running) return running;
    const run = (async () => {
      try {
        let stalled = 0;
        for (let pulls = 0; pulls < CATCH_UP_PULLS_MAX; pulls++) {
          const before = this.#seen.get(c) ?? 0;
          const targetAtPull = this.#fillTargets.get(c) ?? 0;
          if (Math.max(targetAtPull, this.#heldMax(c)) <= before) return;
          const page = await this.#request<PulledFrame>(
            { type: 'pull', conversation: c, after: before, limit: PULL_PAGE },
            'pulled',
          );
          for (const w of page.messages) {
            const m = fromWire(w);
            if (m.seq <= (this.#seen.get(c) ?? 0)) continue;
            this.#held.get(c)?.delete(m.seq);
            this.#deliver(m);
          }
          if (!page.hasMore && targetAtPull > (this.#seen.get(c) ?? 0)) {
            // The pull is the authority: what it did not show up to the target is not visible.
            this.#seen.set(c, targetAtPull);
          }
          this.#drain(c);
          stalled = (this.#seen.get(c) ?? 0) > before ? 0 : stalled + 1;
          if (stalled >= STALLED_PULLS_MAX) break;
          if (stalled > 0) await sleep(GAP_FILL_DELAY_MS);
        }
        throw new ParleyClientError('catch_up_failed', `Conversation ${c} could not be caught up.`);
      } finally {
        this.#filling.delete(c);
        this.#fillTargets.delete(c);
      }
    })();
    this.#filling.set(c, run);
    return run;
  }

  /** After each welcome: resend (done by the caller), sync, pull what is missing, then ack. */
  async #catchUp(gen: number): Promise<void> {
    try {
      const synced = await this.#request<SyncedFrame>(
        { type: 'sync', ...(this.#cursor ? { cursor: this.#cursor } : {}) },
        'synced',
      );
      if (gen !== this.#gen) return;
      if (!this.#baselined) this.#baseline(synced.conversations);
      for (const c of synced.conversations) {
        if (c.leftSeq !== undefined && c.leftSeq > 0) this.#left.add(c.id);
        else this.#left.delete(c.id);
        if (!this.#seen.has(c.id)) {
          this.#seen.set(c.id, Math.max(0, c.lastSeq - NEW_CONVERSATION_BACKLOG));
        }
      }
      const behind = synced.conversations.filter((c) => c.lastSeq > (this.#seen.get(c.id) ?? 0));
      await eachLimited(behind, CATCH_UP_CONCURRENCY, (c) => this.#fill(c.id, c.lastSeq));
      if (gen !== this.#gen) return;
      for (const c of synced.conversations) {
        if (!c.changed?.length && !c.changedMore) continue;
        this.#emit('changed', {
          conversation: c.id,
          messages: (c.changed ?? []).map(fromWire),
          more: c.changedMore === true,
        });
      }
      this.#cursor = synced.cursor;
      this.#emit('synced', { conversations: synced.conversations });
    } catch (err) {
      if (isParleyClientErrorCode(err, 'invalid_cursor')) this.#cursor = undefined;
      this.#catchUpFailed(gen, err);
    }
  }

  /**
   * The first sync of this client object: conversations start at their lastSeq (history is the
   * application's to page through), or just below the first push that came before the sync.
   */
  #baseline(conversations: ConversationState[]): void {
    for (const c of conversations) {
      const held = this.#held.get(c.id);
      const lowest = held ? Math.min(...held.keys()) : Infinity;
      this.#seen.set(c.id, Math.max(0, Math.min(c.lastSeq, lowest - 1)));
    }
    this.#baselined = true;
    for (const [c, held] of [...this.#held]) {
      if (!this.#seen.has(c)) {
        this.#seen.set(c, Math.max(0, Math.min(...held.keys()) - 1 - NEW_CONVERSATION_BACKLOG));
      }
      this.#drain(c);
      if (this.#held.has(c)) this.#scheduleFill(c);
    }
  }

  /** A catch-up that failed on a live link: renew the link, whose welcome catches up again. */
  #catchUpFailed(gen: number, err: unknown): void {
    if (gen !== this.#gen || this.#isClosed()) return; // the link went already
    this.#emit('error', new ParleyClientError('catch_up_failed', undefined, { cause: err }));
    this.#abandonLink(gen, 'catch-up failed');
  }

  #noteMembership(f: MemberFrame): void {
    const me = this.#user?.id;
    if (me === undefined || !f.targets.includes(me)) return;
    if (f.event === 'member.removed' || f.event === 'member.left') this.#left.add(f.conversation);
    if (f.event === 'member.added' || f.event === 'member.joined') {
      this.#left.delete(f.conversation);
    }
  }

  #flushAcks(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    if (!this.#online) return;
    for (const [conversation, seq] of this.#acks) {
      if (!this.#left.has(conversation)) this.#link?.send({ type: 'ack', conversation, seq });
    }
    this.#acks.clear();
  }

  #flushReads(): void {
    if (!this.#online) return;
    for (const [conversation, seq] of this.#reads)
      this.#link?.send({ type: 'read', conversation, seq });
    this.#reads.clear();
  }

  // Events -----------------------------------------------------------------------------------

  #emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void {
    this.#events.emit(event, payload);
  }

  #handlerFailed(err: unknown, event: keyof ClientEvents): void {
    if (event !== 'error' && this.#events.count('error') > 0) {
      this.#emit(
        'error',
        new ParleyClientError('handler_failed', `A "${event}" handler threw.`, { cause: err }),
      );
      return;
    }
    // Nobody listens for errors (or the error handler threw): surface it as an uncaught error
    // outside the client's own call stack, so its state stays consistent.
    queueMicrotask(() => {
      throw err;
    });
  }
}

// Helpers ------------------------------------------------------------------------------------

function newItem(entry: OutboxEntry): OutboxItem {
  return { entry, waiters: [], queuedOn: 0, sentOn: 0, retryTimer: undefined };
}

/** A storage failure as the SDK reports it; a client error (a closed client) stays as it is. */
function storageError(err: unknown): ParleyClientError {
  if (err instanceof ParleyClientError) return err;
  return new ParleyClientError('bad_response', 'The outbox storage failed.', { cause: err });
}

function waitFor(item: OutboxItem): Promise<SentMessage> {
  return new Promise((resolve, reject) => item.waiters.push({ resolve, reject }));
}

function checkSend(conversationId: string, body: SendableBody, ref: string | undefined): void {
  if (typeof conversationId !== 'string' || conversationId === '') {
    throw new ParleyClientError(
      'invalid_request',
      'The conversation id must be a non-empty string.',
    );
  }
  if (typeof body !== 'object' || body === null || typeof body.kind !== 'string') {
    throw new ParleyClientError('invalid_request', 'The body must be an object with a "kind".');
  }
  if (ref !== undefined && (typeof ref !== 'string' || ref === '' || ref.length > REF_CHARS_MAX)) {
    throw new ParleyClientError('invalid_request', `A ref is 1 to ${REF_CHARS_MAX} characters.`);
  }
}

/** 128 random bits, hex: unique per device without coordination. */
function newRef(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}

function fromWire(w: WireMessage): Message {
  const body = readBody(w.body);
  return {
    conversation: w.conversation,
    seq: w.seq,
    id: w.messageId,
    sender: w.sender,
    device: w.device,
    body,
    at: w.at,
    recalled: w.recalled === true || body.kind === 'recalled',
    // Protobuf has no "absent" for int64: an unedited message decodes as editedAt 0.
    editedAt: w.editedAt ? w.editedAt : null,
    reactions: (w.reactions ?? []).map((r) => ({ emoji: r.emoji, count: r.count, me: r.me })),
    hidden: w.hidden === true || body.kind === 'hidden',
  };
}

const editedOf = (f: EditedFrame): EditedEvent => ({
  conversation: f.conversation,
  seq: f.seq,
  body: readBody(f.body),
  editedAt: f.editedAt,
  by: f.by,
});

const reactionOf = (f: ReactionFrame): ReactionEvent => ({
  conversation: f.conversation,
  seq: f.seq,
  user: f.user,
  emoji: f.emoji,
  added: f.removed !== true,
  removed: f.removed === true,
  count: f.count,
  at: f.at,
});

function errorOf(f: ErrorFrame): ParleyClientError {
  return new ParleyClientError(f.code, f.message, f.ref !== undefined ? { ref: f.ref } : {});
}

function isParleyClientErrorCode(err: unknown, code: string): boolean {
  return err instanceof ParleyClientError && err.code === code;
}

const receiptOf = (f: ReceiptFrame) => ({
  conversation: f.conversation,
  user: f.user,
  deliveredSeq: f.deliveredSeq,
  readSeq: f.readSeq,
});

const presenceOf = (f: PresenceFrame) => ({ user: f.user, online: f.online });

function memberOf(f: MemberFrame): ClientEvents['member'] {
  const { type: _type, id: _id, ...rest } = f;
  return rest;
}

function contactOf(f: ContactFrame): ClientEvents['contact'] {
  const { type: _type, id: _id, ...rest } = f;
  return rest;
}

function profileOf(f: ProfileFrame): ClientEvents['profile'] {
  return {
    profile: {
      id: f.user,
      username: f.username,
      displayName: f.displayName ?? null,
      bio: f.bio ?? null,
      avatar: f.avatar ?? null,
    },
    deleted: f.deleted === true,
    at: f.at,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `task` over `items`, at most `limit` at a time; rejects with the first failure. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
