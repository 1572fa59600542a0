import type { DeletionStep } from '../auth/index.js';
import { KeyedBuckets } from '../core/keyed-buckets.js';
import type { ProfileFrame } from '../protocol/index.js';
import type { Profile } from './profile-store.js';
import type { ProfileSubscriber } from './users-service.js';

// The `profile` push (docs/contacts.md#profile-pushes): after a user's profile changes, the
// users who show it — the user's own sessions, everyone sharing a conversation with it, its
// contacts — get the profile as it now is, so names and pictures change without a reload.
//
// A user in large groups has a large audience, so the pushes per user are a token bucket
// (`burst`, then one per `refillMs`). A change past it is not dropped: the latest profile goes out
// once the next token is there, so the last push always carries the last change.

export interface ProfilePushDeps {
  /** The users to tell about `userId`'s profile, the user included. */
  audience(userId: string): Promise<readonly string[]>;
  deliver(userIds: readonly string[], frame: ProfileFrame): void;
  /** A push could not be sent (its audience could not be read). */
  onError(err: unknown): void;
  burst: number;
  refillMs: number;
  nowMs?: () => number;
}

/** Where a profile's audience comes from: its conversations and its contacts. */
export interface AudienceSources {
  /** Users sharing a current conversation with the user (messaging). */
  sharedWith(userId: string): Promise<readonly string[]>;
  /** The user's contacts (contacts). */
  contactIds(userId: string): Promise<readonly string[]>;
}

/** Who shows a user's profile: itself, everyone sharing a conversation with it, its contacts. */
export function profileAudience(sources: AudienceSources): (userId: string) => Promise<string[]> {
  return async (userId) => [
    ...new Set([
      userId,
      ...(await sources.sharedWith(userId)),
      ...(await sources.contactIds(userId)),
    ]),
  ];
}

export function profileFrame(profile: Profile, atMs: number): ProfileFrame {
  return {
    type: 'profile',
    user: profile.userId,
    username: profile.username,
    ...(profile.displayName !== null ? { displayName: profile.displayName } : {}),
    ...(profile.bio !== null ? { bio: profile.bio } : {}),
    ...(profile.avatar !== null ? { avatar: profile.avatar } : {}),
    at: profile.updatedAtMs ?? atMs,
  };
}

export class ProfilePush implements ProfileSubscriber {
  private readonly deps: ProfilePushDeps;
  private readonly buckets: KeyedBuckets;
  private readonly now: () => number;
  /** Users over their budget: the frame to push when the next token is there. */
  private readonly waiting = new Map<
    string,
    { frame: ProfileFrame; audience: readonly string[] | undefined; timer: NodeJS.Timeout }
  >();
  private sending: Promise<void> = Promise.resolve();

  constructor(deps: ProfilePushDeps) {
    this.deps = deps;
    this.buckets = new KeyedBuckets(1000 / deps.refillMs);
    this.now = deps.nowMs ?? Date.now;
  }

  /** The profile after a change its owner made. */
  profileChanged(profile: Profile): void {
    this.queue(profileFrame(profile, this.now()));
  }

  /**
   * The account was deleted: its profile is gone (a frame with `deleted` and no fields). The
   * audience is the one it had before its groups and contacts ended, read by the caller then.
   */
  accountDeleted(
    account: { readonly userId: string; readonly username: string },
    audience: readonly string[],
  ): void {
    this.queue(
      {
        type: 'profile',
        user: account.userId,
        username: account.username,
        deleted: true,
        at: this.now(),
      },
      audience,
    );
  }

  /**
   * The profile push's part of deleting an account (AuthService.onDeletion): the audience is
   * read at cleanup, before the other steps end the account's groups and contacts (so this step
   * must be registered before theirs), and told once the account is gone.
   */
  deletionStep(): DeletionStep {
    const shownTo = new Map<string, readonly string[]>();
    return {
      cleanup: async (account) => {
        shownTo.set(account.userId, await this.deps.audience(account.userId));
      },
      deleted: (account) => {
        this.accountDeleted(account, shownTo.get(account.userId) ?? [account.userId]);
        shownTo.delete(account.userId);
      },
    };
  }

  /** Drops the pushes still waiting for a token (the node is stopping). */
  close(): void {
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
  }

  /** `audience`: who to tell, when not the profile's current audience (deps.audience). */
  private queue(frame: ProfileFrame, audience?: readonly string[]): void {
    const held = this.waiting.get(frame.user);
    if (held) {
      held.frame = frame;
      held.audience = audience;
      return;
    }
    const bucket = this.buckets.of(frame.user, this.deps.burst, this.now());
    if (bucket.take(this.now())) return this.push(frame, audience);
    const timer = setTimeout(() => this.release(frame.user), bucket.msUntilToken(this.now()));
    timer.unref();
    this.waiting.set(frame.user, { frame, audience, timer });
  }

  private release(userId: string): void {
    const held = this.waiting.get(userId);
    if (!held) return;
    this.waiting.delete(userId);
    this.queue(held.frame, held.audience);
  }

  /** One audience read at a time, so the pushes go out in the order of the changes. */
  private push(frame: ProfileFrame, audience?: readonly string[]): void {
    this.sending = this.sending
      .then(() => audience ?? this.deps.audience(frame.user))
      .then(
        (userIds) => this.deps.deliver(userIds, frame),
        (err: unknown) => this.deps.onError(err),
      );
  }
}
