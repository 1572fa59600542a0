// The auth store ports: accounts (UserStore), login sessions (SessionStore), and where users
// logged in from (LoginSourceStore, for the login throttle), bundled as AuthStores over one
// database.
//
// Contract (every backend; proven by auth-store.contract.ts):
// - UserStore: usernames are unique. createUser with a taken username rejects with
//   `username_taken` and changes nothing. Usernames reach the store already case-folded.
//   ensureUsers creates the missing users (without password, so they cannot log in) and returns
//   all of them, in the order asked. Concurrent calls for the same name never fail.
// - setPassword replaces the password hash and, in the same transaction, ends every session of
//   the user but `keepDevice`'s; it returns the devices whose sessions it ended (none, and nothing
//   changed, for an unknown user).
// - deleteAccount marks the user deleted and disabled, drops its password and its profile (the
//   ProfileStore then knows no such user) and ends every session in one transaction, and returns
//   the devices whose sessions it ended; the username stays taken. A deleted account is an
//   unknown user to findSession and cannot log in. Repeating it changes nothing more; an unknown
//   user returns [].
// - SessionStore: a session is keyed by the SHA-256 of its token; the token itself is never
//   stored. There is at most one session per (user, device): putSession replaces the older one,
//   whose token stops working at once.
// - deleteSession makes the token unusable immediately; it reports whether one was removed.
// - findSession never returns a session of a disabled account (users.disabled_at_ms set).
// - A session's lastSeenMs is its createdAtMs until touchSession moves it (never back); findSession
//   and listSessions report it. touchSession of a device without a session does nothing.
// - listSessions lists a user's sessions (one per device), newest first. deleteDeviceSession
//   ends the session of one (user, device) at once and reports whether there was one.
// - LoginSourceStore: rememberLogin stores, in one transaction, the device's key hash (replacing
//   the device's older one) and the address hash, both last used at `nowMs`, and keeps only the
//   user's `addressesMax` most recently used addresses and `devicesMax` most recently used device
//   keys; then it forgets every address and device key, of any user, last used before
//   `forgetBeforeMs`. Only hashes reach the store.
// - isKnownAddress and isKnownDevice are true only for a hash remembered for that user (and, for
//   a key, that device), last used at or after `sinceMs`. forgetDeviceKeys drops the key of one
//   device, or of all devices but one; forgetLoginSources drops every address and key of the
//   user. Neither fails for unknown ones.

export interface User {
  readonly id: string;
  readonly username: string;
  readonly createdAtMs: number;
}

export interface UserWithSecret extends User {
  /** argon2id PHC string, or null for an account that cannot log in (seed open mode). */
  readonly passwordHash: string | null;
  /** When an operator disabled the account (`parley user disable`), or null. */
  readonly disabledAtMs: number | null;
}

export interface Session {
  readonly userId: string;
  readonly username: string;
  readonly device: string;
  readonly createdAtMs: number;
  /** When the session was last used, to the precision of AuthService's touches. */
  readonly lastSeenMs: number;
}

/** A device's session as its user sees it (never its token). */
export interface DeviceSession {
  readonly device: string;
  readonly createdAtMs: number;
  readonly lastSeenMs: number;
}

/** A successful login, as the known login sources remember it (login-sources.ts). */
export interface LoginRecord {
  readonly userId: string;
  readonly device: string;
  /** SHA-256 of the device key this login issued to the device. */
  readonly deviceKeyHash: string;
  /** The client's address, hashed together with the user; null when there was none. */
  readonly addressHash: string | null;
  readonly nowMs: number;
}

/** How much rememberLogin keeps. */
export interface LoginSourceBounds {
  readonly addressesMax: number;
  readonly devicesMax: number;
  /** Addresses and keys (of any user) last used before this are forgotten. */
  readonly forgetBeforeMs: number;
}

/** Where a user logged in from before, for the login throttle (login-sources.ts). */
export interface LoginSourceStore {
  rememberLogin(login: LoginRecord, bounds: LoginSourceBounds): Promise<void>;
  isKnownAddress(userId: string, addressHash: string, sinceMs: number): Promise<boolean>;
  isKnownDevice(
    userId: string,
    device: string,
    deviceKeyHash: string,
    sinceMs: number,
  ): Promise<boolean>;
  /** Drops the key of one device, or of every device but one. */
  forgetDeviceKeys(userId: string, which: { device: string } | { allBut: string }): Promise<void>;
  forgetLoginSources(userId: string): Promise<void>;
}

/** Accounts. */
export interface UserStore {
  createUser(username: string, passwordHash: string | null): Promise<User>;
  ensureUsers(usernames: readonly string[]): Promise<User[]>;
  findUserByUsername(username: string): Promise<UserWithSecret | null>;
  /** The users that exist among these names, in no particular order. */
  findUsersByUsernames(usernames: readonly string[]): Promise<User[]>;
  /** The users that exist among these ids, in no particular order. */
  getUsers(ids: readonly string[]): Promise<User[]>;
  setPassword(userId: string, passwordHash: string, keepDevice: string): Promise<string[]>;
  deleteAccount(userId: string): Promise<string[]>;
}

/** Login sessions, one per (user, device). */
export interface SessionStore {
  putSession(tokenHash: string, userId: string, device: string): Promise<void>;
  findSession(tokenHash: string): Promise<Session | null>;
  deleteSession(tokenHash: string): Promise<boolean>;
  /** Records that the device's session was used at `nowMs` (see the contract). */
  touchSession(userId: string, device: string, nowMs: number): Promise<void>;
  listSessions(userId: string): Promise<DeviceSession[]>;
  deleteDeviceSession(userId: string, device: string): Promise<boolean>;
}

/** One backend's auth ports, over one database. */
export interface AuthStores {
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly loginSources: LoginSourceStore;
}
