// The real-time client: docs/protocol.md §8 as code, and the SDK's public face for it. The work
// is done by parts with one job each: Connection dials and renews the link (with Heartbeat),
// RequestTable matches answers to requests (with Pacer for the server's rate), OutboxSender keeps
// sends until the server has them, and CatchUp hands the application each message once, in seq
// order, after sync and pull. This file holds the API, the state and the frame dispatch.
import type { ServerFrame, WelcomeFrame } from '../protocol/index.js';
import { ParleyApi } from './api.js';
import type { EditBody, SendableBody } from './body.js';
import { CatchUp } from './catch-up.js';
import { Connection } from './connection.js';
import { Emitter, type Handler } from './emitter.js';
import { ParleyClientError } from './errors.js';
import { MemoryOutbox } from './outbox.js';
import { OutboxSender, checkSend, newRef } from './outbox-sender.js';
import { Pacer, RequestTable } from './requests.js';
import type {
  ClientEventName,
  ClientEvents,
  ClientOptions,
  ClientState,
  EditedEvent,
  HiddenEvent,
  InboundFrame,
  MessagePage,
  OutboxEntry,
  PageQuery,
  ReactionEvent,
  RecalledEvent,
  SentMessage,
  StateEvent,
} from './types.js';
import {
  contactOf,
  editedOf,
  errorOf,
  fromWire,
  memberOf,
  presenceOf,
  profileOf,
  reactionOf,
  receiptOf,
} from './wire.js';

export interface SendOptions {
  /** Your own id for the message (≤ 64 characters, unique per device); generated when absent. */
  readonly ref?: string;
}

/** How long `connect()` waits for the first welcome by default (socket.io-client's `timeout`). */
const CONNECT_TIMEOUT_MS = 20_000;
/** At most one `typing` per conversation this often, as docs/protocol.md asks. */
const TYPING_INTERVAL_MS = 3_000;

/** Answers that are also reported as events (see #onFrame). */
const ACTION_ANSWERS = new Set(['recalled', 'edited', 'reaction', 'hidden']);

export function createClient(options: ClientOptions): ParleyClient {
  return new ParleyClient(options);
}

export class ParleyClient {
  /** REST calls with the same url and token. */
  readonly api: ParleyApi;
  readonly device: string;

  readonly #options: ClientOptions;
  readonly #events: Emitter<ClientEvents>;
  readonly #connection: Connection;
  readonly #pacer: Pacer;
  readonly #requests: RequestTable;
  readonly #outbox: OutboxSender;
  readonly #catchUp: CatchUp;
  #state: ClientState = 'idle';
  #user: { id: string; username: string } | undefined;
  readonly #typingAt = new Map<string, number>();
  readonly #wake = () => this.#connection.networkBack(this.#state === 'reconnecting');

