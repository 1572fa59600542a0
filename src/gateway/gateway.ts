import { ParleyError, isParleyError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Limits } from '../core/limits.js';
import type { Logger } from '../core/logger.js';
import { hashToken, type Session as AuthSession } from '../auth/index.js';
import { wireMessage, type DeliveryRouter } from '../delivery/index.js';
import type { Caller, Messaging, SyncedConversation } from '../messaging/index.js';
import {
  CloseCode,
  EncodedFrame,
  ProtocolError,
  validateClientFrame,
  type ClientFrame,
  type ConversationState,
  type HelloFrame,
  type SendFrame,
  type SentFrame,
} from '../protocol/index.js';
import { ClientSession, EARLY_FRAMES_MAX } from './client-session.js';
import { messageAction } from './message-actions.js';
import type { Connection } from './connection.js';
import type { HotMetrics } from '../core/metrics.js';
import type { RequestSlots } from '../core/request-slots.js';

// The gateway speaks the real-time protocol (docs/protocol.md) on any Connection: hello and
// welcome, then requests answered by the messaging rules, pushes through the delivery router,
// heartbeats, rate limits and backpressure. It holds no message state of its own.

export interface GatewayDeps {
  readonly authenticate: (token: string) => Promise<AuthSession>;
  /** A link of this device closed after `livedMs`: its session was in use until now. */
  readonly linkClosed?: (userId: string, device: string, livedMs: number) => void;
  readonly messaging: Messaging;
  readonly router: DeliveryRouter;
  readonly limits: Limits;
  readonly logger: Logger;
  readonly nodeId: string;
  readonly clock?: Clock;
  readonly metrics?: HotMetrics;
  /** Heavy reads in flight per user on this node, shared with the HTTP routes. */
  readonly reads: RequestSlots;
}

function conversationState(v: SyncedConversation): ConversationState {
  return {
    id: v.id,
    kind: v.kind,
    ...(v.name !== null ? { name: v.name } : {}),
    ...(v.title !== null ? { title: v.title } : {}),
    lastSeq: v.lastSeq,
    deliveredSeq: v.deliveredSeq,
    readSeq: v.readSeq,
    unread: Math.max(0, v.lastSeq - v.readSeq),
    lastAt: Math.floor(v.lastAtUs / 1000),
    ...(v.leftSeq !== null ? { leftSeq: v.leftSeq } : {}),
    mentions: v.mentions,
    preferences: { pinned: v.pinned, muted: v.notificationsMuted },
    ...(v.last ? { last: wireMessage(v.last) } : {}),
    ...(v.avatar !== null ? { avatar: v.avatar } : {}),
    ...(v.changed ? { changed: v.changed.map(wireMessage) } : {}),
    ...(v.changedMore ? { changedMore: true } : {}),
  };
}

const SENDS = new Set<ClientFrame['type']>(['send', 'recall', 'edit', 'react', 'typing']);
/** Frames whose answer can be large: each connection runs a few at a time (pumpReads). */
const READS = new Set<ClientFrame['type']>(['pull', 'sync']);

export class Gateway {
  private readonly deps: GatewayDeps;
  private readonly clock: Clock;
  private readonly sessions = new Set<ClientSession>();
  private readonly timer: NodeJS.Timeout;
  /** Presence updates of closed sessions still under way. */
  private readonly leaving = new Set<Promise<void>>();
  /** Every idle link gets one each heartbeat: encoded once per codec, framed once (ws-frame.ts). */
  private readonly ping = new EncodedFrame({ type: 'ping' });
  private nextConnId = 1;
  private draining = false;

