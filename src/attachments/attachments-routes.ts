import type { Readable } from 'node:stream';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { ParleyError, errorBody } from '../core/errors.js';
import { requireSession, sessionOf, type Authenticate, type HttpApp } from '../server/index.js';
import type { Attachment } from './attachment-store.js';
import type { ByteRange } from './blob-store.js';
import type { AttachmentsService } from './attachments-service.js';
import { isInline } from './media-types.js';

// REST for attachments. Uploads are the raw request body (its Content-Type is the attachment's),
// streamed to the BlobStore without being buffered; downloads stream back, with byte ranges.

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const UploadQuery = Type.Object({ name: Type.Optional(Type.String()) });

export const attachmentView = (a: Attachment) => ({
  id: a.id,
  owner: a.ownerId,
  sha256: a.sha256,
  size: a.size,
  mime: a.mime,
  name: a.name,
  createdAtMs: a.createdAtMs,
});

export interface AttachmentRoutesDeps {
  readonly attachments: AttachmentsService;
  readonly authenticate: Authenticate;
}

export function registerAttachmentRoutes(app: HttpApp, deps: AttachmentRoutesDeps): void {
  const { attachments } = deps;
  const authenticated = requireSession(deps.authenticate);

  // In a child context, so that only this route takes any content type, as a stream: the
  // service checks the type against the allow-list, and Fastify's bodyLimit does not apply.
  void app.register((plain, _options, done) => {
    const child = plain.withTypeProvider<TypeBoxTypeProvider>();
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', (_request, payload, parsed) => parsed(null, payload));
    child.post(
      '/v1/attachments',
      { onRequest: authenticated, schema: { querystring: UploadQuery } },
      async (request, reply) => {
        const length = request.headers['content-length'];
        try {
          const attachment = await attachments.upload(sessionOf(request).userId, {
            contentType: request.headers['content-type'],
            declaredBytes: length === undefined ? undefined : Number(length),
            name: request.query.name,
            body: request.body as Readable,
          });
          return await reply.code(201).send(attachmentView(attachment));
        } catch (err) {
          // The rest of a refused body is not worth reading: the connection goes with it.
          if (!request.raw.readableEnded) reply.header('connection', 'close');
          throw err;
        }
      },
    );
    done();
  });

  app.get(
    '/v1/attachments/:id/meta',
    { onRequest: authenticated, schema: { params: IdParams } },
    async (request) =>
      attachmentView(await attachments.authorize(sessionOf(request).userId, request.params.id)),
  );

  app.get(
    '/v1/attachments/:id',
    { onRequest: authenticated, schema: { params: IdParams }, exposeHeadRoute: false },
    async (request, reply) => {
      const a = await attachments.authorize(sessionOf(request).userId, request.params.id);
      const etag = `"${a.sha256}"`;
      reply
        .header('content-type', a.mime)
        .header('etag', etag)
        .header('accept-ranges', 'bytes')
        .header('cache-control', 'private, no-cache')
        .header('content-disposition', disposition(a))
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox");
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      const range = parseRange(request.headers.range, a.size);
      if (range === 'unsatisfiable') return unsatisfiable(reply, a.size);
      if (range === null) {
        reply.header('content-length', a.size);
        return reply.send(await attachments.read(a));
      }
      return reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${a.size}`)
        .header('content-length', range.end - range.start + 1)
        .send(await attachments.read(a, range));
    },
  );
}

function unsatisfiable(reply: FastifyReply, size: number): FastifyReply {
  const err = new ParleyError('range_not_satisfiable');
  return reply
    .code(err.status)
    .header('content-type', 'application/json; charset=utf-8')
    .header('content-range', `bytes */${size}`)
    .removeHeader('content-disposition')
    .send(errorBody(err));
}

/**
 * One `bytes=` range, clamped to the object (RFC 9110 §14.1.2): `a-b`, `a-` or `-n`. Absent, or
 * another unit, or several ranges (not supported): null, the whole object is served. A bytes
 * range that is malformed or outside the object: 'unsatisfiable' (416).
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | null | 'unsatisfiable' {
  if (header === undefined || !/^bytes=/i.test(header.trim())) return null;
  const spec = header.trim().slice(6).trim();
  if (spec.includes(',')) return null;
  const m = /^(\d*)-(\d*)$/.exec(spec);
  if (!m || (m[1] === '' && m[2] === '')) return 'unsatisfiable';
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/** `inline` for media a browser shows safely, `attachment` otherwise; the name in both forms. */
function disposition(a: Attachment): string {
  const kind = isInline(a.mime) ? 'inline' : 'attachment';
  const name = a.name ?? a.id;
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
