import { createHash, randomBytes } from 'node:crypto';
import type { LoginSourceStore } from './store/index.js';

// Where an account logged in from before: the sources the login throttle never holds back for
// failures made elsewhere (login-throttle.ts). Neither can be claimed by an attacker:
//
// - an address that logged in successfully (addressKey()'s name of it: an IPv6 /64), remembered
//   as SHA-256 of the user id and the address, so that the table shows no addresses and the
//   same address of two users cannot be matched up. (A hash of an IPv4 address can be reversed
//   by trying all 2^32 of them, so this keeps addresses out of sight, not out of reach; the bound
//   and the age limit keep how many are held small.)
// - a device key: 32 random bytes that a successful login or registration gives the device
//   (OWASP's "device cookie"), stored as its SHA-256 per (user, device) and replaced at each login
//   of the device. The client presents it with its device id at later logins. A device id alone
//   is guessable; the key is not.

export interface LoginSourcesOptions {
  /** Addresses remembered per user, most recently used first. */
  readonly addressesMax: number;
  /** Device keys kept per user, most recently used first. */
  readonly devicesMax: number;
  /** An address or key not used to log in for this long is forgotten. */
  readonly idleMs: number;
}

const KEY_PREFIX = 'dk_';
const KEY_RE = /^dk_[A-Za-z0-9_-]{43}$/;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export class LoginSources {
  private readonly store: LoginSourceStore;
  private readonly options: LoginSourcesOptions;

  constructor(store: LoginSourceStore, options: LoginSourcesOptions) {
    this.store = store;
    this.options = options;
  }

  /** Whether the user logged in from this address (addressKey()'s) within the age limit. */
  isKnownAddress(userId: string, address: string | undefined, nowMs: number): Promise<boolean> {
    if (address === undefined) return Promise.resolve(false);
    return this.store.isKnownAddress(userId, addressHash(userId, address), this.since(nowMs));
  }

  /** Whether `key` is the user's current key for `device`, used within the age limit. */
  isKnownDevice(userId: string, device: string, key: unknown, nowMs: number): Promise<boolean> {
    if (typeof key !== 'string' || !KEY_RE.test(key)) return Promise.resolve(false);
    return this.store.isKnownDevice(userId, device, sha256(key), this.since(nowMs));
  }

  /** Remembers a successful login; resolves the device's new key, for the client to keep. */
  async remember(
    userId: string,
    device: string,
    address: string | undefined,
    nowMs: number,
  ): Promise<string> {
    const key = KEY_PREFIX + randomBytes(32).toString('base64url');
    await this.store.rememberLogin(
      {
        userId,
        device,
        deviceKeyHash: sha256(key),
        addressHash: address === undefined ? null : addressHash(userId, address),
        nowMs,
      },
      {
        addressesMax: this.options.addressesMax,
        devicesMax: this.options.devicesMax,
        forgetBeforeMs: this.since(nowMs),
      },
    );
    return key;
  }

  /** The device is revoked: its key no longer makes it known. */
  forgetDevice(userId: string, device: string): Promise<void> {
    return this.store.forgetDeviceKeys(userId, { device });
  }

  /** Every device but `keep` is logged out (a password change): their keys go too. */
  forgetOtherDevices(userId: string, keep: string): Promise<void> {
    return this.store.forgetDeviceKeys(userId, { allBut: keep });
  }

  /** The account is deleted: nothing of where it logged in from may stay. */
  forgetAll(userId: string): Promise<void> {
    return this.store.forgetLoginSources(userId);
  }

  private since(nowMs: number): number {
    return nowMs - this.options.idleMs;
  }
}

function addressHash(userId: string, address: string): string {
  return sha256(`parley-login-address\0${userId}\0${address}`);
}
