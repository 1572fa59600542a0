import { randomFillSync } from 'node:crypto';

// Ids are 16 characters of base64url from 96 random bits: unguessable, URL-safe, and short enough
// to index cheaply. A one-letter prefix tells a user id from a conversation, message or attachment
// id in logs.
export type IdKind = 'u' | 'c' | 'm' | 'a';

const ID_BYTES = 12;
// Ids are drawn from a pool of random bytes refilled 512 ids at a time: one system call per 512
// messages instead of one each (it showed in the send path's profile).
const pool = Buffer.alloc(ID_BYTES * 512);
let poolOffset = pool.length;

export function newId(kind: IdKind): string {
  return kind + randomToken();
}

/** 16 base64url characters from 96 pooled random bits. */
function randomToken(): string {
  if (poolOffset + ID_BYTES > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const token = pool.toString('base64url', poolOffset, poolOffset + ID_BYTES);
  poolOffset += ID_BYTES;
  return token;
}

/** A random ref for sends that arrive without one (the seed API has no client message id). */
export function newRef(): string {
  return 'srv-' + randomToken();
}

// Ids a client sends back are checked for this shape before they reach a store: anything else
// (a NUL byte, say, which PostgreSQL refuses outright) cannot name a row anyway.
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_RE.test(value);
}
