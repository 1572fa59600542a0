// Every bound Parley enforces, in one place, unit last in the name. Config may override each one
// (see config/config.ts); these are the defaults a fresh install runs with.

export interface Limits {
  /** Largest HTTP request body accepted at all. */
  readonly httpBodyBytesMax: number;
  /** Largest message body (its JSON encoding) a send may carry. */
  readonly messageBodyBytesMax: number;
  /** Longest text of a text message, in characters. */
  readonly textCharsMax: number;
  /** Longest client message ref. */
  readonly refCharsMax: number;
  /** Largest page a pull may ask for; bigger asks are capped to it. */
  readonly pullCountMax: number;
  /** Page size when a pull gives none (or zero or less, as the seed API allows). */
  readonly pullCountDefault: number;
  /** Most members a group may hold. */
  readonly groupMembersMax: number;
  /** Most sends stored in one group-commit transaction. */
  readonly commitBatchMax: number;
  /** Longest group title and room name. */
  readonly titleCharsMax: number;
  /** Longest device id. */
  readonly deviceCharsMax: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  httpBodyBytesMax: 256 * 1024,
  messageBodyBytesMax: 64 * 1024,
  textCharsMax: 16_000,
  refCharsMax: 64,
  pullCountMax: 100,
  pullCountDefault: 10,
  groupMembersMax: 10_000,
  commitBatchMax: 1_000,
  titleCharsMax: 128,
  deviceCharsMax: 64,
});
