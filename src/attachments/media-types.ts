import { ParleyError } from '../core/errors.js';

// Content types: parsing what a client sent, and matching it against the configured allow-list
// (its default and its syntax are in config/config.ts).

const TOKEN = "[a-z0-9!#$%&'*+.^_`|~-]+";
const MEDIA_TYPE_RE = new RegExp(`^(${TOKEN})/(${TOKEN})$`);
const CHARSET_RE = /^charset=("?)([a-z0-9._:-]{1,40})\1$/;

/**
 * The stored form of a Content-Type header: lowercase `type/subtype`, plus `; charset=…` when
 * one was given. Other parameters are dropped, so the value is safe to send back as a header.
 */
export function normalizeMediaType(header: string | undefined): string {
  const [essence = '', ...params] = (header ?? '').toLowerCase().split(';');
  const type = essence.trim();
  if (!MEDIA_TYPE_RE.test(type)) {
    throw new ParleyError('unsupported_media_type', 'A Content-Type of type/subtype is required.');
  }
  for (const param of params) {
    const charset = CHARSET_RE.exec(param.trim());
    if (charset) return `${type}; charset=${charset[2]}`;
  }
  return type;
}

/** The `type/subtype` part of a normalized media type. */
export const essenceOf = (mediaType: string): string => mediaType.split(';')[0] ?? mediaType;

/** Whether `mediaType` matches an entry of the allow-list (a trailing `*` matches any suffix). */
export function isAllowedType(mediaType: string, allowed: readonly string[]): boolean {
  const essence = essenceOf(mediaType);
  return allowed.some((p) =>
    p.endsWith('*') ? essence.startsWith(p.slice(0, -1)) : essence === p,
  );
}

/** Shown inline by browsers (never scriptable content such as SVG); everything else downloads. */
export function isInline(mediaType: string): boolean {
  const essence = essenceOf(mediaType);
  return /^(image|audio|video)\//.test(essence) && essence !== 'image/svg+xml';
}
