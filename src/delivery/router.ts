import type { Logger } from '../core/logger.js';
import type { Limits } from '../core/limits.js';
import type { Bus, BusMessage, KickReason, SkipDevice } from '../bus/index.js';
import type {
  Caller,
  GroupChanged,
  Member,
  MessageActionEvents,
  Membership,
  MessagingEvents,
  ReactionChanged,
  StoredMessage,
  ViewedMessage,
} from '../messaging/index.js';
import { EncodedFrame, type Codec, type ServerFrame, type WireMessage } from '../protocol/index.js';
import type { Presence, PresenceEntry } from './presence.js';
import { Sequencer } from './sequencer.js';
import type { HotMetrics } from '../core/metrics.js';

// The delivery router: which live sessions get which push. It is told about committed changes
// through MessagingEvents. Pushes are best effort, at most once: a push that is lost (a full
// socket, a dropped link, a bus outage) is recovered by the client through sync and pull, never
// retried here. The store stays the truth.
//
// In a cluster, sessions of the same conversation live on several nodes. The router pushes to its
// own sessions directly and sends ONE bus message per other node that has recipients online
// (found through Presence), or, for conversations with at least `broadcastMembersMin` members,
// one broadcast that each node resolves against its own sessions: a cost bounded by the node
// count, not the member count.

/** A live, authenticated connection as the router sees it. */
export interface LiveSession {
  readonly userId: string;
  readonly device: string;
  readonly codec: Codec;
  /** Writes encoded bytes; drops (and may close the link) rather than queue without bound. */
  push(data: string | Uint8Array): void;
  /** Closes the session: its device logged in again elsewhere, or its token was revoked. */
  kick(reason: KickReason): void;
}

export function wireMessage(m: ViewedMessage): WireMessage {
  const wire: WireMessage = {
    conversation: m.conversationId,
    seq: m.seq,
    messageId: m.id,
    sender: m.senderId,
    device: m.device,
    body: m.body,
    at: Math.floor(m.atUs / 1000),
  };
  // Plain assignments: this runs for every message push, where spreads cost.
  if (m.recalledAtUs !== null) wire.recalled = true;
  if (m.editedAtUs !== undefined) wire.editedAt = Math.floor(m.editedAtUs / 1000);
  if (m.reactions) wire.reactions = m.reactions.map((r) => ({ ...r }));
  if (m.hidden) wire.hidden = true;
  return wire;
}

export interface ClusterDeps {
  readonly nodeId: string;
  readonly bus: Bus;
  readonly presence: Presence;
  /** Conversations this big are pushed by one broadcast instead of per-node messages. */
  readonly broadcastMembersMin: number;
}

export interface RouterDeps {
  /**
   * The member lists pushes fan out to (messaging's Membership): the router tells it when a list
   * changed, here or on another node.
   */
  readonly members: Pick<Membership, 'withMembers' | 'forget'>;
  readonly limits: Limits;
  readonly logger: Logger;
  /** Absent on a single node: every session is local. */
  readonly cluster?: ClusterDeps;
  readonly metrics?: HotMetrics;
}

/** A push for the sessions of these users on other nodes, before presence says which nodes. */
interface RemotePush {
  readonly userIds: readonly string[];
  readonly frame: ServerFrame;
  readonly skip: SkipDevice | undefined;
  readonly previousAtUs: number | undefined;
}

/** How long a push waits for an earlier seq from another node before going out anyway. */
const SEQUENCE_HOLD_MS = 250;
/** A conversation quiet this long on this node starts afresh (no stale expected seq). */
const SEQUENCE_IDLE_MS = 10_000;

const seqOf = (frame: ServerFrame): number | undefined =>
  frame.type === 'message' ? frame.seq : undefined;
const conversationOf = (frame: ServerFrame): string | undefined =>
  frame.type === 'message' ? frame.conversation : undefined;

const NO_SESSIONS: readonly LiveSession[] = [];

const skips = (skip: SkipDevice | undefined, s: LiveSession): boolean =>
  skip !== undefined && s.userId === skip.user && s.device === skip.device;

export class DeliveryRouter implements MessagingEvents, MessageActionEvents {
  private readonly deps: RouterDeps;
  private readonly cluster: ClusterDeps | undefined;
  /**
   * Each user's sessions here. An array replaced on every change, not a Set: most users have one
   * link, and a one-element array is a fifth of a Set's memory (BENCHMARKS.md, issue 19); a push
   * walking the old array is never disturbed by a change.
   */
  private readonly byUser = new Map<string, readonly LiveSession[]>();
  /** Cluster only: this turn's pushes for other nodes, waiting for their one presence lookup. */
  private remote: RemotePush[] = [];
  /** Cluster only: holds a push briefly while an earlier seq is still on its way over the bus. */
  private readonly sequencer = new Sequencer({
    holdMs: SEQUENCE_HOLD_MS,
    idleMs: SEQUENCE_IDLE_MS,
  });

