import argon2 from 'argon2';
import { createHash, randomBytes } from 'node:crypto';
import { ParleyError } from '../core/errors.js';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { checkPassword, isUsername, normalizeUsername } from '../core/names.js';
import { addressKey } from './login-address.js';
import type { LoginAttempt, LoginThrottle, Reservation } from './login-throttle.js';
import { LoginSources, type LoginSourcesOptions } from './login-sources.js';
import type {
  AuthStores,
  DeviceSession,
  Session,
  SessionStore,
  User,
  UserStore,
  UserWithSecret,
} from './store/index.js';

// Passwords: argon2id with OWASP's minimum profile (19 MiB, 2 passes, 1 lane). Tokens: 32 random
// bytes, given to the client once and stored only as their SHA-256, so a copy of the database
// holds nothing that logs anyone in.
const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;
const DEVICE_RE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** An argon2id PHC string of a password, as register stores it (for `parley user`). */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}
const TOKEN_PREFIX = 'pt_';

/** What another capability does when an account is deleted (AuthService.deleteAccount). */
export interface DeletionStep {
  /** Throws a coded error to refuse the deletion; nothing has changed yet. */
  check?(account: Session): Promise<void>;
  /** Ends what the account has there; may run again after a crash, so it must be idempotent. */
  cleanup?(account: Session): Promise<void>;
  /** After the account is gone. */
  deleted?(account: Session): void;
}

export interface Credentials {
  readonly user: User;
  readonly token: string;
  readonly device: string;
  /** The device's new key (login-sources.ts), for the client to present at its next login. */
  readonly deviceKey: string;
}

/** Where a login or registration comes from. */
export interface LoginSource {
  /** The client's network address (request.ip). */
  readonly address?: string | undefined;
  /** The device key the client kept from its last login on this device, if any. */
  readonly deviceKey?: unknown;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A device id as the client gave it, or a fresh one when it gave none. */
function deviceOf(value: unknown): string {
  if (value === undefined || value === null) return 'd-' + randomBytes(6).toString('base64url');
  if (typeof value !== 'string' || !DEVICE_RE.test(value)) {
    throw new ParleyError(
      'invalid_request',
      'A device id is 1 to 64 characters of A-Z, a-z, 0-9, "_", ".", ":" or "-".',
    );
  }
  return value;
}

const DEFAULT_KNOWN_SOURCES: LoginSourcesOptions = {
  addressesMax: DEFAULT_LIMITS.loginKnownAddressesMax,
  devicesMax: DEFAULT_LIMITS.loginKnownDevicesMax,
  idleMs: DEFAULT_LIMITS.loginKnownSourceIdleMs,
};

/** How often a session in use is recorded as seen, at most. */
const TOUCH_EVERY_MS = 3_600_000;

export class AuthService {
  private readonly userStore: UserStore;
  private readonly sessionStore: SessionStore;
  private readonly sessionIdleMs: number;
  private readonly touchEveryMs: number;
  private readonly throttle: LoginThrottle | undefined;
  private readonly sources: LoginSources;
  /** Verified against when the username is unknown, so that timing does not reveal which names exist. */
  private readonly decoyHash: Promise<string>;
  private readonly revokedListeners: ((userId: string, device: string) => void)[] = [];
  private readonly deletionSteps: DeletionStep[] = [];

  constructor(
    stores: AuthStores,
    options: {
      throttle?: LoginThrottle;
      /** What is remembered of the sources of logins. Default: the default limits. */
      knownSources?: LoginSourcesOptions;
      /** A session unused for this long expires (0: never). Default: never. */
      sessionIdleMs?: number;
    } = {},
  ) {
    this.userStore = stores.users;
    this.sessionStore = stores.sessions;
    this.throttle = options.throttle;
    this.sources = new LoginSources(
      stores.loginSources,
      options.knownSources ?? DEFAULT_KNOWN_SOURCES,
    );
    this.sessionIdleMs = options.sessionIdleMs ?? 0;
    // Touching costs a write: once an hour is precise enough for days of idleness, and a short
    // idle limit (tests) is touched often enough to keep a session in use alive.
    this.touchEveryMs =
      this.sessionIdleMs > 0 ? Math.min(TOUCH_EVERY_MS, this.sessionIdleMs / 4) : TOUCH_EVERY_MS;
    this.decoyHash = argon2.hash(randomBytes(16).toString('hex'), ARGON2_OPTIONS);
  }

  /** Creates an account; its address and device become known login sources (login-sources.ts). */
  async register(
    username: unknown,
    password: unknown,
    device?: unknown,
    source: LoginSource = {},
  ): Promise<Credentials> {
    const name = normalizeUsername(username);
    const secret = checkPassword(password);
    const dev = deviceOf(device);
    const user = await this.userStore.createUser(name, await argon2.hash(secret, ARGON2_OPTIONS));
    return this.loggedIn(user, dev, addressKey(source.address));
  }

