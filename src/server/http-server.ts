import Fastify, { LogController, type FastifyBaseLogger, type FastifyError } from 'fastify';
import { Ajv, type Options as AjvOptions } from 'ajv';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ParleyError, errorBody, isParleyError } from '../core/errors.js';
import type { HttpApp } from './http-app.js';

export interface HttpServerOptions {
  readonly bodyBytesMax: number;
  /** A pino logger (core/logger.ts); typed as Fastify sees it. */
  readonly logger: FastifyBaseLogger;
  /**
   * PARLEY_TRUST_PROXY: whose X-Forwarded-For names the client, so that request.ip is the
   * client's behind a reverse proxy: none (default), the proxies' addresses/CIDRs, or a hop count.
   */
  readonly trustProxy?: false | number | readonly string[];
}

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
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ParleyError('invalid_request');
  }
  return new ParleyError('internal', undefined, { cause: err });
}

/** The Fastify app with Parley's error handling; capabilities add their routes to it. */
export function createHttpApp(options: HttpServerOptions): HttpApp {
  const app = Fastify({
    loggerInstance: options.logger,
    // Per-request lines cost throughput and would carry URLs; errors are logged by the handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyBytesMax,
    trustProxy: fastifyTrustProxy(options.trustProxy),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : textAjv).compile(schema),
  );

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