  constructor(deps: RouterDeps) {
    this.deps = deps;
    this.cluster = deps.cluster;
  }

  /** Registers a session; returns the session of the same user and device it replaces, if any. */
  attach(session: LiveSession): LiveSession | undefined {
    const others = this.byUser.get(session.userId) ?? NO_SESSIONS;
    const replaced = others.findLast((s) => s.device === session.device);
    const kept = replaced ? others.filter((s) => s.device !== session.device) : others;
    this.byUser.set(session.userId, kept.concat([session]));
    this.cluster?.presence
      .add(this.entryOf(session))
      .catch((err: unknown) =>
        this.deps.logger.warn({ err }, 'presence add failed; the next refresh retries'),
      );
    return replaced;
  }

  /** Unregisters a session; resolves once presence no longer lists it. */
  async detach(session: LiveSession): Promise<void> {
    const sessions = this.byUser.get(session.userId);
    if (!sessions?.includes(session)) return;
    const rest = sessions.filter((s) => s !== session);
    if (rest.length === 0) this.byUser.delete(session.userId);
    else this.byUser.set(session.userId, rest);
    // A replaced session shares its entry with the one that replaced it: leave that in place.
    if (this.cluster && !rest.some((s) => s.device === session.device)) {
      await this.cluster.presence
        .remove(this.entryOf(session))
        .catch((err: unknown) =>
          this.deps.logger.warn({ err }, 'presence remove failed; the entry will expire'),
        );
    }
  }

  /** Re-arms the presence of every local session; a cluster node calls it every TTL / 3. */
  refreshPresence(): Promise<void> {
    if (!this.cluster) return Promise.resolve();
    return this.cluster.presence.refresh([...this.localSessions()].map((s) => this.entryOf(s)));
  }

  sessionsOf(userId: string): readonly LiveSession[] {
    return this.byUser.get(userId) ?? NO_SESSIONS;
  }

  connectionCount(userId: string): number {
    return this.byUser.get(userId)?.length ?? 0;
  }

  /** Every local session, for presence refreshes. */
  *localSessions(): Iterable<LiveSession> {
    for (const sessions of this.byUser.values()) yield* sessions;
  }

  /** Which of these users have a session anywhere (on this node, or any node in a cluster). */
  async online(userIds: readonly string[]): Promise<Set<string>> {
    const here = userIds.filter((u) => this.byUser.has(u));
    if (!this.cluster) return new Set(here);
    try {
      const found = await this.cluster.presence.locate(userIds);
      return new Set([...found.keys(), ...here]);
    } catch (err) {
      // Presence is a hint: while it is unreachable, what this node knows has to do.
      this.deps.logger.warn({ err }, 'presence lookup failed; answering from this node only');
      return new Set(here);
    }
  }

  // --- MessagingEvents ---------------------------------------------------------------------

  messageStored(message: StoredMessage, previousAtUs?: number): void {
    this.toMembers(
      message.conversationId,
      new EncodedFrame({ type: 'message', ...wireMessage(message) }),
      { user: message.senderId, device: message.device },
      message.seq,
      previousAtUs,
    );
  }

  watermarkMoved(member: Member, _kind: 'delivered' | 'read'): void {
    const frame = new EncodedFrame({
      type: 'receipt',
      conversation: member.conversationId,
      user: member.userId,
      deliveredSeq: member.deliveredSeq,
      readSeq: member.readSeq,
    });
    this.deps.members.withMembers(member.conversationId, (members) => {
      // Small conversations show everyone's ticks; in big ones only the member's own devices learn.
      const to =
        members.size <= this.deps.limits.receiptFanoutMembersMax ? [...members] : [member.userId];
      this.deliver(to, frame);
    });
  }

  messageRecalled(message: StoredMessage, by: Caller): void {
    const frame = new EncodedFrame({
      type: 'recalled',
      conversation: message.conversationId,
      seq: message.seq,
      by: by.userId,
    });
    this.toMembers(message.conversationId, frame, { user: by.userId, device: by.device });
  }

  messageEdited(message: StoredMessage, by: Caller): void {
    const frame = new EncodedFrame({
      type: 'edited',
      conversation: message.conversationId,
      seq: message.seq,
      body: message.body,
      editedAt: Math.floor((message.editedAtUs ?? message.atUs) / 1000),
      by: by.userId,
    });
    this.toMembers(message.conversationId, frame, { user: by.userId, device: by.device });
  }

  reactionChanged(change: ReactionChanged, by: Caller): void {
    const frame = new EncodedFrame({
      type: 'reaction',
      conversation: change.conversationId,
      seq: change.seq,
      user: change.userId,
      emoji: change.emoji,
      removed: change.removed,
      count: change.count,
      at: Math.floor(change.atUs / 1000),
    });
    this.toMembers(change.conversationId, frame, { user: by.userId, device: by.device });
  }

