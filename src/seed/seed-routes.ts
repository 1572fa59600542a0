import type { FastifyRequest } from 'fastify';
import { ParleyError, isParleyError } from '../core/errors.js';
import type { Session } from '../auth/index.js';
import {
  holdReadSlot,
  requireSession,
  sessionOf,
  type Authenticate,
  type HttpApp,
} from '../server/index.js';
import type { SeedEndpoint, SeedMode, SeedPull, SeedSend } from './seed-api.js';
import type { RequestSlots } from '../core/request-slots.js';

// The seed's HTTP routes, byte-compatible with its curl commands and wrk scripts: a JSON body on
// GET /api/pull, any Content-Type (curl -d sends form-urlencoded), keys in any letter case.
// Inputs are checked by hand here because the seed's loose key matching has no JSON Schema form.

type Fields = Record<string, unknown>;

/** Lower-cases the top-level keys, as Go's case-insensitive JSON decoding did for the seeds. */
function foldKeys(value: unknown): Fields {
  if (value === undefined || value === null || value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ParleyError('invalid_request', 'The request body must be a JSON object.');
  }
  const out: Fields = {};
  for (const [k, v] of Object.entries(value)) out[k.toLowerCase()] = v;
  return out;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ParleyError('invalid_json', undefined, { cause: err });
  }
}

/** Reads a GET request's body (Fastify ignores bodies on GET), up to `bytesMax`. */
function readGetBody(request: FastifyRequest, bytesMax: number): Promise<string> {
  const raw = request.raw;
  const length = raw.headers['content-length'];
  // No body announced, none chunked: nothing to wait for (the query-string form).
  if ((length === undefined || length === '0') && raw.headers['transfer-encoding'] === undefined) {
    return Promise.resolve('');
  }
  if (length !== undefined && Number(length) > bytesMax) {
    return Promise.reject(new ParleyError('payload_too_large'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    raw.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > bytesMax) {
        raw.removeAllListeners('data');
        raw.resume();
        reject(new ParleyError('payload_too_large'));
        return;
      }
      chunks.push(chunk);
    });
    raw.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    raw.once('error', reject);
  });
}

/** What a refused seed caller reads: the seeds' curl commands send no token, so say how to run open. */
const SEED_TOKEN_HINT =
  "The seed routes need a bearer token (Authorization: Bearer <token>); an operator can run them open, for the seed's curl commands, with PARLEY_SEED_API=open.";

/**
 * `authenticate`, with `hint` on its refusals (still `unauthenticated`): a seed API's callers, over
 * HTTP or gRPC, were ported from clients that send no token. A refused token keeps its reason (an
 * expired session) in front of the hint; no token at all gets the hint only.
 */
export function withSeedHint(authenticate: Authenticate, hint: string): Authenticate {
  return async (token) => {
    try {
      return await authenticate(token);
    } catch (err) {
      if (!isParleyError(err) || err.code !== 'unauthenticated') throw err;
      const reason = token === undefined ? '' : `${err.message} `;
      throw new ParleyError('unauthenticated', `${reason}${hint}`, { cause: err });
    }
  };
}

function str(fields: Fields, key: string): string {
  const v = fields[key];
  if (typeof v !== 'string') throw new ParleyError('invalid_request', `"${key}" must be a string.`);
  return v;
}

function int(fields: Fields, key: string, fallback: number): number {
  const v = fields[key];
  if (v === undefined || v === null || v === '') return fallback;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new ParleyError('invalid_request', `"${key}" must be an integer.`);
  }
  return n;
}

function bool(fields: Fields, key: string): boolean {
  const v = fields[key];
  if (v === undefined || v === null || v === '') return false;
  // As Go's strconv.ParseBool, which the seeds' query parsing used.
  const text = typeof v === 'string' ? v.toLowerCase() : v;
  if (text === true || text === 'true' || text === 't' || text === '1') return true;
  if (text === false || text === 'false' || text === 'f' || text === '0') return false;
  throw new ParleyError('invalid_request', `"${key}" must be true or false.`);
}

export function registerSeedRoutes(
  app: HttpApp,
  deps: {
    /** A full node's SeedApi, or an HTTP role's SeedForwarder. */
    seed: SeedEndpoint;
    mode: SeedMode;
    authenticate: Authenticate;
    bodyBytesMax: number;
    /** Heavy reads in flight per user (per address in open mode), shared with the other routes. */
    reads?: RequestSlots;
  },
): void {
  const { seed, mode, authenticate } = deps;
  const sessionFor = (request: FastifyRequest): Session | null =>
    mode === 'open' ? null : sessionOf(request);

  app.get('/ping', () => ({ message: 'pong' }));

  // Scoped so the catch-all parser applies to the seed routes only.
  void app.register((scope, _opts, done) => {
    // In auth mode the token is checked before the body is read.
    if (mode === 'auth') {
      scope.addHook('onRequest', requireSession(withSeedHint(authenticate, SEED_TOKEN_HINT)));
    }
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, parsed) => {
      try {
        parsed(null, parseJson(body as string));
      } catch (err) {
        parsed(err as Error, undefined);
      }
    });

    scope.post('/api/send', async (request) => {
      const session = sessionFor(request);
      const fields = foldKeys(request.body);
      const input: SeedSend = {
        chat: str(fields, 'chat'),
        text: str(fields, 'text'),
        sender: str(fields, 'sender'),
      };
      const { sendTime, seq } = await seed.send(input, session);
      return { status: 'success', send_time: sendTime, seq };
    });

    scope.get('/api/pull', async (request, reply) => {
      const session = sessionFor(request);
      const fields = {
        ...foldKeys(request.query),
        ...foldKeys(parseJson(await readGetBody(request, deps.bodyBytesMax))),
      };
      const input: SeedPull = {
        chat: str(fields, 'chat'),
        cursor: int(fields, 'cursor', 0),
        limit: int(fields, 'limit', 0),
        reverse: bool(fields, 'reverse'),
      };
      const key = session ? session.userId : `address:${request.ip}`;
      if (deps.reads) await holdReadSlot(deps.reads, key, reply);
      const json = await seed.pullJson(input, session);
      return reply.type('application/json; charset=utf-8').send(json);
    });
    done();
  });
}