  /**
   * Logs a device in. The login throttle (login-throttle.ts) may refuse it with rate_limited (and
   * a retry time) before the password is checked: after too many failures (or attempts still
   * being checked) from its address, or for the username from unknown sources. A device key from
   * an earlier login on this device (`source.deviceKey`) makes the device a known source,
   * throttled only by its own failures.
   */
  async login(
    username: unknown,
    password: unknown,
    device?: unknown,
    source: LoginSource = {},
  ): Promise<Credentials> {
    if (typeof username !== 'string' || typeof password !== 'string') {
      throw new ParleyError('invalid_credentials');
    }
    const dev = deviceOf(device);
    const name = username.toLowerCase();
    // Such a name cannot exist; refusing it here keeps throttle keys short and unambiguous.
    if (!isUsername(name)) throw new ParleyError('invalid_credentials');
    const address = addressKey(source.address);
    const now = Date.now();
    let looked: Promise<UserWithSecret | null> | undefined;
    // Looked up only when needed: a keyless login that its address's buckets refuse reads nothing.
    const account = () => (looked ??= this.userStore.findUserByUsername(name));
    const proven =
      source.deviceKey !== undefined &&
      (await this.isKnownDevice(await account(), dev, source.deviceKey, now));
    const attempt: LoginAttempt = {
      username: name,
      address,
      provenDevice: proven ? dev : undefined,
    };
    const held = await this.reserve(attempt, 'failed logins', async () => {
      const found = await account();
      return found !== null && (await this.sources.isKnownAddress(found.id, address, now));
    });
    const found = await account();
    const hash = found?.passwordHash ?? (await this.decoyHash);
    const ok = await argon2.verify(hash, password);
    // A failure keeps the tokens it took.
    if (!found || found.passwordHash === null || !ok) throw new ParleyError('invalid_credentials');
    await this.throttle?.succeeded(held, Date.now());
    // Only someone who knows the password learns that the account is disabled.
    if (found.disabledAtMs !== null) throw new ParleyError('account_disabled');
    const user: User = { id: found.id, username: found.username, createdAtMs: found.createdAtMs };
    return this.loggedIn(user, dev, address);
  }

  private isKnownDevice(
    found: UserWithSecret | null,
    device: string,
    key: unknown,
    nowMs: number,
  ): Promise<boolean> {
    if (found === null) return Promise.resolve(false);
    return this.sources.isKnownDevice(found.id, device, key, nowMs);
  }

  /** Remembers the login's source and opens the device's session. */
  private async loggedIn(
    user: User,
    device: string,
    address: string | undefined,
  ): Promise<Credentials> {
    const deviceKey = await this.sources.remember(user.id, device, address, Date.now());
    return { user, device, deviceKey, token: await this.openSession(user.id, device) };
  }

  /** Called after a token is revoked, so live connections that used it can be closed. */
  onRevoked(listener: (userId: string, device: string) => void): void {
    this.revokedListeners.push(listener);
  }

  /** Revokes the token's session at once, and closes the connections that logged in with it. */
  async logout(token: string): Promise<void> {
    const hash = hashToken(token);
    const session = await this.sessionStore.findSession(hash);
    if (!session || !(await this.sessionStore.deleteSession(hash))) return;
    this.revoked(session.userId, [session.device]);
  }

  private revoked(userId: string, devices: readonly string[]): void {
    for (const device of devices) {
      for (const listener of this.revokedListeners) listener(userId, device);
    }
  }

  /** The caller's logged-in devices, newest first; `current` marks the caller's own. */
  async sessions(caller: Session): Promise<(DeviceSession & { current: boolean })[]> {
    return (await this.sessionStore.listSessions(caller.userId)).map((s) => ({
      ...s,
      current: s.device === caller.device,
    }));
  }

  /**
   * Logs one of the caller's devices out (a lost phone, from the laptop): its token stops working
   * and its live connections are closed. The caller's own device is a logout.
   */
  async revokeDevice(caller: Session, device: unknown): Promise<void> {
    if (typeof device !== 'string' || !DEVICE_RE.test(device)) {
      throw new ParleyError('session_not_found');
    }
    if (!(await this.sessionStore.deleteDeviceSession(caller.userId, device))) {
      throw new ParleyError('session_not_found');
    }
    await this.sources.forgetDevice(caller.userId, device);
    this.revoked(caller.userId, [device]);
  }

