import type { User } from '../../auth/index.js';

// The AdminStore seam: what the operator's command line (`parley user …`, `parley stats`,
// `parley migrate`) does to the store, beside the ports the server uses.
//
// Contract (every backend; proven by admin-store.contract.ts):
// - addUser creates an account with the given password hash; a taken username rejects with
//   `username_taken` and changes nothing. Usernames arrive case-folded.
// - setPassword replaces the hash and deletes every session of the user in one transaction: the
//   old tokens stop working at once. disable sets `disabled_at_ms` (the first time only) and
//   deletes the sessions in one transaction; from then on SessionStore.findSession returns none for
//   the user and login is refused (`account_disabled`). enable clears the mark. Each returns the
//   user and the devices whose sessions it deleted, or null for an unknown username, which
//   changes nothing.
// - stats counts rows as they are committed at the time of the call.
// - migrations lists the applied schema migrations in version order.

export interface UserChange {
  readonly user: User;
  /** Devices whose sessions were deleted (their live connections should be closed). */
  readonly revokedDevices: readonly string[];
}

export interface StoreStats {
  readonly users: number;
  readonly disabledUsers: number;
  readonly sessions: number;
  readonly conversations: {
    readonly direct: number;
    readonly group: number;
    readonly room: number;
  };
  readonly messages: number;
  readonly attachments: number;
  readonly attachmentBytes: number;
  /** Accounts their owners deleted (also counted in users and disabledUsers). */
  readonly deletedUsers: number;
  /** Devices with a pusher (docs/push.md). */
  readonly pushers: number;
}

export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  readonly appliedAtMs: number;
}

export interface AdminStore {
  addUser(username: string, passwordHash: string): Promise<User>;
  setPassword(username: string, passwordHash: string): Promise<UserChange | null>;
  disable(username: string): Promise<UserChange | null>;
  enable(username: string): Promise<UserChange | null>;
  stats(): Promise<StoreStats>;
  migrations(): Promise<AppliedMigration[]>;
  close(): Promise<void>;
}
