import { createHash, timingSafeEqual } from 'node:crypto';

// The service token of gRPC callers: `authorization: Bearer <token>` in the call metadata.
// Compared in constant time: both sides are hashed first, so neither the length nor any prefix
// of the configured token shows in the time a refusal takes. The token is never logged.

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

export class ServiceToken {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /** Whether an `authorization` metadata value carries the token. */
  matches(authorization: unknown): boolean {
    if (typeof authorization !== 'string') return false;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    const given = match?.[1];
    // A missing token still costs one hash and one comparison.
    return timingSafeEqual(digest(given ?? ''), this.expected) && given !== undefined;
  }
}

/** The metadata value a caller sends. */
export const bearer = (token: string): string => `Bearer ${token}`;
