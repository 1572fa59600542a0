import { OutboundError } from './outbound-error.js';

// The URL rule of every outbound request (docs/security.md, "Outbound requests"). A URL is
// judged twice: on its raw text, for what the WHATWG parser would quietly normalise away (a
// backslash becomes a slash, a tab vanishes, "%2e%2e" becomes ".."), and then parsed, by its
// exact scheme, host and port and its path by whole segments. Judging only the parsed URL would
// let a gateway that decodes differently from us see a path we never checked; judging only the
// text (the old `startsWith`) let `http://127.0.0.1:32206` pass for `http://127.0.0.1:3220`.

interface Entry {
  readonly protocol: string;
  readonly hostname: string;
  /** '' for the scheme's default port, as the URL parser gives it. */
  readonly port: string;
  /** The path prefix without its trailing slash; '' allows every path of the origin. */
  readonly path: string;
}

/** Anything outside printable ASCII: the parser strips tabs and newlines, and maps some others. */
const UNPRINTABLE_RE = /[^\x21-\x7e]/;
/** An encoded dot, in any case: a dot segment once a gateway decodes it. */
const ENCODED_DOT_RE = /%2e/i;
/** In a path: an encoded slash, backslash or percent (a second decoding), or a control byte. */
const ENCODED_PATH_RE = /%(2f|5c|25|[01][0-9a-f]|7f)/i;

/** Why the raw text of a URL is refused, or null. Only http(s) with no userinfo passes. */
function rawProblem(raw: string): string | null {
  if (UNPRINTABLE_RE.test(raw)) return 'space, control or non-ASCII character';
  if (raw.includes('\\')) return 'backslash';
  if (ENCODED_DOT_RE.test(raw)) return 'encoded dot';
  // "http:host" and "http:/host" parse as "http://host"; only the plain form is accepted.
  const scheme = /^https?:\/\//i.exec(raw);
  if (!scheme) return 'not an http(s) URL';
  const rest = raw.slice(scheme[0].length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  if (authority.includes('@')) return 'userinfo';
  const afterAuthority = authorityEnd < 0 ? '' : rest.slice(authorityEnd);
  const pathEnd = afterAuthority.search(/[?#]/);
  const path = pathEnd < 0 ? afterAuthority : afterAuthority.slice(0, pathEnd);
  if (ENCODED_PATH_RE.test(path)) return 'encoded separator in the path';
  return null;
}

/** Parses a URL that passes the raw rule; throws OutboundError('url_refused') otherwise. */
export function parseOutboundUrl(raw: string): URL {
  const problem = rawProblem(raw);
  if (problem) throw new OutboundError('url_refused', problem);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundError('url_refused', 'not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OutboundError('url_refused', 'not an http(s) URL');
  }
  if (url.username !== '' || url.password !== '') {
    throw new OutboundError('url_refused', 'userinfo');
  }
  if (url.hostname === '') throw new OutboundError('url_refused', 'no host');
  // node:http reads port 0 as "none" and connects to the scheme's default: not the port checked.
  if (url.port === '0') throw new OutboundError('url_refused', 'port 0');
  return url;
}

/** Whether `path` is `base` or below it, by whole segments ("/push" holds "/push/x", not "/pushx"). */
function within(path: string, base: string): boolean {
  return base === '' || path === base || path.startsWith(base + '/');
}

/**
 * The operator's list of what a kind of outbound request may reach: each entry an exact origin
 * (scheme, host, port) and a path prefix. Listing an origin is also what lets it be on a private
 * or loopback address (address-rule.ts). `anyPublic()` is the list for requests to URLs nobody
 * listed: any http(s) URL that passes the raw rule, on a public address only.
 */
export class AllowList {
  private readonly entries: readonly Entry[];
  /** True for anyPublic(): no origin is listed, every URL's address must be public. */
  readonly anyPublic: boolean;

  private constructor(entries: readonly Entry[], anyPublic: boolean) {
    this.entries = entries;
    this.anyPublic = anyPublic;
  }

  /**
   * Parses the operator's entries. Throws an Error naming the entry by position (its text may
   * hold a credential) when one breaks the URL rule.
   */
  static parse(entries: readonly string[], what = 'outbound URL'): AllowList {
    const parsed = entries.map((raw, i) => {
      try {
        const url = parseOutboundUrl(raw.trim());
        const path = url.pathname.replace(/\/+$/, '');
        return { protocol: url.protocol, hostname: url.hostname, port: url.port, path };
      } catch (err) {
        const reason = err instanceof OutboundError ? err.reason : String(err);
        throw new Error(`${what} #${i + 1} is not usable: ${reason}`, { cause: err });
      }
    });
    return new AllowList(parsed, false);
  }

  static anyPublic(): AllowList {
    return new AllowList([], true);
  }

  /** How many entries are listed (0 for anyPublic(), and for an empty list, which allows nothing). */
  get size(): number {
    return this.entries.length;
  }

  /** The parsed URL if this list allows it; throws OutboundError('url_refused') otherwise. */
  check(raw: string): URL {
    const url = parseOutboundUrl(raw);
    if (this.anyPublic) return url;
    const allowed = this.entries.some(
      (e) =>
        e.protocol === url.protocol &&
        e.hostname === url.hostname &&
        e.port === url.port &&
        within(url.pathname, e.path),
    );
    if (!allowed) throw new OutboundError('url_refused', 'not under an allowed URL');
    return url;
  }

  permits(raw: string): boolean {
    try {
      this.check(raw);
      return true;
    } catch (err) {
      if (err instanceof OutboundError) return false;
      throw err;
    }
  }

  /** Whether the operator listed this URL's exact origin (so it may be private or loopback). */
  listsOrigin(url: URL): boolean {
    return this.entries.some(
      (e) => e.protocol === url.protocol && e.hostname === url.hostname && e.port === url.port,
    );
  }
}
