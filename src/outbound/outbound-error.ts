// The one error type of outbound requests. It is internal: callers log it (its code and reason,
// never the URL, which may carry a credential) and map it to their own outcome; a client never
// sees it.

export type OutboundErrorCode =
  /** The URL breaks the URL rule or is not under an allowed entry (url-rule.ts). */
  | 'url_refused'
  /** The host resolved to an address this request may not reach (address-rule.ts). */
  | 'address_refused'
  /** The host name did not resolve. */
  | 'dns_failed'
  /** The whole request took longer than its timeout. */
  | 'timeout'
  /** The caller aborted it (shutdown). */
  | 'aborted'
  /** The connection failed or broke before a status arrived. */
  | 'network';

export class OutboundError extends Error {
  readonly code: OutboundErrorCode;
  /** A short, secret-free reason, safe to log ("userinfo", "loopback 127.0.0.1", …). */
  readonly reason: string;

  constructor(code: OutboundErrorCode, reason: string, options?: { cause?: unknown }) {
    super(`${code}: ${reason}`, options);
    this.name = 'OutboundError';
    this.code = code;
    this.reason = reason;
  }
}