  /** Delete for me is the user's own business: only its other devices are told. */
  messageHidden(conversationId: string, seq: number, by: Caller): void {
    const skip = { user: by.userId, device: by.device };
    this.deliver([by.userId], { type: 'hidden', conversation: conversationId, seq }, skip);
  }

  membersChanged(conversationId: string): void {
    this.deps.members.forget(conversationId);
    this.cluster?.bus.broadcast({ kind: 'members-changed', conversation: conversationId });
  }

  /**
   * A `member` push to the members after the change (the service raised membersChanged first, so
   * the list is reloaded without whoever left) and to the users the change removed.
   */
  groupChanged(change: GroupChanged): void {
    const { body, message } = change;
    const frame = new EncodedFrame({
      type: 'member',
      conversation: message.conversationId,
      seq: message.seq,
      event: body.event,
      actor: body.actor,
      targets: [...body.targets],
      ...(body.role !== undefined ? { role: body.role } : {}),
      ...(body.title !== undefined ? { title: body.title } : {}),
      ...(body.muted !== undefined ? { muted: body.muted } : {}),
      ...(body.history !== undefined ? { history: body.history } : {}),
      ...(body.dismissed !== undefined ? { dismissed: body.dismissed } : {}),
      ...(typeof body.avatar === 'string' ? { avatar: body.avatar } : {}),
      at: Math.floor(message.atUs / 1000),
    });
    this.toMembers(message.conversationId, frame);
    if (change.left.length > 0) this.deliver(change.left, frame);
  }

  /** Tells the other members that a user is typing. Nothing is stored. */
  typing(conversationId: string, userId: string): void {
    const frame = new EncodedFrame({ type: 'typing', conversation: conversationId, user: userId });
    this.deps.members.withMembers(conversationId, (members) =>
      this.deliver(
        [...members].filter((m) => m !== userId),
        frame,
      ),
    );
  }

  /** Pushes a frame to every session of these users, here and on other nodes. */
  deliver(userIds: readonly string[], frame: EncodedFrame | ServerFrame, skip?: SkipDevice): void {
    const encoded = frame instanceof EncodedFrame ? frame : new EncodedFrame(frame);
    this.pushLocal(userIds, encoded, skip);
    if (this.cluster) this.publishToNodes(this.cluster, userIds, encoded.frame, skip);
  }

  /** Closes this device's sessions on other nodes: it just said hello here. */
  kickElsewhere(userId: string, device: string): void {
    this.kickRemote(userId, device, 'replaced');
  }

  /** Closes this device's sessions everywhere: its token was revoked (logout). */
  revoke(userId: string, device: string): void {
    for (const session of this.sessionsOf(userId)) {
      if (session.device === device) session.kick('revoked');
    }
    this.kickRemote(userId, device, 'revoked');
  }

  private kickRemote(userId: string, device: string, reason: KickReason): void {
    const cluster = this.cluster;
    if (!cluster) return;
    cluster.presence.locate([userId]).then(
      (found) => {
        for (const entry of found.get(userId) ?? []) {
          if (entry.device === device && entry.node !== cluster.nodeId) {
            cluster.bus.publish(entry.node, { kind: 'kick', user: userId, device, reason });
          }
        }
      },
      (err: unknown) => this.deps.logger.warn({ err }, 'presence lookup for a kick failed'),
    );
  }

  /** What another node sent this one. */
  onBus(message: BusMessage): void {
    switch (message.kind) {
      case 'push': {
        const frame = new EncodedFrame(message.frame);
        return this.inOrder(
          conversationOf(message.frame),
          seqOf(message.frame),
          () => {
            this.deps.metrics?.delivered(message.frame);
            this.pushLocal(message.users, frame, message.skip);
          },
          message.previousAtUs,
        );
      }
      case 'conversation': {
        const frame = new EncodedFrame(message.frame);
        return this.deps.members.withMembers(message.conversation, (members) =>
          this.inOrder(
            message.conversation,
            seqOf(message.frame),
            () => this.pushToLocalMembers(members, frame, message.skip),
            message.previousAtUs,
          ),
        );
      }
      case 'kick':
        for (const session of this.sessionsOf(message.user)) {
          if (session.device === message.device) session.kick(message.reason ?? 'replaced');
        }
        return;
      case 'members-changed':
        return this.deps.members.forget(message.conversation);
    }
  }

  // --- internals -------------------------------------------------------------------------

