import { randomBytes } from 'node:crypto';

// Ids are 16 characters of base64url from 96 random bits: unguessable, URL-safe, and short enough
// to index cheaply. A one-letter prefix tells a user id from a conversation or message id in logs.
export type IdKind = 'u' | 'c' | 'm';

export function newId(kind: IdKind): string {
  return kind + randomBytes(12).toString('base64url');
}

/** A random ref for sends that arrive without one (the seed API has no client message id). */
export function newRef(): string {
  return 'srv-' + randomBytes(12).toString('base64url');
}
