// The SDK's one error type. Server errors keep the server's code (the catalogue of
// core/errors.ts, whose `temporary` flag says whether a retry may succeed); the SDK adds a few
// codes of its own for things only a client can see.
import { ERRORS } from '../core/errors.js';

/** Codes the SDK itself raises, besides the server's catalogue. */
export const CLIENT_ERRORS = {
  /** The client was closed (`close()`, a kick or a refused token) before the answer came. */
  client_closed: { temporary: false, message: 'The client is closed.' },
  /** The link dropped before the answer came; the request may or may not have happened. */
  disconnected: { temporary: true, message: 'The link dropped before the answer came.' },
  /** No answer within `requestTimeoutMs`. */
  timeout: { temporary: true, message: 'No answer in time.' },
  /** `connect()` saw no welcome within `connectTimeoutMs`; the client keeps trying. */
  connect_timeout: { temporary: true, message: 'The server could not be reached in time.' },
  /** One link attempt ended before the server's welcome (the `connect_error` event). */
  connect_failed: { temporary: true, message: 'The link attempt failed.' },
  /** The HTTP request could not be made (DNS, refused connection, CORS, …). */
  network: { temporary: true, message: 'The server could not be reached.' },
  /** Another instance logged in with this device (close 4409). */
  kicked: { temporary: false, message: 'Another login with this device replaced this one.' },
  /** The server answered something the SDK cannot read. */
  bad_response: { temporary: false, message: 'The server answered something unexpected.' },
  /** The server in use lacks the feature (an older server, or one still being built). */
  unsupported: { temporary: false, message: 'The server does not support this.' },
  /** An event handler of the application threw; `cause` holds what it threw. */
  handler_failed: { temporary: false, message: 'An event handler threw.' },
  /** A catch-up (sync and pull) failed; the next reconnect retries it. */
  catch_up_failed: { temporary: true, message: 'Catching up with the server failed.' },
} as const;

export type ClientErrorCode = keyof typeof CLIENT_ERRORS;

export class ParleyClientError extends Error {
  /** The server's error code (core/errors.ts) or one of CLIENT_ERRORS. */
  readonly code: string;
  /** The HTTP status, for REST errors. */
  readonly status: number | undefined;
  /** Retrying the same request may succeed. */
  readonly temporary: boolean;
  /** The `ref` of the send this error answers, if any. */
  readonly ref: string | undefined;

  constructor(
    code: string,
    message?: string,
    options: { status?: number; ref?: string; cause?: unknown } = {},
  ) {
    super(message ?? defaultMessage(code), { cause: options.cause });
    this.name = 'ParleyClientError';
    this.code = code;
    this.status = options.status;
    this.ref = options.ref;
    this.temporary = isTemporary(code);
  }
}

function defaultMessage(code: string): string {
  if (Object.hasOwn(CLIENT_ERRORS, code)) return CLIENT_ERRORS[code as ClientErrorCode].message;
  if (Object.hasOwn(ERRORS, code)) return ERRORS[code as keyof typeof ERRORS].message;
  return code;
}

/** Unknown codes count as permanent: retrying what a newer server refused would loop. */
export function isTemporary(code: string): boolean {
  if (Object.hasOwn(CLIENT_ERRORS, code)) return CLIENT_ERRORS[code as ClientErrorCode].temporary;
  if (Object.hasOwn(ERRORS, code)) return ERRORS[code as keyof typeof ERRORS].temporary;
  return false;
}

export function isParleyClientError(err: unknown): err is ParleyClientError {
  return err instanceof ParleyClientError;
}