  /**
   * Replaces the caller's password after checking the current one (throttled like logins, so a
   * stolen token cannot guess it), and logs every other device out: they log in again with the
   * new password. The caller's token keeps working.
   */
  async changePassword(
    caller: Session,
    current: unknown,
    next: unknown,
    address?: string,
  ): Promise<void> {
    const secret = checkPassword(next);
    const user = await this.confirm(caller, current, address);
    const hash = await argon2.hash(secret, ARGON2_OPTIONS);
    this.revoked(user.id, await this.userStore.setPassword(user.id, hash, caller.device));
    await this.sources.forgetOtherDevices(user.id, caller.device);
  }

  /** Steps of an account's deletion that other capabilities own (wired in compose/services.ts). */
  onDeletion(step: DeletionStep): void {
    this.deletionSteps.push(step);
  }

  /**
   * Deletes the caller's account after checking its password (throttled like logins). Every
   * step's check runs first, so a refusal changes nothing; then each step's cleanup (leaving
   * groups, ending contacts), and last the account itself: its sessions end (live connections
   * close), its profile is gone, and it can no longer log in. A crash before the last step
   * leaves a working account, and deleting again finishes the job.
   */
  async deleteAccount(caller: Session, password: unknown, address?: string): Promise<void> {
    const user = await this.confirm(caller, password, address);
    for (const step of this.deletionSteps) await step.check?.(caller);
    for (const step of this.deletionSteps) await step.cleanup?.(caller);
    // Before the account goes: once it is gone, this cannot be repeated.
    await this.sources.forgetAll(user.id);
    this.revoked(user.id, await this.userStore.deleteAccount(user.id));
    for (const step of this.deletionSteps) step.deleted?.(caller);
  }

  /**
   * Takes the attempt's tokens before its password is checked, or refuses with rate_limited while
   * its source must wait (login-throttle.ts): taking first, atomically, is what stops guesses sent
   * in parallel. A right password gives them back (LoginThrottle.succeeded).
   */
  private async reserve(
    attempt: LoginAttempt,
    what: string,
    isKnownAddress: () => Promise<boolean>,
  ): Promise<Reservation> {
    const reservation = (await this.throttle?.reserve(attempt, Date.now(), isKnownAddress)) ?? {
      waitMs: 0,
      held: [],
    };
    const { waitMs } = reservation;
    if (waitMs > 0) {
      throw new ParleyError(
        'rate_limited',
        `Too many ${what}; try again in ${Math.ceil(waitMs / 1000)} s.`,
        { retryAfterMs: waitMs },
      );
    }
    return reservation;
  }

  /**
   * The caller's account, if `password` is its password; throttled like logins, by the caller's
   * device (its session proves it), so that a stolen token buys only that device's burst.
   */
  private async confirm(caller: Session, password: unknown, address?: string): Promise<User> {
    const name = caller.username;
    const attempt: LoginAttempt = {
      username: name,
      address: addressKey(address),
      provenDevice: caller.device,
    };
    const held = await this.reserve(attempt, 'wrong passwords', () => Promise.resolve(true));
    const found = await this.userStore.findUserByUsername(name);
    const ok =
      typeof password === 'string' &&
      found !== null &&
      found.passwordHash !== null &&
      (await argon2.verify(found.passwordHash, password));
    if (!found || !ok) throw new ParleyError('wrong_password');
    await this.throttle?.succeeded(held, Date.now());
    return { id: found.id, username: found.username, createdAtMs: found.createdAtMs };
  }

  /** The session behind a bearer token, or unauthenticated. */
  async authenticate(token: string | undefined): Promise<Session> {
    if (!token || !token.startsWith(TOKEN_PREFIX)) throw new ParleyError('unauthenticated');
    const hash = hashToken(token);
    const session = await this.sessionStore.findSession(hash);
    if (!session) throw new ParleyError('unauthenticated');
    const now = Date.now();
    if (this.sessionIdleMs > 0 && now - session.lastSeenMs > this.sessionIdleMs) {
      await this.sessionStore.deleteSession(hash);
      throw new ParleyError('unauthenticated', 'The session expired; log in again.');
    }
    if (now - session.lastSeenMs >= this.touchEveryMs) {
      await this.sessionStore.touchSession(session.userId, session.device, now);
    }
    return session;
  }

  /**
   * A live link of the device closed after `livedMs`: its session was in use all along, however
   * long the link lived (a link authenticates once, at its hello). A link shorter than the touch
   * interval writes nothing: its hello's authentication was recent enough, so a reconnect storm
   * costs no write per link.
   */
  linkClosed(userId: string, device: string, livedMs: number): void {
    if (livedMs < this.touchEveryMs) return;
    this.sessionStore.touchSession(userId, device, Date.now()).catch(() => undefined);
  }

  private async openSession(userId: string, device: string): Promise<string> {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    await this.sessionStore.putSession(hashToken(token), userId, device);
    return token;
  }
}
