import { ParleyError } from '../core/errors.js';
import { isId } from '../core/ids.js';
import { nestsDeeperThan } from '../core/json-depth.js';
import type { Limits } from '../core/limits.js';
import type { MessageBody } from './model.js';

// The message kinds clients may send (docs/messages.md). Unknown kinds and unknown fields are
// refused rather than stored blindly, so that every stored body is one clients know how to show.
// `system` (membership changes) and `recalled` are written by the server only.

/** Fields every kind may carry. */
const COMMON = ['kind', 'replyTo', 'forwardedFrom'] as const;

/** Each kind and the fields it may carry besides COMMON. */
const FIELDS = {
  text: ['text', 'mentions'],
  image: ['attachment', 'caption', 'width', 'height'],
  file: ['attachment', 'caption', 'name'],
  audio: ['attachment', 'caption', 'durationMs'],
  video: ['attachment', 'caption', 'width', 'height', 'durationMs'],
  location: ['lat', 'lng', 'label'],
  custom: ['type', 'payload'],
} as const satisfies Record<string, readonly string[]>;

export type ClientKind = keyof typeof FIELDS;
const KINDS = Object.keys(FIELDS) as ClientKind[];
/** Each kind's allowed fields (COMMON and its own), built once. */
const ALLOWED = new Map<string, ReadonlySet<string>>(
  KINDS.map((kind) => [kind, new Set<string>([...COMMON, ...FIELDS[kind]])]),
);

/** Kinds whose body names an attachment (`attachment`) that a send must be allowed to use. */
export const ATTACHMENT_KINDS: ReadonlySet<string> = new Set(['image', 'file', 'audio', 'video']);

/** Most users one text message may mention. */
export const MENTIONS_MAX = 100;
/** Largest image or video width or height, in pixels. */
export const DIMENSION_MAX = 100_000;
/** Longest audio or video duration (2^31 - 1 ms, about 24.8 days). */
export const DURATION_MS_MAX = 2_147_483_647;
/** Longest file name (as for an upload's name) and location label, in characters. */
export const NAME_CHARS_MAX = 255;
export const LABEL_CHARS_MAX = 256;
/** Longest custom type. */
export const CUSTOM_TYPE_CHARS_MAX = 64;

// Control characters are refused in refs and short labels: a NUL byte in a ref would make
// PostgreSQL fail the whole group-commit batch it is in, not just this send.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
// A file name goes into Content-Disposition headers of clients: no controls, no path separators.
// eslint-disable-next-line no-control-regex
const FILE_NAME_RE = /^[^\u0000-\u001f\u007f/\\]+$/;

type Fields = Record<string, unknown>;

function invalid(message: string): never {
  throw new ParleyError('invalid_request', message);
}

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a client-supplied body and returns it as a MessageBody, or throws a coded error. */
export function validateBody(body: unknown, limits: Limits): MessageBody {
  if (!isObject(body)) invalid('body must be an object with a "kind".');
  // First: measuring the body's size below (JSON.stringify) recurses.
  if (nestsDeeperThan(body, limits.messageBodyDepthMax)) {
    invalid(`body nests objects and arrays more than ${limits.messageBodyDepthMax} levels deep.`);
  }
  const kind = body.kind;
  if (kind === 'system' || kind === 'recalled') {
    invalid(`body.kind "${kind}" is written by the server only.`);
  }
  if (typeof kind !== 'string' || !Object.hasOwn(FIELDS, kind)) {
    invalid(`body.kind must be one of: ${KINDS.join(', ')}.`);
  }
  const allowed = ALLOWED.get(kind)!;
  for (const key of Object.keys(body)) {
    if (!allowed.has(key)) invalid(`body.${key} is not a field of a ${kind} message.`);
  }
  switch (kind as ClientKind) {
    case 'text':
      checkText(body, limits);
      break;
    case 'image':
    case 'file':
    case 'audio':
    case 'video':
      checkMedia(body, limits);
      break;
    case 'location':
      checkLocation(body);
      break;
    case 'custom':
      checkCustom(body);
      break;
  }
  if (body.replyTo !== undefined) checkSeq(body.replyTo, 'body.replyTo');
  if (body.forwardedFrom !== undefined) checkForwardedFrom(body.forwardedFrom);
  if (Buffer.byteLength(JSON.stringify(body)) > limits.messageBodyBytesMax) {
    throw new ParleyError(
      'body_too_large',
      `The message body is larger than ${limits.messageBodyBytesMax} bytes.`,
    );
  }
  return body as MessageBody;
}

function checkText(body: Fields, limits: Limits): void {
  if (typeof body.text !== 'string' || body.text.length === 0) {
    invalid('A text message needs a non-empty body.text.');
  }
  checkLongText(body.text, 'body.text', limits);
  const mentions = body.mentions;
  if (mentions === undefined || mentions === 'all') return;
  if (
    !Array.isArray(mentions) ||
    mentions.length === 0 ||
    mentions.length > MENTIONS_MAX ||
    !mentions.every(isId) ||
    new Set(mentions).size !== mentions.length
  ) {
    invalid(`body.mentions must be "all" or 1 to ${MENTIONS_MAX} distinct user ids.`);
  }
}

function checkMedia(body: Fields, limits: Limits): void {
  if (!isId(body.attachment)) invalid('body.attachment must be an attachment id.');
  if (body.caption !== undefined) {
    if (typeof body.caption !== 'string' || body.caption.length === 0) {
      invalid('body.caption must be a non-empty string.');
    }
    checkLongText(body.caption, 'body.caption', limits);
  }
  checkInt(body.width, 'body.width', 1, DIMENSION_MAX);
  checkInt(body.height, 'body.height', 1, DIMENSION_MAX);
  checkInt(body.durationMs, 'body.durationMs', 0, DURATION_MS_MAX);
  const name = body.name;
  if (
    name !== undefined &&
    (typeof name !== 'string' || name.length > NAME_CHARS_MAX || !FILE_NAME_RE.test(name))
  ) {
    invalid(
      `body.name must be 1 to ${NAME_CHARS_MAX} characters, without control characters or slashes.`,
    );
  }
}

