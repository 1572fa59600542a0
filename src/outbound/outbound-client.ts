import { lookup as dnsLookup } from 'node:dns/promises';
import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { addressProblem } from './address-rule.js';
import { OutboundError } from './outbound-error.js';
import type { AllowList } from './url-rule.js';

// Every HTTP request the server itself makes goes through here (docs/security.md, "Outbound
// requests"). In order: the URL rule (url-rule.ts) against the caller's allow-list; our own DNS
// lookup, every address of the host checked (address-rule.ts); a connection to the checked
// address and no other (the socket's lookup is pinned to it, so a second DNS answer cannot swap
// it); no redirect followed (a 3xx is returned like any status); one timeout over the whole
// exchange; at most `responseBytesMax` bytes of the body read.

export interface OutboundOptions {
  /** What this client may reach; anyPublic() for URLs nobody listed. */
  readonly allow: AllowList;
  /** The whole request: DNS, connect, TLS, send, status and body (limits.outboundTimeoutMs). */
  readonly timeoutMs: number;
  /** Body bytes read before the rest is cut off (limits.outboundResponseBytesMax). */
  readonly responseBytesMax: number;
  /**
   * Every address of a host name; the system resolver (getaddrinfo, /etc/hosts included) unless
   * given. Tests pass their own to prove that the socket uses the answer checked, not a new one.
   */
  readonly resolve?: (hostname: string) => Promise<readonly ResolvedAddress[]>;
}

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

export interface OutboundRequest {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Aborts the request (shutdown); it then rejects with OutboundError('aborted'). */
  readonly signal?: AbortSignal;
}

export interface OutboundResponse {
  readonly status: number;
  /** Header names in lower case; a repeated header's values joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** At most responseBytesMax bytes. */
  readonly body: Buffer;
  /** The body was longer than responseBytesMax and was cut (the connection was closed). */
  readonly truncated: boolean;
}

interface Target {
  readonly address: string;
  readonly family: 4 | 6;
}

