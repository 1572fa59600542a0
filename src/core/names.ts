import { ParleyError } from './errors.js';

// Usernames are case-folded: "Kylie" and "kylie" are one account, as users expect.
const USERNAME_RE = /^[a-z0-9_.-]{1,32}$/;

export function isUsername(value: string): boolean {
  return USERNAME_RE.test(value);
}

/** Case-folds and validates a username, or throws invalid_username. */
export function normalizeUsername(value: unknown): string {
  if (typeof value !== 'string') throw new ParleyError('invalid_username');
  const folded = value.toLowerCase();
  if (!isUsername(folded)) throw new ParleyError('invalid_username');
  return folded;
}

export function checkPassword(value: unknown): string {
  if (typeof value !== 'string' || value.length < 8 || value.length > 256) {
    throw new ParleyError('invalid_password');
  }
  return value;
}
