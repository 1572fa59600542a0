// What this browser keeps between visits: the login (token, device, user), the device id, and
// each account's device key. One device id per browser profile, kept even across logouts, so that
// a login on this browser replaces its own earlier session instead of piling up new devices
// (docs/web-client.md). The device keys are kept across logouts too, as the server keeps them: a
// key lets this browser log in even while someone else's failed guesses slow down logins from
// unknown places (docs/rest-api.md).

export interface SessionUser {
  readonly id: string;
  readonly username: string;
}

export interface Session {
  readonly token: string;
  readonly device: string;
  readonly user: SessionUser;
}

const SESSION_KEY = 'parley.session';
const DEVICE_KEY = 'parley.device';
const DEVICE_KEYS_KEY = 'parley.deviceKeys';
/** Accounts whose device keys this browser keeps; the least recently used goes first. */
const DEVICE_KEYS_MAX = 20;

/** Random hex, from getRandomValues: unlike randomUUID it works on plain-http origins too. */
export function randomHex(bytes: number): string {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function deviceId(): string {
  let id = localStorage.getItem(DEVICE_KEY);
  if (id === null || !/^[\w.-]{1,64}$/.test(id)) {
    id = `web-${randomHex(6)}`;
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

export function loadSession(): Session | null {
  const text = localStorage.getItem(SESSION_KEY);
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Partial<Session> | null;
    if (
      typeof value?.token === 'string' &&
      typeof value.device === 'string' &&
      typeof value.user?.id === 'string' &&
      typeof value.user.username === 'string'
    ) {
      return { token: value.token, device: value.device, user: value.user };
    }
  } catch (err) {
    console.warn('parley: the stored session is damaged; logging out', err);
  }
  localStorage.removeItem(SESSION_KEY);
  return null;
}

export function saveSession(session: Session): void {
  localStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  localStorage.removeItem(SESSION_KEY);
}

/** Device keys by username, oldest login first; a damaged entry counts as none. */
function deviceKeys(): Record<string, string> {
  try {
    const value = JSON.parse(localStorage.getItem(DEVICE_KEYS_KEY) ?? '{}') as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return Object.fromEntries(
        Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'),
      );
    }
  } catch (err) {
    console.warn('parley: the stored device keys are damaged; forgetting them', err);
  }
  return {};
}

/** This browser's device key for an account (its username, case-folded), if it has one. */
export function deviceKeyFor(username: string): string | undefined {
  return deviceKeys()[username.toLowerCase()];
}

/** Keeps the key a login or registration returned, replacing the account's older one. */
export function keepDeviceKey(username: string, key: string): void {
  const keys = deviceKeys();
  delete keys[username];
  keys[username] = key;
  const kept = Object.entries(keys).slice(-DEVICE_KEYS_MAX);
  localStorage.setItem(DEVICE_KEYS_KEY, JSON.stringify(Object.fromEntries(kept)));
}

/** The outbox of a user on this device: unsent messages survive a reload. */
export function outboxKey(session: Session): string {
  return `parley.outbox.${session.user.id}.${session.device}`;
}