export class OutboundClient {
  readonly allow: AllowList;
  private readonly options: OutboundOptions;
  private readonly resolveHost: (hostname: string) => Promise<readonly ResolvedAddress[]>;
  // Kept-alive sockets were each opened to an address checked when they were opened.
  private readonly httpAgent = new HttpAgent({ keepAlive: true });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true });

  constructor(options: OutboundOptions) {
    this.options = options;
    this.allow = options.allow;
    this.resolveHost =
      options.resolve ?? ((hostname) => dnsLookup(hostname, { all: true, verbatim: true }));
  }

  /** Sends one request. Rejects only with OutboundError; any status, 3xx included, resolves. */
  async request(raw: string, request: OutboundRequest = {}): Promise<OutboundResponse> {
    try {
      return await this.send(raw, request);
    } catch (err) {
      // The contract holds whatever broke: a caller that rethrows a stranger error would leave an
      // unhandled rejection in a background loop, and the stranger's message may hold the URL.
      if (err instanceof OutboundError) throw err;
      throw new OutboundError('network', errorCode(err, 'request failed'), { cause: err });
    }
  }

  private async send(raw: string, request: OutboundRequest): Promise<OutboundResponse> {
    const url = this.allow.check(raw);
    const timer = new AbortController();
    const timeout = setTimeout(() => {
      timer.abort(new OutboundError('timeout', `no answer within ${this.options.timeoutMs} ms`));
    }, this.options.timeoutMs);
    const signal = request.signal ? AbortSignal.any([timer.signal, request.signal]) : timer.signal;
    try {
      const target = await this.resolve(url, signal);
      return await this.exchange(url, target, request, signal);
    } finally {
      clearTimeout(timeout);
    }
  }

  /** Closes idle kept-alive sockets (at shutdown). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async resolve(url: URL, signal: AbortSignal): Promise<Target> {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const literal = isIP(host);
    const addresses =
      literal !== 0
        ? [{ address: host, family: literal }]
        : await abortable(signal, () =>
            this.resolveHost(host).catch((err: unknown) => {
              throw new OutboundError('dns_failed', errorCode(err, 'no address'), { cause: err });
            }),
          );
    if (addresses.length === 0) throw new OutboundError('dns_failed', 'no address');
    // Every address must pass, not just the first: which one a retry would use is not ours.
    const listed = this.allow.listsOrigin(url);
    for (const { address } of addresses) {
      if (isIP(address) === 0) throw new OutboundError('dns_failed', 'not an IP address');
      const problem = addressProblem(address, listed);
      if (problem) throw new OutboundError('address_refused', problem);
    }
    const first = addresses[0]!;
    return { address: first.address, family: first.family === 6 ? 6 : 4 };
  }

  private exchange(
    url: URL,
    target: Target,
    request: OutboundRequest,
    signal: AbortSignal,
  ): Promise<OutboundResponse> {
    const secure = url.protocol === 'https:';
    const body = request.body === undefined ? undefined : Buffer.from(request.body);
    const headers: Record<string, string> = { ...request.headers };
    if (body) headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(abortError(signal));
      let req: ClientRequest;
      try {
        req = (secure ? httpsRequest : httpRequest)({
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
          path: url.pathname + url.search,
          method: request.method ?? 'POST',
          headers,
          agent: secure ? this.httpsAgent : this.httpAgent,
          lookup: pinnedLookup(target),
        });
      } catch (err) {
        // node:http checks the options and headers by throwing, before anything is sent (a header
        // value with a newline or a character past U+00FF). Its message may quote the value: the
        // reason is its code only.
        return reject(
          new OutboundError('network', errorCode(err, 'request not built'), { cause: err }),
        );
      }
      const onAbort = () => req.destroy(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = () => signal.removeEventListener('abort', onAbort);
      req.on('error', (err) => {
        settle();
        reject(
          err instanceof OutboundError
            ? err
            : new OutboundError('network', errorCode(err, 'connection failed'), { cause: err }),
        );
      });
      req.on('response', (res) => {
        readCapped(res, this.options.responseBytesMax, (result) => {
          settle();
          if (signal.aborted) return reject(abortError(signal));
          if (result === 'cut') return reject(new OutboundError('network', 'response cut short'));
          if (result.truncated) req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: flatHeaders(res), ...result });
        });
      });
      req.end(body);
    });
  }
}

/** A socket lookup that answers the address already checked, whatever DNS says now. */
function pinnedLookup(target: Target): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}

/**
 * Reads the body up to `max` bytes; past that, stops reading and reports it truncated. 'cut':
 * the body ended before it was complete (the peer, or our abort, closed the connection).
 */
function readCapped(
  res: IncomingMessage,
  max: number,
  done: (result: { body: Buffer; truncated: boolean } | 'cut') => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (truncated: boolean | 'cut') => {
    if (finished) return;
    finished = true;
    done(truncated === 'cut' ? 'cut' : { body: Buffer.concat(chunks), truncated });
  };
  res.on('data', (chunk: Buffer) => {
    if (finished) return;
    const room = max - size;
    if (chunk.length > room) {
      if (room > 0) chunks.push(chunk.subarray(0, room));
      size = max;
      res.destroy();
      finish(true);
      return;
    }
    chunks.push(chunk);
    size += chunk.length;
  });
  res.on('end', () => finish(false));
  res.on('close', () => finish(res.complete ? false : 'cut'));
  res.on('error', () => finish('cut'));
}

function flatHeaders(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function abortError(signal: AbortSignal): OutboundError {
  const reason: unknown = signal.reason;
  return reason instanceof OutboundError ? reason : new OutboundError('aborted', 'aborted');
}

/** Runs `work`, rejecting as soon as `signal` aborts (a DNS lookup cannot be cancelled). */
async function abortable<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  if (signal.aborted) throw abortError(signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work().then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

function errorCode(err: unknown, fallback: string): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : fallback;
}
