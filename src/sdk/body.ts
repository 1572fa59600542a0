// Message bodies as the SDK types them: one interface per kind of docs/messages.md, joined by
// `kind`, so that narrowing on `kind` gives the fields of that kind and a misspelt kind does not
// compile. The server's checks (src/messaging/message-body.ts) are the authority on values; these
// types follow them field for field.
import type { MemberEvent } from '../protocol/index.js';

/** Fields every kind a client sends may carry. */
export type BodyCommon = {
  /** The seq of a message of the same conversation that this one answers. */
  readonly replyTo?: number;
  /** Where the content came from: a label for clients, not checked against its target. */
  readonly forwardedFrom?: { readonly conversation: string; readonly seq: number };
};

export type TextBody = BodyCommon & {
  readonly kind: 'text';
  /** Not empty; at most the server's `PARLEY_TEXT_CHARS_MAX` (16 000) code points. */
  readonly text: string;
  /** 1 to 100 distinct user ids, or `'all'` (@all). */
  readonly mentions?: readonly string[] | 'all';
};

export type ImageBody = BodyCommon & {
  readonly kind: 'image';
  /** An attachment id from `api.attachments.upload`. */
  readonly attachment: string;
  readonly caption?: string;
  /** Pixels, 1 to 100 000. */
  readonly width?: number;
  readonly height?: number;
};

export type FileBody = BodyCommon & {
  readonly kind: 'file';
  readonly attachment: string;
  readonly caption?: string;
  /** 1 to 255 characters, no control characters, no `/` or `\`. */
  readonly name?: string;
};

export type AudioBody = BodyCommon & {
  readonly kind: 'audio';
  readonly attachment: string;
  readonly caption?: string;
  readonly durationMs?: number;
};

export type VideoBody = BodyCommon & {
  readonly kind: 'video';
  readonly attachment: string;
  readonly caption?: string;
  readonly width?: number;
  readonly height?: number;
  readonly durationMs?: number;
};

export type LocationBody = BodyCommon & {
  readonly kind: 'location';
  /** -90 to 90. */
  readonly lat: number;
  /** -180 to 180. */
  readonly lng: number;
  readonly label?: string;
};

/** An application-defined message: the server checks `type` and passes `payload` through. */
export type CustomBody = BodyCommon & {
  readonly kind: 'custom';
  /** 1 to 64 characters. */
  readonly type: string;
  /** Any JSON value (`null` included). */
  readonly payload: unknown;
};

/** What `send` accepts: every kind a client may send. */
export type SendableBody =
  TextBody | ImageBody | FileBody | AudioBody | VideoBody | LocationBody | CustomBody;

/** What `edit` accepts: new text and mentions; the message keeps its replyTo and forwardedFrom. */
export type EditBody = Pick<TextBody, 'kind' | 'text' | 'mentions'>;

/** A membership or group change, written by the server into the seq stream (docs/groups.md). */
export type SystemBody = {
  readonly kind: 'system';
  readonly event: MemberEvent;
  readonly actor: string;
  /** Empty for changes of the whole group. */
  readonly targets: readonly string[];
  readonly role?: string;
  readonly title?: string;
  readonly muted?: boolean;
  readonly history?: string;
  /** On avatar.changed: the new avatar's attachment id, or null when it was cleared. */
  readonly avatar?: string | null;
  /** On member.left: the last member left, which dismissed the group. */
  readonly dismissed?: boolean;
};

/** What a recalled message's body becomes. */
export type RecalledBody = {
  readonly kind: 'recalled';
};

/** What a message this user deleted for itself reads as, for this user only. */
export type HiddenBody = {
  readonly kind: 'hidden';
};

/**
 * The SDK's stand-in for a body it cannot show: none came, or its kind is one this SDK does not
 * know (a newer server). `original` is what came, for an application that wants to look.
 */
export type UnreadableBody = {
  readonly kind: 'unreadable';
  readonly original?: unknown;
};

/** A message's body as the SDK reports it: a sendable kind, or one the server or SDK writes. */
export type Body = SendableBody | SystemBody | RecalledBody | HiddenBody | UnreadableBody;

export type BodyKind = Body['kind'];

/**
 * Any body, read generically (`body[key]`), for code that does not narrow on `kind`. Every Body
 * is one. Prefer `Body`: only it types each kind's fields.
 */
export type AnyBody = { readonly kind: string; readonly [key: string]: unknown };

const KNOWN_KINDS: ReadonlySet<string> = new Set<BodyKind>([
  'text',
  'image',
  'file',
  'audio',
  'video',
  'location',
  'custom',
  'system',
  'recalled',
  'hidden',
  'unreadable',
]);

/**
 * A body off the wire as the union. The server stores only the shapes above, so a known kind is
 * taken as it is; an unknown or missing one becomes `unreadable`, which keeps `switch (kind)`
 * exhaustive in applications built against this SDK.
 */
export function readBody(wire: unknown): Body {
  const kind = (wire as { kind?: unknown } | null | undefined)?.kind;
  if (typeof kind === 'string' && KNOWN_KINDS.has(kind)) return wire as Body;
  return wire === undefined ? { kind: 'unreadable' } : { kind: 'unreadable', original: wire };
}
