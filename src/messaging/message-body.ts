import { ParleyError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import type { MessageBody } from './message-store.js';

// The message kinds this version accepts. Unknown kinds are refused rather than stored blindly,
// so that every stored body is one that clients know how to show.
const KINDS = new Set(['text']);

/** Validates a client-supplied body and returns it as a MessageBody, or throws a coded error. */
export function validateBody(body: unknown, limits: Limits): MessageBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ParleyError('invalid_request', 'body must be an object with a "kind".');
  }
  const { kind, text } = body as { kind?: unknown; text?: unknown };
  if (typeof kind !== 'string' || !KINDS.has(kind)) {
    throw new ParleyError('invalid_request', `body.kind must be one of: ${[...KINDS].join(', ')}.`);
  }
  if (typeof text !== 'string' || text.length === 0) {
    throw new ParleyError('invalid_request', 'A text message needs a non-empty body.text.');
  }
  // Characters are code points; length counts UTF-16 units, an upper bound worth checking first.
  if (text.length > limits.textCharsMax && countCodePoints(text) > limits.textCharsMax) {
    throw new ParleyError(
      'body_too_large',
      `body.text is longer than ${limits.textCharsMax} characters.`,
    );
  }
  if (Buffer.byteLength(JSON.stringify(body)) > limits.messageBodyBytesMax) {
    throw new ParleyError(
      'body_too_large',
      `The message body is larger than ${limits.messageBodyBytesMax} bytes.`,
    );
  }
  return body as MessageBody;
}

// Control characters are refused: a NUL byte in a ref would make PostgreSQL fail the whole
// group-commit batch it is in, not just this send.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

export function validateRef(ref: unknown, limits: Limits): string {
  if (
    typeof ref !== 'string' ||
    ref.length === 0 ||
    ref.length > limits.refCharsMax ||
    CONTROL_RE.test(ref)
  ) {
    throw new ParleyError(
      'invalid_request',
      `ref must be 1 to ${limits.refCharsMax} printable characters.`,
    );
  }
  return ref;
}

function countCodePoints(text: string): number {
  let n = 0;
  for (const _char of text) n++;
  return n;
}