  /** Pushes to every member's sessions; a message (with its seq) goes out here in seq order. */
  private toMembers(
    conversationId: string,
    frame: EncodedFrame,
    skip?: SkipDevice,
    seq?: number,
    previousAtUs?: number,
  ): void {
    this.deps.members.withMembers(conversationId, (members) => {
      const cluster = this.cluster;
      if (!cluster) return this.pushToLocalMembers(members, frame, skip);
      if (members.size >= cluster.broadcastMembersMin) {
        cluster.bus.broadcast({
          kind: 'conversation',
          conversation: conversationId,
          frame: frame.frame,
          ...(skip ? { skip } : {}),
          ...(previousAtUs !== undefined ? { previousAtUs } : {}),
        });
      } else {
        this.publishToNodes(cluster, [...members], frame.frame, skip, previousAtUs);
      }
      // Remote first: the bus sends a turn's messages at the end of the turn (a microtask queued
      // at its first publish), and the local pushes, queued after it, follow. Pushed first, a
      // batch's local pushes (500 sessions × 100 messages, say) would hold the other nodes' copy
      // back for as long as they take, and their sequencers would wait on it.
      queueMicrotask(() =>
        this.inOrder(
          conversationId,
          seq,
          () => this.pushToLocalMembers(members, frame, skip),
          previousAtUs,
        ),
      );
    });
  }

  private pushToLocalMembers(
    members: ReadonlySet<string>,
    frame: EncodedFrame,
    skip?: SkipDevice,
  ): void {
    this.deps.metrics?.delivered(frame.frame);
    // Walk the smaller side: a 10,000-member group with 3 members online here costs 3 lookups.
    if (members.size <= this.byUser.size) return this.pushLocal(members, frame, skip);
    for (const userId of this.byUser.keys()) {
      if (members.has(userId)) this.pushLocal([userId], frame, skip);
    }
  }

  private pushLocal(userIds: Iterable<string>, frame: EncodedFrame, skip?: SkipDevice): void {
    for (const userId of userIds) {
      const sessions = this.byUser.get(userId);
      if (!sessions) continue;
      for (const session of sessions) {
        if (skips(skip, session)) continue;
        session.push(frame.for(session.codec));
        this.deps.metrics?.frameOut(frame.frame.type);
      }
    }
  }

  /**
   * One bus message per other node that has any of these users online. The pushes of one
   * event-loop turn (a commit batch's messages) share one presence lookup, and the bus carries a
   * turn's messages to a node in one envelope: the Redis work is per batch, not per message.
   */
  private publishToNodes(
    cluster: ClusterDeps,
    userIds: readonly string[],
    frame: ServerFrame,
    skip?: SkipDevice,
    previousAtUs?: number,
  ): void {
    if (userIds.length === 0) return;
    if (this.remote.length === 0) queueMicrotask(() => this.flushRemote(cluster));
    this.remote.push({ userIds, frame, skip, previousAtUs });
  }

  /** Locates every user of this turn's remote pushes at once, then publishes them in order. */
  private flushRemote(cluster: ClusterDeps): void {
    const pushes = this.remote;
    this.remote = [];
    const users = new Set<string>();
    for (const push of pushes) for (const user of push.userIds) users.add(user);
    cluster.presence.locate([...users]).then(
      (found) => {
        for (const push of pushes) this.publishRemote(cluster, found, push);
      },
      (err: unknown) =>
        this.deps.logger.warn(
          { err, pushes: pushes.length },
          'presence lookup failed; remote pushes dropped',
        ),
    );
  }

  private publishRemote(
    cluster: ClusterDeps,
    found: ReadonlyMap<string, readonly PresenceEntry[]>,
    { userIds, frame, skip, previousAtUs }: RemotePush,
  ): void {
    const byNode = new Map<string, Set<string>>();
    for (const user of userIds) {
      for (const entry of found.get(user) ?? []) {
        if (entry.node === cluster.nodeId) continue;
        let users = byNode.get(entry.node);
        if (!users) byNode.set(entry.node, (users = new Set()));
        users.add(user);
      }
    }
    for (const [node, users] of byNode) {
      cluster.bus.publish(node, {
        kind: 'push',
        users: [...users],
        frame,
        ...(skip ? { skip } : {}),
        ...(previousAtUs !== undefined ? { previousAtUs } : {}),
      });
    }
  }

  /**
   * Message pushes from this node's commits and from other nodes' go out in seq order (see
   * sequencer.ts); other frames, and everything on a single node, go at once.
   */
  private inOrder(
    conversationId: string | undefined,
    seq: number | undefined,
    push: () => void,
    previousAtUs?: number,
  ): void {
    if (conversationId === undefined || seq === undefined) return push();
    const previousAtMs = previousAtUs === undefined ? undefined : previousAtUs / 1000;
    this.sequencer.submit(conversationId, seq, push, previousAtMs);
  }

  private entryOf(session: LiveSession) {
    return { user: session.userId, device: session.device, node: this.cluster?.nodeId ?? '' };
  }
}
