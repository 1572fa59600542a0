// The PusherStore seam: where a device's app wants its push notifications sent (docs/push.md).
//
// Contract (every backend; proven by pusher-store.contract.ts):
// - A device has at most one pusher: set() replaces it. remove() says whether there was one;
//   removeAll() removes every device's.
// - targets(conversation, users) returns the pushers of those users that should hear of a new
//   message in the conversation: the user is a current member (not left) that did not mute the
//   conversation's notifications, and the pusher's device still has a session (a device that
//   logged out, was logged out, or whose account was deleted or disabled gets nothing, without
//   any hook on those paths). Each pusher once, in no particular order.
// - usersWithPushers() lists each user that has a pusher, once.

export interface Pusher {
  readonly userId: string;
  readonly device: string;
  /** The push gateway's URL (one of the operator's PARLEY_PUSH_GATEWAYS). */
  readonly url: string;
  /** What the gateway needs to reach this device (an FCM or APNs token, say), if anything. */
  readonly token: string | null;
  readonly createdAtMs: number;
}

export interface PusherStore {
  set(pusher: Pusher): Promise<void>;
  get(userId: string, device: string): Promise<Pusher | null>;
  remove(userId: string, device: string): Promise<boolean>;
  /** Every pusher of the user (its account is being deleted); how many there were. */
  removeAll(userId: string): Promise<number>;
  targets(conversationId: string, userIds: readonly string[]): Promise<Pusher[]>;
  usersWithPushers(): Promise<string[]>;
}