function checkLocation(body: Fields): void {
  checkNumber(body.lat, 'body.lat', -90, 90);
  checkNumber(body.lng, 'body.lng', -180, 180);
  const label = body.label;
  if (
    label !== undefined &&
    (typeof label !== 'string' ||
      label.length === 0 ||
      label.length > LABEL_CHARS_MAX ||
      CONTROL_RE.test(label))
  ) {
    invalid(`body.label must be 1 to ${LABEL_CHARS_MAX} printable characters.`);
  }
}

function checkCustom(body: Fields): void {
  const type = body.type;
  if (
    typeof type !== 'string' ||
    type.length === 0 ||
    type.length > CUSTOM_TYPE_CHARS_MAX ||
    CONTROL_RE.test(type)
  ) {
    invalid(`body.type must be 1 to ${CUSTOM_TYPE_CHARS_MAX} printable characters.`);
  }
  // Any JSON value is passed through; the body byte limit bounds it.
  if (!Object.hasOwn(body, 'payload') || body.payload === undefined) {
    invalid('A custom message needs a body.payload (any JSON value).');
  }
}

function checkForwardedFrom(value: unknown): void {
  if (!isObject(value)) invalid('body.forwardedFrom must be an object {conversation, seq}.');
  for (const key of Object.keys(value)) {
    if (key !== 'conversation' && key !== 'seq') {
      invalid(`body.forwardedFrom.${key} is not a field of forwardedFrom.`);
    }
  }
  if (!isId(value.conversation)) {
    invalid('body.forwardedFrom.conversation must be a conversation id.');
  }
  checkSeq(value.seq, 'body.forwardedFrom.seq');
}

function checkSeq(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    invalid(`${field} must be a message seq (an integer of at least 1).`);
  }
}

/** An optional integer field in [min, max]. */
function checkInt(value: unknown, field: string, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    invalid(`${field} must be an integer from ${min} to ${max}.`);
  }
}

/** A required finite number in [min, max]. */
function checkNumber(value: unknown, field: string, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    invalid(`${field} must be a number from ${min} to ${max}.`);
  }
}

function checkLongText(text: string, field: string, limits: Limits): void {
  // Characters are code points; length counts UTF-16 units, an upper bound worth checking first.
  if (text.length > limits.textCharsMax && countCodePoints(text) > limits.textCharsMax) {
    throw new ParleyError(
      'body_too_large',
      `${field} is longer than ${limits.textCharsMax} characters.`,
    );
  }
}

export function validateRef(ref: unknown, limits: Limits): string {
  if (
    typeof ref !== 'string' ||
    ref.length === 0 ||
    ref.length > limits.refCharsMax ||
    CONTROL_RE.test(ref)
  ) {
    throw new ParleyError(
      'invalid_request',
      `ref must be 1 to ${limits.refCharsMax} printable characters.`,
    );
  }
  return ref;
}

function countCodePoints(text: string): number {
  let n = 0;
  for (const _char of text) n++;
  return n;
}

/**
 * The new body of an edit: a text body (text and mentions only; the message keeps its replyTo
 * and forwardedFrom), under the same checks as a send.
 */
export function validateEditBody(body: unknown, limits: Limits): MessageBody {
  if (isObject(body) && body.kind !== 'text') {
    invalid('An edit replaces a text message\'s text: body.kind must be "text".');
  }
  if (isObject(body) && (body.replyTo !== undefined || body.forwardedFrom !== undefined)) {
    invalid('An edit changes text and mentions only, not replyTo or forwardedFrom.');
  }
  return validateBody(body, limits);
}

// A reaction is an emoji or a short token: no whitespace (it would hide in a list), no controls.
// eslint-disable-next-line no-control-regex
const REACTION_RE = /^[^\s\u0000-\u001f\u007f]+$/u;
// Half of a surrogate pair is not text: it would not survive being stored as UTF-8.
const LONE_SURROGATE_RE = /\p{Cs}/u;

/** A reaction: 1 to `reactionCharsMax` code points, no whitespace or control characters. */
export function validateReaction(emoji: unknown, limits: Limits): string {
  if (
    typeof emoji !== 'string' ||
    emoji.length === 0 ||
    countCodePoints(emoji) > limits.reactionCharsMax ||
    !REACTION_RE.test(emoji) ||
    LONE_SURROGATE_RE.test(emoji)
  ) {
    invalid(
      `emoji must be 1 to ${limits.reactionCharsMax} characters, without spaces or control characters.`,
    );
  }
  return emoji;
}

/**
 * A body as a conversation list previews it: `text` and `caption` cut to `charsMax` code points
 * (with `truncated: true`), and a custom message's payload left out. Other fields stay.
 */
export function previewBody(body: MessageBody, charsMax: number): MessageBody {
  let truncated = false;
  const cut = (value: unknown): unknown => {
    if (typeof value !== 'string' || value.length <= charsMax) return value;
    const points = Array.from(value);
    if (points.length <= charsMax) return value;
    truncated = true;
    return points.slice(0, charsMax).join('');
  };
  const { payload: _payload, ...rest } = body;
  void _payload;
  const preview: Record<string, unknown> = body.kind === 'custom' ? rest : { ...body };
  if (preview.text !== undefined) preview.text = cut(preview.text);
  if (preview.caption !== undefined) preview.caption = cut(preview.caption);
  if (truncated) preview.truncated = true;
  return preview as MessageBody;
}
