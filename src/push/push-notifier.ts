import type { DeletionStep } from '../auth/index.js';
import type { Logger } from '../core/logger.js';
import { OutboundError, hostOf, type OutboundClient } from '../outbound/index.js';
import type {
  Caller,
  GroupChanged,
  Member,
  MessagingEvents,
  StoredMessage,
} from '../messaging/index.js';
import type { Pusher, PusherStore } from './pusher-store.js';

// Push notifications for users with no live connection (docs/push.md). After a message is
// stored, its conversation's members that have a pusher, are offline everywhere, did not mute
// the conversation and are still logged in on the pusher's device get one POST to their push
// gateway, which forwards it to the phone or browser (FCM, APNs, Web Push). Like every push,
// best effort and at most once: a device that missed one still syncs everything when it opens.
//
// The send path pays nothing for users without pushers: the notifier keeps the set of users that
// have one (loaded at start, read again every PARLEY_PUSH_REFRESH_MS for the other nodes'
// registrations) and
// checks a message's members, from the delivery router's cache, against it in memory. Only a
// message with such a member costs a presence lookup and one query.

/** Notifications waiting to be posted; past this the oldest is dropped (and counted). */
const QUEUE_MAX = 10_000;
const CONCURRENCY = 8;

export interface PushNotifierDeps {
  readonly store: PusherStore;
  /** Allows exactly the operator's gateways (PARLEY_PUSH_GATEWAYS), the rule registration used. */
  readonly outbound: OutboundClient;
  /** A conversation's current members, from the delivery router's cache. */
  membersOf(conversationId: string, fn: (members: ReadonlySet<string>) => void): void;
  /** Which of these users have a live connection on any node. */
  online(userIds: readonly string[]): Promise<Set<string>>;
  readonly logger: Pick<Logger, 'warn' | 'info'>;
  /** How often the set of users with pushers is read again (other nodes' registrations). */
  readonly refreshMs?: number;
  readonly metrics?: { pushed(result: 'sent' | 'removed' | 'failed' | 'dropped'): void };
}

interface Job {
  readonly pusher: Pusher;
  readonly body: string;
}

export class PushNotifier implements MessagingEvents {
  private readonly deps: PushNotifierDeps;
  private users = new Set<string>();
  private readonly queue: Job[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Notifications dropped because the queue was full, since start. */
  dropped = 0;

  constructor(deps: PushNotifierDeps) {
    this.deps = deps;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.deps.refreshMs ?? 30_000);
    this.timer.unref();
  }

  /** Push's part of deleting an account: its devices' push tokens are personal data too. */
  deletionStep(): DeletionStep {
    return { cleanup: async (account) => void (await this.deps.store.removeAll(account.userId)) };
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.queue.length = 0;
  }

  /** A pusher was set on this node: its user counts at once, not after the next refresh. */
  noteUser(userId: string): void {
    this.users.add(userId);
  }

  /** Notifications waiting or being posted. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  private async refresh(): Promise<void> {
    try {
      this.users = new Set(await this.deps.store.usersWithPushers());
    } catch (err) {
      this.deps.logger.warn({ err }, 'push: reading the users with pushers failed');
    }
  }

  // --- MessagingEvents ---------------------------------------------------------------------

  messageStored(message: StoredMessage): void {
    if (this.users.size === 0 || this.stopped || message.body.kind === 'system') return;
    this.deps.membersOf(message.conversationId, (members) => {
      let candidates: string[] | null = null;
      for (const user of members) {
        if (user !== message.senderId && this.users.has(user)) (candidates ??= []).push(user);
      }
      if (candidates) void this.notify(message, candidates);
    });
  }

  watermarkMoved(_member: Member, _kind: 'delivered' | 'read'): void {}
  messageRecalled(_message: StoredMessage, _by: Caller): void {}
  membersChanged(_conversationId: string): void {}
  groupChanged(_change: GroupChanged): void {}

  private async notify(message: StoredMessage, candidates: string[]): Promise<void> {
    try {
      const online = await this.deps.online(candidates);
      const offline = candidates.filter((u) => !online.has(u));
      if (offline.length === 0) return;
      const targets = await this.deps.store.targets(message.conversationId, offline);
      // The body never leaves the server: a gateway (and FCM or APNs behind it) learns who wrote
      // where and when, not what; the app fetches the message with its own token.
      const notification = {
        type: 'message',
        id: message.id,
        conversation: message.conversationId,
        seq: message.seq,
        sender: message.senderId,
        kind: message.body.kind,
        at: Math.floor(message.atUs / 1000),
      };
      for (const pusher of targets) {
        const device = { user: pusher.userId, device: pusher.device, token: pusher.token };
        this.enqueue({ pusher, body: JSON.stringify({ notification, device }) });
      }
    } catch (err) {
      this.deps.logger.warn({ err, conversationId: message.conversationId }, 'push: lookup failed');
    }
  }

  private enqueue(job: Job): void {
    if (this.stopped) return;
    if (this.queue.length >= QUEUE_MAX) {
      this.queue.shift();
      this.deps.metrics?.pushed('dropped');
      if (this.dropped++ % 1_000 === 0) {
        this.deps.logger.warn({ dropped: this.dropped }, 'push: queue full, oldest dropped');
      }
    }
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < CONCURRENCY && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.inFlight++;
      void this.post(job).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async post(job: Job): Promise<void> {
    const { pusher } = job;
    const gateway = hostOf(pusher.url);
    try {
      // Checked again here, not only at registration: the operator may have dropped a gateway
      // since, and a row may have reached the store some other way.
      const res = await this.deps.outbound.request(pusher.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: job.body,
      });
      // The gateway says this device's registration is dead: stop pushing to it.
      if (res.status >= 200 && res.status < 300) {
        this.deps.metrics?.pushed('sent');
      } else if (res.status === 404 || res.status === 410) {
        this.deps.metrics?.pushed('removed');
        await this.deps.store.remove(pusher.userId, pusher.device);
      } else {
        // A 3xx lands here too: a redirect is never followed.
        this.deps.metrics?.pushed('failed');
        this.deps.logger.warn({ gateway, status: res.status }, 'push refused');
      }
    } catch (err) {
      this.deps.metrics?.pushed('failed');
      // Only a code and a reason: an error's own message may quote the pusher's URL or a header.
      const { code, reason } =
        err instanceof OutboundError
          ? err
          : { code: 'unexpected', reason: (err as { code?: string }).code ?? 'unknown' };
      this.deps.logger.warn({ gateway, code, reason }, 'push failed');
    }
  }
}