  constructor(deps: GatewayDeps) {
    this.deps = deps;
    this.clock = deps.clock ?? systemClock;
    const { heartbeatIntervalMs, helloTimeoutMs } = deps.limits;
    // One sweep for every connection, instead of a timer each.
    const sweepMs = Math.max(25, Math.min(1000, Math.min(heartbeatIntervalMs, helloTimeoutMs) / 4));
    this.timer = setInterval(() => this.sweep(), sweepMs);
    this.timer.unref();
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  accept(conn: Connection): void {
    if (this.draining) {
      conn.close(CloseCode.serviceRestart, 'server restarting');
      return;
    }
    const session = new ClientSession(
      conn,
      this.deps.limits,
      this.deps.logger,
      this.nextConnId++,
      this.clock.nowMs(),
    );
    this.sessions.add(session);
    session.metrics = this.deps.metrics;
    this.deps.metrics?.connectionOpened(conn.transport);
    conn.onBytes((data) => this.onBytes(session, data));
    conn.onClose(() => this.onClose(session));
  }

  /**
   * Stops taking connections, asks every client to reconnect elsewhere (1012), and resolves once
   * their presence is cleared (or after `waitMs`, whichever is first), so a restarting node
   * leaves no one shown online.
   */
  async close(waitMs = 3000): Promise<void> {
    this.draining = true;
    clearInterval(this.timer);
    for (const session of this.sessions) {
      session.close(CloseCode.serviceRestart, 'server restarting');
    }
    const deadline = Date.now() + waitMs;
    // A real timer each round: the sessions' close events need the event loop to turn.
    while ((this.sessions.size > 0 || this.leaving.size > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  // --- frames ------------------------------------------------------------------------------

  private onBytes(session: ClientSession, data: string | Uint8Array): void {
    session.lastHeardMs = this.clock.nowMs();
    if (session.state === 'closed') return;
    if (session.state === 'authenticating') {
      if (session.early.length >= EARLY_FRAMES_MAX) {
        session.fail(
          CloseCode.rateLimited,
          new ParleyError('rate_limited', 'Too many frames before welcome.'),
        );
      } else {
        session.early.push(data);
      }
      return;
    }
    let frame: ClientFrame;
    try {
      frame = validateClientFrame(session.codec.decode(data));
      session.metrics?.frameIn(frame.type);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      if (err.fatal)
        return session.fail(CloseCode.badFrame, new ParleyError('bad_frame', err.message));
      // A refused frame still costs its token, so a stream of bad frames ends in 4429 too.
      if (!session.admit(false, this.clock.nowMs())) return;
      return session.reply({
        type: 'error',
        ...idOf(err.frameId),
        code: 'bad_frame',
        message: err.message,
      });
    }
    if (session.state === 'hello') {
      if (frame.type !== 'hello') {
        return session.fail(CloseCode.unauthenticated, new ParleyError('hello_required'));
      }
      session.state = 'authenticating';
      this.hello(session, frame).catch((err: unknown) => {
        // Without a working hello there is nothing to wait for: say so and close.
        this.internalError(session, err, frame.id);
        session.close(CloseCode.internalError, 'internal error');
      });
      return;
    }
    if (!session.admit(SENDS.has(frame.type), this.clock.nowMs())) {
      if (session.closed) return;
      const error = new ParleyError('rate_limited');
      return session.reply({
        type: 'error',
        ...idOf(frame.id),
        code: error.code,
        message: error.message,
        ...(frame.type === 'send' ? { ref: frame.ref } : {}),
      });
    }
    // A pong only says the link is alive (lastHeardMs, above): no dispatch and its promise, for a
    // frame every idle link sends each heartbeat.
    if (frame.type === 'pong') return;
    if (frame.type === 'send') return this.send(session, frame);
    if (READS.has(frame.type)) return this.queueRead(session, frame);
    this.dispatch(session, frame).catch((err: unknown) => this.refused(session, frame, err));
  }

  /**
   * Reads wait in the connection's own queue, in order, and run a few at a time, each in one of
   * its user's slots (RequestSlots). A read starts only while the link's backlog is under half
   * its bound, so a client that pipelines many pulls gets them at the pace it reads them, and one
   * that stops reading holds no more than one page per slot (docs/security.md).
   */
  private queueRead(session: ClientSession, frame: ClientFrame): void {
    if (session.reads.length >= this.deps.limits.connectionRequestsQueuedMax) {
      return this.refused(
        session,
        frame,
        new ParleyError('rate_limited', 'Too many reads waiting on this connection.'),
      );
    }
    session.reads.push(frame);
    this.pumpReads(session);
  }

  private pumpReads(session: ClientSession): void {
    const { limits, reads } = this.deps;
    while (session.readsActive < limits.connectionRequestsInFlightMax && session.reads.length > 0) {
      if (session.closed) {
        session.reads.length = 0;
        return;
      }
      if (session.conn.bufferedBytes() > limits.sendQueueBytesMax / 2) {
        if (session.readsAwaitDrain) return;
        session.readsAwaitDrain = true;
        session.conn.whenDrained(() => {
          session.readsAwaitDrain = false;
          this.pumpReads(session);
        });
        return;
      }
      const frame = session.reads.shift()!;
      session.readsActive += 1;
      reads
        .run(session.userId, () =>
          session.closed ? Promise.resolve() : this.dispatch(session, frame),
        )
        .catch((err: unknown) => this.refused(session, frame, err))
        .finally(() => {
          session.readsActive -= 1;
          this.pumpReads(session);
        });
    }
  }

  /** Answers a frame that failed: a coded error as itself, anything else as `internal`. */
  private refused(session: ClientSession, frame: ClientFrame, err: unknown): void {
    if (!isParleyError(err)) {
      return this.internalError(
        session,
        err,
        frame.id,
        frame.type === 'send' ? frame.ref : undefined,
      );
    }
    session.reply({
      type: 'error',
      ...idOf(frame.id),
      code: err.code,
      message: err.message,
      ...(frame.type === 'send' ? { ref: frame.ref } : {}),
    });
  }

  /**
   * A send, the hottest frame: answered from the commit's callback, with no promise or async
   * frame held while it waits for its group commit (see Messaging.sendThen).
   */
  private send(session: ClientSession, frame: SendFrame): void {
    const caller: Caller = { userId: session.userId, device: session.device };
    try {
      this.deps.messaging.messages.sendThen(
        caller,
        frame.conversation,
        frame.ref,
        frame.body,
        (err, outcome) => {
          if (!outcome) return this.refused(session, frame, err);
          const { message, duplicate } = outcome;
          // Built as one object, without a spread: this runs for every send.
          const sent: SentFrame = {
            type: 'sent',
            ref: frame.ref,
            conversation: message.conversationId,
            seq: message.seq,
            messageId: message.id,
            at: Math.floor(message.atUs / 1000),
            duplicate,
          };
          if (frame.id !== undefined) sent.id = frame.id;
          session.reply(sent);
        },
      );
    } catch (err) {
      this.refused(session, frame, err);
    }
  }

  private async hello(session: ClientSession, frame: HelloFrame): Promise<void> {
    let auth: AuthSession;
    try {
      auth = await this.deps.authenticate(frame.token);
    } catch (err) {
      if (!isParleyError(err)) throw err;
      return session.fail(CloseCode.unauthenticated, err);
    }
    if (session.state !== 'authenticating') return;
    if (frame.device !== auth.device) {
      return session.fail(
        CloseCode.unauthenticated,
        new ParleyError('unauthenticated', 'This token belongs to another device.'),
      );
    }
    const { router, limits } = this.deps;
    const sameDevice = router.sessionsOf(auth.userId).some((s) => s.device === auth.device);
    if (!sameDevice && router.connectionCount(auth.userId) >= limits.connectionsPerUserMax) {
      return session.fail(CloseCode.rateLimited, new ParleyError('too_many_connections'));
    }
    const wasOnline = (await router.online([auth.userId])).has(auth.userId);
    if (session.state !== 'authenticating') return;
    session.userId = auth.userId;
    session.username = auth.username;
    session.device = auth.device;
    session.tokenHash = hashToken(frame.token);
    session.identified();
    session.state = 'open';
    router.attach(session)?.kick('replaced');
    router.kickElsewhere(auth.userId, auth.device);
    session.reply({
      type: 'welcome',
      ...idOf(frame.id),
      user: auth.userId,
      username: auth.username,
      device: auth.device,
      node: this.deps.nodeId,
      heartbeatMs: limits.heartbeatIntervalMs,
    });
    for (const data of session.early.splice(0)) this.onBytes(session, data);
    // Presence is a courtesy: a failed lookup is logged, and never costs the client its link.
    await this.announce(session, !wasOnline).catch((err: unknown) =>
      session.log.warn({ err }, 'presence announce failed'),
    );
  }

  /** Tells peers that the user came online, and the new session which peers are online. */
  private async announce(session: ClientSession, cameOnline: boolean): Promise<void> {
    const { router, messaging } = this.deps;
    const peers = await messaging.conversations.peers(session.userId);
    if (cameOnline) router.deliver(peers, { type: 'presence', user: session.userId, online: true });
    for (const peer of await router.online(peers)) {
      session.reply({ type: 'presence', user: peer, online: true });
    }
  }

  private async dispatch(session: ClientSession, frame: ClientFrame): Promise<void> {
    const { messaging, router } = this.deps;
    const caller: Caller = { userId: session.userId, device: session.device };
    const id = idOf(frame.id);
    switch (frame.type) {
      case 'hello':
        throw new ParleyError('bad_frame', 'hello was already said on this connection.');
      case 'send':
        return this.send(session, frame);
      case 'ack':
        await messaging.conversations.markDelivered(caller, frame.conversation, frame.seq);
        return;
      case 'read':
        await messaging.conversations.markRead(caller, frame.conversation, frame.seq);
        return;
      case 'sync': {
        const result = await messaging.sync.sync(caller, frame.cursor);
        return session.reply({
          type: 'synced',
          ...id,
          conversations: result.conversations.map(conversationState),
          cursor: result.cursor,
        });
      }
      case 'pull': {
        const page = await messaging.messages.history(caller, frame.conversation, {
          ...(frame.after !== undefined ? { after: frame.after } : {}),
          ...(frame.before !== undefined ? { before: frame.before } : {}),
          limit: messaging.messages.pageLimit(frame.limit),
        });
        return session.reply({
          type: 'pulled',
          ...id,
          conversation: frame.conversation,
          messages: page.messages.map(wireMessage),
          hasMore: page.hasMore,
        });
      }
      case 'recall': {
        const message = await messaging.messages.recall(caller, frame.conversation, frame.seq);
        return session.reply({
          type: 'recalled',
          ...id,
          conversation: message.conversationId,
          seq: message.seq,
          by: caller.userId,
        });
      }
      case 'edit':
      case 'react':
      case 'hide':
        return session.reply(await messageAction(messaging, caller, frame));
      case 'typing':
        if (!(await messaging.membership.isMember(frame.conversation, caller.userId)))
          throw new ParleyError('not_member');
        router.typing(frame.conversation, caller.userId);
        return;
      case 'ping':
        return session.reply({ type: 'pong', ...id });
      case 'pong':
        return;
    }
  }

  // --- lifecycle ---------------------------------------------------------------------------

  /** Closes the links whose session ended (auth/session-watch.ts), with 4401. */
  sessionsEnded(tokenHashes: readonly string[]): void {
    const ended = new Set(tokenHashes);
    for (const session of this.sessions) {
      if (session.state === 'open' && ended.has(session.tokenHash)) session.kick('revoked');
    }
  }

  private onClose(session: ClientSession): void {
    session.state = 'closed';
    this.sessions.delete(session);
    this.deps.metrics?.connectionClosed(session.conn.transport);
    if (!session.userId) return;
    if (session.device) {
      this.deps.linkClosed?.(session.userId, session.device, this.clock.nowMs() - session.openedMs);
    }
    const leaving = this.wentAway(session)
      .catch((err: unknown) => session.log.warn({ err }, 'presence update failed'))
      .finally(() => this.leaving.delete(leaving));
    this.leaving.add(leaving);
  }

  /** Tells peers the user went offline, once their last session anywhere is gone. */
  private async wentAway(session: ClientSession): Promise<void> {
    const { router, messaging } = this.deps;
    await router.detach(session);
    if ((await router.online([session.userId])).has(session.userId)) return;
    const peers = await messaging.conversations.peers(session.userId);
    // The user may have come back while the peers were looked up.
    if ((await router.online([session.userId])).has(session.userId)) return;
    router.deliver(peers, { type: 'presence', user: session.userId, online: false });
  }

  /** Pings quiet links, closes silent ones and connections that never said hello. */
  private sweep(): void {
    const now = this.clock.nowMs();
    const { heartbeatIntervalMs, helloTimeoutMs } = this.deps.limits;
    for (const session of this.sessions) {
      if (session.state === 'hello' || session.state === 'authenticating') {
        if (now - session.openedMs >= helloTimeoutMs) {
          session.fail(CloseCode.helloTimeout, new ParleyError('hello_timeout'));
        }
        continue;
      }
      const silentMs = now - session.lastHeardMs;
      if (silentMs >= 3 * heartbeatIntervalMs) {
        session.fail(CloseCode.helloTimeout, new ParleyError('heartbeat_timeout'));
      } else if (silentMs >= heartbeatIntervalMs && session.pingSentMs <= session.lastHeardMs) {
        session.pingSentMs = now;
        session.replyEncoded('ping', this.ping.for(session.codec));
      }
    }
  }

  private internalError(
    session: ClientSession,
    err: unknown,
    frameId: string | undefined,
    ref?: string,
  ): void {
    session.log.error({ err }, 'frame handling failed');
    const error = new ParleyError('internal');
    session.reply({
      type: 'error',
      ...idOf(frameId),
      code: error.code,
      message: error.message,
      ...(ref !== undefined ? { ref } : {}),
    });
  }
}

function idOf(id: string | undefined): { id?: string } {
  return id !== undefined ? { id } : {};
}
