// What this browser keeps between visits: the login (token, device, user) and the device id.
// One device id per browser profile, kept even across logouts, so that a login on this browser
// replaces its own earlier session instead of piling up new devices (docs/web-client.md).

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

/** The outbox of a user on this device: unsent messages survive a reload. */
export function outboxKey(session: Session): string {
  return `parley.outbox.${session.user.id}.${session.device}`;
}
