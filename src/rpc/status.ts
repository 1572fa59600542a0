import { Metadata, status as Status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { ERRORS, ParleyError, isParleyError, type ErrorCode } from '../core/errors.js';

// Parley's coded errors on gRPC: one table from the catalogue's HTTP status to a gRPC status, and
// the Parley code itself in the trailing metadata key `parley-code`, so a Parley client (the
// `--role http` node) gets back exactly the error the catalogue names, message included.

/** The one mapping table: catalogue HTTP status → gRPC status. */
export const GRPC_STATUS_BY_HTTP: Readonly<Record<number, Status>> = {
  400: Status.INVALID_ARGUMENT,
  401: Status.UNAUTHENTICATED,
  403: Status.PERMISSION_DENIED,
  404: Status.NOT_FOUND,
  408: Status.DEADLINE_EXCEEDED,
  409: Status.ALREADY_EXISTS,
  410: Status.FAILED_PRECONDITION,
  413: Status.INVALID_ARGUMENT,
  415: Status.INVALID_ARGUMENT,
  416: Status.OUT_OF_RANGE,
  422: Status.FAILED_PRECONDITION,
  429: Status.RESOURCE_EXHAUSTED,
  431: Status.INVALID_ARGUMENT,
  500: Status.INTERNAL,
  503: Status.UNAVAILABLE,
};

export const PARLEY_CODE_KEY = 'parley-code';

export function grpcStatusOf(code: ErrorCode): Status {
  return GRPC_STATUS_BY_HTTP[ERRORS[code].status] ?? Status.UNKNOWN;
}

/** The status a handler answers for a thrown error; anything not coded is `internal`. */
export function toStatus(err: unknown): Partial<StatusObject> & { code: Status; details: string } {
  const coded = isParleyError(err) ? err : new ParleyError('internal');
  const metadata = new Metadata();
  metadata.set(PARLEY_CODE_KEY, coded.code);
  return { code: grpcStatusOf(coded.code), details: coded.message, metadata };
}

/** Retry-After of an unreachable target: the client's reconnect backoff is at most 1 s. */
const UNREACHABLE_RETRY_AFTER_MS = 1_000;

/** The Parley code a failed call carries, or null when no Parley handler answered it. */
export function parleyCodeOf(err: ServiceError): ErrorCode | null {
  const value = err.metadata?.get(PARLEY_CODE_KEY)[0];
  return typeof value === 'string' && Object.hasOwn(ERRORS, value) ? (value as ErrorCode) : null;
}

/** A failed call's error as the ParleyError the server answered, or a transport failure. */
export function fromServiceError(err: ServiceError): ParleyError {
  const code = parleyCodeOf(err);
  if (code !== null) return new ParleyError(code, err.details, { cause: err });
  // No Parley code: the call never reached a Parley handler (the target is down, unreachable, or
  // not Parley). `unavailable`, which clients already retry, but not the catalogue's "shutting
  // down": nothing here is shutting down, the node behind this one is out of reach. The target's
  // address stays out of the message (it is internal); the node logs it.
  if (err.code === Status.UNAVAILABLE) {
    return new ParleyError('unavailable', 'The RPC target is unreachable; try again shortly.', {
      cause: err,
      retryAfterMs: UNREACHABLE_RETRY_AFTER_MS,
    });
  }
  if (err.code === Status.DEADLINE_EXCEEDED) {
    return new ParleyError('unavailable', 'The RPC target did not answer in time.', {
      cause: err,
      retryAfterMs: UNREACHABLE_RETRY_AFTER_MS,
    });
  }
  return new ParleyError('internal', undefined, { cause: err });
}
