// An HTTP/1.1 client that writes the request bytes as given, for tests that send what a
// well-behaved client library refuses to: bad percent-encoding, raw bytes in the path, unknown
// methods, contradicting headers. One request per connection; the answer is read to its end.
import { connect } from 'node:net';

export interface RawAnswer {
  /** 0 when the server closed without answering. */
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** The body parsed as JSON, or undefined. */
  readonly json: unknown;
}

export interface RawRequest {
  readonly method: string;
  /** The request-target exactly as sent: path and query, already encoded (or not). */
  readonly target: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  /** Send this Content-Length instead of the body's length (or none when null). */
  readonly contentLength?: string | null;
}

const TIMEOUT_MS = 10_000;

/** Sends one request to 127.0.0.1:`port` and resolves with the first answer. */
export function rawHttp(port: number, request: RawRequest): Promise<RawAnswer> {
  const head = [
    `${request.method} ${request.target} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: close',
  ];
  for (const [name, value] of Object.entries(request.headers ?? {})) head.push(`${name}: ${value}`);
  const length =
    request.contentLength !== undefined
      ? request.contentLength
      : request.body
        ? String(request.body.length)
        : null;
  if (length !== null) head.push(`Content-Length: ${length}`);
  const bytes = Buffer.concat([
    Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'),
    request.body ?? Buffer.alloc(0),
  ]);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `no answer in ${TIMEOUT_MS} ms to ${request.method} ${request.target.slice(0, 80)}`,
        ),
      );
    }, TIMEOUT_MS);
    // Not end(): Node's server drops a half-closed connection whose answer is still pending.
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A server that refuses early may reset the connection while the body is still going out.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseAnswer(Buffer.concat(chunks)));
    });
  });
}

function parseAnswer(raw: Buffer): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: raw, json: undefined };
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (headers['content-length'] !== undefined)
    body = body.subarray(0, Number(headers['content-length']));
  else if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
  let json: unknown;
  try {
    json = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
  } catch {
    json = undefined;
  }
  return { status, headers, body, json };
}

function unchunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
