import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { Ajv, type Options as AjvOptions } from 'ajv';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ParleyError, errorBody, isParleyError } from '../core/errors.js';
import { nestsDeeperThan } from '../core/json-depth.js';
import { DEFAULT_LIMITS } from '../core/limits.js';
import type { HttpApp } from './http-app.js';
import { lazyChildLogger } from './lazy-logger.js';

export interface HttpServerOptions {
  readonly bodyBytesMax: number;
  /** A pino logger (core/logger.ts); typed as Fastify sees it. */
  readonly logger: FastifyBaseLogger;
  /**
   * PARLEY_TRUST_PROXY: whose X-Forwarded-For names the client, so that request.ip is the
   * client's behind a reverse proxy: none (default), the proxies' addresses/CIDRs, or a hop count.
   */
  readonly trustProxy?: false | number | readonly string[];
  /** Default DEFAULT_LIMITS.httpRequestTimeoutMs; tests make it short. */
  readonly requestTimeoutMs?: number;
  /** Drop a connection silent both ways this long (limits.httpIdleTimeoutMs by default). */
  readonly idleTimeoutMs?: number;
}

/** Node's own bound on the request line and headers arriving, kept. */
const HEADERS_TIMEOUT_MS = 60_000;

/** Fastify's form of it. Fastify refuses a bare hop count, so it becomes a function here. */
function fastifyTrustProxy(trust: HttpServerOptions['trustProxy']) {
  if (typeof trust === 'number') return (_address: string, hop: number) => hop < trust;
  return trust ? [...trust] : false;
}

// Query strings and path params are text, so their numbers and booleans are coerced; a JSON body
// already has types, and a wrong one is an error rather than something to guess at.
const AJV_BASE: AjvOptions = {
  allErrors: false,
  useDefaults: true,
  removeAdditional: false,
  strict: false,
};
const bodyAjv = new Ajv({ ...AJV_BASE, coerceTypes: false });
const textAjv = new Ajv({ ...AJV_BASE, coerceTypes: 'array' });
const ANY_FORMAT = { validate: () => true };
for (const ajv of [bodyAjv, textAjv]) ajv.addFormat('uri', ANY_FORMAT);

/** Maps anything thrown in a route to a coded error body; never leaks a stack to the client. */
export function toParleyError(err: unknown): ParleyError {
  if (isParleyError(err)) return err;
  const fe = err as Partial<FastifyError>;
  if (fe.validation) {
    // Fastify's message already names the part ("body/username must be string").
    return new ParleyError('invalid_request', fe.message);
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ParleyError('payload_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ParleyError('unsupported_media_type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ParleyError('invalid_json');
  }
  if (err instanceof SyntaxError) return new ParleyError('invalid_json');
  // Fastify's router refuses these before any route is chosen (frameworkErrors below).
  if (fe.code === 'FST_ERR_BAD_URL') {
    return new ParleyError('invalid_request', 'The URL is not valid: bad percent-encoding.');
  }
  // As a GET gets it from the web client's catch-all route: no route takes such a segment.
  if (fe.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return new ParleyError('not_found', 'No route: a URL path segment is over 100 characters.');
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ParleyError('invalid_request');
  }
  return new ParleyError('internal', undefined, { cause: err });
}

/** Methods whose requests Fastify reads a body for. */
export const BODY_METHODS: ReadonlySet<string> = new Set([
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
]);

/** Answers an error Fastify's router raises before any route runs, in Parley's shape. */
function frameworkError(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const coded = toParleyError(err);
  void reply.code(coded.status).send(errorBody(coded));
}

/**
 * Answers a request Node's HTTP parser refused (malformed, headers over 16 KiB, too slow), on
 * the raw socket since there is no request object, then drops the connection.
 */
function clientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const coded =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new ParleyError('headers_too_large')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new ParleyError('request_timeout')
        : new ParleyError('invalid_request', 'The HTTP request is malformed.');
  // Not in the middle of an answer already on its way (pipelined requests).
  const answering = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (socket.writable && !answering?.headersSent) {
    const body = JSON.stringify(errorBody(coded));
    socket.write(
      `HTTP/1.1 ${coded.status} ${STATUS_CODES[coded.status]}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/** The Fastify app with Parley's error handling; capabilities add their routes to it. */
export function createHttpApp(options: HttpServerOptions): HttpApp {
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_LIMITS.httpRequestTimeoutMs;
  const app = Fastify({
    loggerInstance: options.logger,
    // Per-request lines cost throughput and would carry URLs; errors are logged by the handler.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    bodyLimit: options.bodyBytesMax,
    trustProxy: fastifyTrustProxy(options.trustProxy),
    // Fastify would answer these in its own shape; the hooks below answer in Parley's.
    return503OnClosing: false,
    requestTimeout: requestTimeoutMs,
    // Node's socket inactivity timeout (off by default): a stalled reader's answer is let go.
    connectionTimeout: options.idleTimeoutMs ?? DEFAULT_LIMITS.httpIdleTimeoutMs,
    http: {
      requireHostHeader: false,
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs),
      // Node checks its timeouts on this beat (30 s by default), so a timeout fires up to one late.
      connectionsCheckingInterval: Math.min(30_000, Math.ceil(requestTimeoutMs / 4)),
    },
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
    forceCloseConnections: 'idle',
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : textAjv).compile(schema),
  );
  addGuards(app);

  app.setErrorHandler((err, request, reply) => {
    const coded = toParleyError(err);
    if (coded.code === 'internal') {
      request.log.error(
        { err, method: request.method, route: request.routeOptions.url },
        'request failed',
      );
    }
    if (coded.retryAfterMs !== undefined) {
      reply.header('retry-after', String(Math.max(1, Math.ceil(coded.retryAfterMs / 1000))));
    }
    return reply.code(coded.status).send(errorBody(coded));
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(
        errorBody(
          new ParleyError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`),
        ),
      ),
  );
  return app;
}

/**
 * Checks every request gets before its route's own: the server is not closing, the request is
 * well-formed HTTP that Node lets through, and a JSON body is not nested past jsonDepthMax.
 */
function addGuards(app: HttpApp): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (request, _reply, done) => {
    if (closing) return done(new ParleyError('unavailable'));
    const { headers, raw } = request;
    // Node's own refusal of a missing Host is an empty 400; this one is coded.
    if (headers.host === undefined && raw.httpVersion === '1.1') {
      return done(new ParleyError('invalid_request', 'An HTTP/1.1 request needs a Host header.'));
    }
    const encoding = headers['content-encoding'];
    if (BODY_METHODS.has(request.method) && encoding !== undefined && encoding !== 'identity') {
      return done(
        new ParleyError(
          'unsupported_media_type',
          'Request bodies are not decoded: no Content-Encoding.',
        ),
      );
    }
    done();
  });
  app.addHook('preValidation', (request, _reply, done) => {
    if (nestsDeeperThan(request.body, DEFAULT_LIMITS.jsonDepthMax)) {
      return done(
        new ParleyError(
          'invalid_request',
          `The body nests objects and arrays more than ${DEFAULT_LIMITS.jsonDepthMax} levels deep.`,
        ),
      );
    }
    done();
  });
}
