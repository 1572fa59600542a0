import type { ContactFrame, PresenceFrame } from '../protocol/index.js';
import type { ContactEvents } from './contact-events.js';

// Presence stops at a block (docs/contacts.md#blocks-and-presence). The presence lists themselves
// leave barred pairs out (Messaging.peers), which covers every later connect and
// disconnect; this covers the two users being online at the moment of the block or unblock.

export interface BlockPresenceDeps {
  /** Which of these users are online anywhere (the delivery router's). */
  online(userIds: readonly string[]): Promise<ReadonlySet<string>>;
  /** Pushes a frame to every session of these users, on every node. */
  deliver(userIds: readonly string[], frame: PresenceFrame): void;
  /** Whose presence a user sees: its direct peers, blocks left out (Messaging.peers). */
  peers(userId: string): Promise<readonly string[]>;
  /** A failed look-up: presence is a courtesy, so it is only reported. */
  onError(err: unknown): void;
}

/**
 * On a block, tells each of the two that the other is offline: from now on neither hears of the
 * other's comings and goings, and a client must not keep showing a stale "online". On an unblock
 * that leaves the pair unbarred, tells each one online whether the other is, as a reconnect would.
 */
export class BlockPresence implements ContactEvents {
  private readonly deps: BlockPresenceDeps;

  constructor(deps: BlockPresenceDeps) {
    this.deps = deps;
  }

  contactChanged(_userIds: readonly string[], frame: ContactFrame): void {
    if (frame.event === 'blocked') this.hide(frame.from, frame.to);
    if (frame.event === 'unblocked') this.introduce(frame.from, frame.to);
  }

  /**
   * Tells each of two users who may have just become presence peers (an unblock, a new direct
   * conversation) whether the other is online, as a reconnect would.
   */
  introduce(a: string, b: string): void {
    this.show(a, b).catch((err: unknown) => this.deps.onError(err));
  }

  private hide(a: string, b: string): void {
    this.deps.deliver([b], { type: 'presence', user: a, online: false });
    this.deps.deliver([a], { type: 'presence', user: b, online: false });
  }

  private async show(a: string, b: string): Promise<void> {
    // Read after the change committed: b is a peer unless either blocks the other, or the two
    // share no direct conversation (then neither ever saw the other's presence).
    if (!(await this.deps.peers(a)).includes(b)) return;
    const online = await this.deps.online([a, b]);
    if (online.has(a)) this.deps.deliver([b], { type: 'presence', user: a, online: true });
    if (online.has(b)) this.deps.deliver([a], { type: 'presence', user: b, online: true });
  }
}