  constructor(options: ClientOptions) {
    for (const key of ['url', 'token', 'device'] as const) {
      if (typeof options[key] !== 'string' || options[key] === '') {
        throw new TypeError(`createClient: "${key}" must be a non-empty string.`);
      }
    }
    this.#options = options;
    this.device = options.device;
    this.api = new ParleyApi({
      url: options.url,
      token: options.token,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.#events = new Emitter<ClientEvents>((err, event) => this.#handlerFailed(err, event));
    const isClosed = () => this.#isClosed();
    this.#connection = new Connection(options, {
      isClosed,
      frame: (frame) => this.#onFrame(frame),
      dropped: () => {
        this.#pacer.clear();
        this.#requests.dropped();
      },
      connectFailed: (event) => this.#emit('connect_error', event),
      reconnecting: (extra) => this.#setState('reconnecting', extra),
      shutdown: (error, code) => this.#shutdown(error, code),
      tokenRenewed: (token) => (this.api.token = token),
    });
    const link = this.#connection;
    this.#pacer = new Pacer(options.sendRatePerSec ?? 40, options.sendBurstMax ?? 80);
    this.#requests = new RequestTable(
      link,
      this.#pacer,
      options.requestTimeoutMs ?? 15_000,
      isClosed,
    );
    this.#outbox = new OutboxSender(
      options.outbox ?? new MemoryOutbox(),
      link,
      this.#pacer,
      {
        failed: (event) => this.#emit('failed', event),
        storageFailed: (error) => this.#emit('error', error),
      },
      isClosed,
    );
    this.#catchUp = new CatchUp({
      link,
      requests: this.#requests,
      emit: (event, payload) => this.#emit(event, payload),
      isOwn: (m) => m.sender === this.#user?.id && m.device === this.device,
      autoAck: options.autoAck !== false,
      failed: (gen, err) => this.#catchUpFailed(gen, err),
    });
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
        await this.#outbox.loaded;
      } catch (cause) {
        this.#shutdown(
          new ParleyClientError('bad_response', 'The outbox could not be loaded.', { cause }),
        );
        throw cause;
      }
      void this.#connection.dial();
    }
    // Once welcomed, the client reconnects by itself: a later call has nothing to wait for.
    if (this.#user !== undefined) return;
    await this.#requests.whenOnline(deadline, 'connect_timeout');
  }

  /** Ends the link for good. Unsent messages stay in the outbox storage for the next client. */
  async close(): Promise<void> {
    this.#shutdown();
    await this.#outbox.flushed();
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
   * Stores the send in the outbox, then transmits it (now, or after the next welcome). It counts
   * in `pending()` as soon as this returns. Resolves with the stored message when the server
   * acknowledges it, however many reconnects that takes; rejects on a permanent refusal (the
   * entry then leaves the outbox) or when the client closes (the entry stays in the storage).
   */
  async send(
    conversationId: string,
    body: SendableBody,
    options: SendOptions = {},
  ): Promise<SentMessage> {
    if (this.#isClosed()) throw new ParleyClientError('client_closed');
    checkSend(conversationId, body, options.ref);
    return this.#outbox.send(conversationId, body, options.ref ?? newRef());
  }

  /** Unacknowledged sends, oldest first (for a "sending…" state in the UI). */
  pending(conversationId?: string): OutboxEntry[] {
    const entries = this.#outbox.pending();
    return conversationId === undefined
      ? entries
      : entries.filter((e) => e.conversation === conversationId);
  }

  /**
   * A page of history in ascending seq: over the link when online, else (or when the link drops
   * meanwhile) over REST. It does not emit `message` events; the live stream does that.
   */
  async pull(conversationId: string, query: PageQuery = {}): Promise<MessagePage> {
    if (!this.#connection.online) return this.api.messages.history(conversationId, query);
    try {
      const page = await this.#requests.request<Extract<ServerFrame, { type: 'pulled' }>>(
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
    } catch (err) {
      if (!(err instanceof ParleyClientError) || err.code !== 'disconnected') throw err;
      return this.api.messages.history(conversationId, query);
    }
  }

  /** Moves this user's read watermark; sent now, or after the next welcome when offline. */
  markRead(conversationId: string, seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < 1) return;
    this.#catchUp.markRead(conversationId, seq);
  }

  /** Tells the other members that this user is typing; at most once per 3 s per conversation. */
  typing(conversationId: string): void {
    const link = this.#connection;
    if (!link.online) return;
    const now = Date.now();
    if (now - (this.#typingAt.get(conversationId) ?? -Infinity) < TYPING_INTERVAL_MS) return;
    this.#typingAt.set(conversationId, now);
    const gen = link.gen;
    this.#pacer.pace(() => {
      if (gen === link.gen && link.online) {
        link.send({ type: 'typing', conversation: conversationId });
      }
    });
  }

  /** Recalls one of this user's messages (within the server's recall window). */
  async recall(conversationId: string, seq: number): Promise<RecalledEvent> {
    const f = await this.#requests.request<Extract<ServerFrame, { type: 'recalled' }>>(
      { type: 'recall', conversation: conversationId, seq },
      'recalled',
      true,
    );
    return { conversation: f.conversation, seq: f.seq, by: f.by };
  }

  /**
   * Replaces the text (and mentions) of one of this user's text messages, within the server's
   * edit window. The message keeps its `replyTo` and `forwardedFrom`.
   */
  async edit(conversationId: string, seq: number, body: EditBody): Promise<EditedEvent> {
    return editedOf(
      await this.#requests.request<Extract<ServerFrame, { type: 'edited' }>>(
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
      await this.#requests.request<Extract<ServerFrame, { type: 'reaction' }>>(
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
    const f = await this.#requests.request<Extract<ServerFrame, { type: 'hidden' }>>(
      { type: 'hide', conversation: conversationId, seq },
      'hidden',
    );
    return { conversation: f.conversation, seq: f.seq };
  }

  // Frames -----------------------------------------------------------------------------------

  #onFrame(frame: InboundFrame): void {
    const id = (frame as { id?: unknown }).id;
    // The answer to a recall, edit, reaction or hide also tells this device's views, as the
    // push tells everyone else's: the application updates them in one place.
    if (typeof id === 'string' && id !== 'hello' && this.#requests.answer(id, frame)) {
      if (!ACTION_ANSWERS.has(frame.type)) return;
    }
    const f = frame as ServerFrame;
    switch (f.type) {
      case 'welcome':
        return this.#onWelcome(f);
      case 'sent': {
        const sent =
          this.#user && this.#outbox.sent(f, { user: this.#user.id, device: this.device });
        if (!sent) return; // a second answer to a resend: the first one settled it
        this.#emit('sent', sent);
        const { ref: _ref, duplicate: _duplicate, ...message } = sent;
        return this.#catchUp.accept(message);
      }
      case 'message':
        return this.#catchUp.accept(fromWire(f));
      case 'error':
        // Errors of frames without an id (ack, read, typing) and the error before a close.
        if (!this.#outbox.refused(f)) this.#emit('error', errorOf(f));
        return;
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
        this.#catchUp.noteMembership(f, this.#user?.id);
        this.#emit('member', memberOf(f));
        // Its seq is the system message recording the change, which a removed member gets no
        // push of: a hint of what to pull.
        return this.#catchUp.hint(f.conversation, f.seq);
      case 'contact':
        return this.#emit('contact', contactOf(f));
      case 'profile':
        return this.#emit('profile', profileOf(f));
      case 'kicked':
        return this.#connection.kicked();
      case 'ping':
        return this.#connection.send({ type: 'pong' });
      case 'pong':
      case 'synced':
      case 'pulled':
        return; // Answers to requests that timed out or were abandoned.
    }
    if (frame.type === 'undecodable') {
      this.#emit('error', new ParleyClientError('bad_response', 'A frame could not be decoded.'));
    }
  }

  /** After each welcome: resend the outbox, send what waited, then catch up. */
  #onWelcome(f: WelcomeFrame): void {
    this.#connection.welcomed(f.heartbeatMs);
    this.#user = { id: f.user, username: f.username };
    this.#setState('online');
    this.#requests.online();
    this.#catchUp.flushReads();
    this.#catchUp.flushAcks();
    this.#outbox.transmitAll();
    void this.#catchUp.run(this.#connection.gen);
  }

  /** A catch-up that failed on a live link: renew the link, whose welcome catches up again. */
  #catchUpFailed(gen: number, err: unknown): void {
    if (gen !== this.#connection.gen || this.#isClosed()) return; // the link went already
    this.#emit('error', new ParleyClientError('catch_up_failed', undefined, { cause: err }));
    this.#connection.abandon(gen, 'catch-up failed');
  }

  // State and events -------------------------------------------------------------------------

  #shutdown(error?: ParleyClientError, code?: number): void {
    if (this.#isClosed()) return;
    const removeListener = (
      globalThis as { removeEventListener?: (t: string, f: () => void) => void }
    ).removeEventListener;
    removeListener?.call(globalThis, 'online', this.#wake);
    this.#connection.close();
    this.#pacer.stop();
    this.#catchUp.close();
    const closed = error ?? new ParleyClientError('client_closed');
    this.#outbox.close(closed);
    this.#requests.close(closed);
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
