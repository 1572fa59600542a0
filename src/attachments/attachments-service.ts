import type { Readable } from 'node:stream';
import { systemClock, type Clock } from '../core/clock.js';
import { ParleyError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Attachment, AttachmentStore } from './attachment-store.js';
import type { BlobStore, ByteRange } from './blob-store.js';
import { isAllowedType, normalizeMediaType } from './media-types.js';

/**
 * Until when (microseconds) a user may read what was sent in a conversation: +Infinity for a
 * current member, its leaving time for a former member, a negative number for anyone else.
 * main.ts injects the messaging capability's.
 */
export type MemberUntil = (conversationId: string, userId: string) => Promise<number>;

export interface AttachmentsDeps {
  readonly store: AttachmentStore;
  readonly blobs: BlobStore;
  readonly memberUntilUs: MemberUntil;
  /**
   * Whether the attachment is its owner's current profile avatar, which every signed-in user may
   * see (a profile is public to them). Without it, only owners and conversation members read.
   */
  readonly isProfileAvatar?: (ownerId: string, attachmentId: string) => Promise<boolean>;
  readonly bytesMax: number;
  /** The content-type allow-list (see media-types.ts for the pattern forms). */
  readonly types: readonly string[];
  readonly clock?: Clock;
}

export interface Upload {
  readonly contentType: string | undefined;
  /** The Content-Length the client declared, when it did. */
  readonly declaredBytes: number | undefined;
  readonly name: string | undefined;
  readonly body: Readable;
}

/** Conversations checked per store page while authorizing a download. */
const USES_PAGE_COUNT = 100;
const NAME_CHARS_MAX = 255;
// No control characters or path separators: the name goes into a Content-Disposition header.
// eslint-disable-next-line no-control-regex
const NAME_RE = /^[^\u0000-\u001f\u007f/\\]+$/;

/**
 * The rules of attachments. Bytes go to the BlobStore under their SHA-256; each upload gets its
 * own metadata row (several rows may share one blob). The owner may always read an attachment;
 * anyone else only as a member of a conversation where it was sent (recordUse) — a former member
 * keeps what was sent before it left; and, if it is the owner's current profile avatar, every
 * signed-in user. To anyone else it does not exist: the answer is attachment_not_found, never a
 * hint that the id is real.
 */
export class AttachmentsService {
  private readonly store: AttachmentStore;
  private readonly blobs: BlobStore;
  private readonly memberUntilUs: MemberUntil;
  private readonly isProfileAvatar: AttachmentsDeps['isProfileAvatar'];
  private readonly bytesMax: number;
  private readonly types: readonly string[];
  private readonly clock: Clock;

  constructor(deps: AttachmentsDeps) {
    this.store = deps.store;
    this.blobs = deps.blobs;
    this.memberUntilUs = deps.memberUntilUs;
    this.isProfileAvatar = deps.isProfileAvatar;
    this.bytesMax = deps.bytesMax;
    this.types = deps.types;
    this.clock = deps.clock ?? systemClock;
  }

  /** Checks type, name and declared size before reading a byte; the size again while streaming. */
  async upload(ownerId: string, upload: Upload): Promise<Attachment> {
    const mime = normalizeMediaType(upload.contentType);
    if (!isAllowedType(mime, this.types)) {
      throw new ParleyError(
        'unsupported_media_type',
        `Attachments of type ${mime} are not allowed.`,
      );
    }
    const name = checkName(upload.name);
    if (upload.declaredBytes !== undefined && upload.declaredBytes > this.bytesMax) {
      throw new ParleyError(
        'attachment_too_large',
        `An attachment is at most ${this.bytesMax} bytes.`,
      );
    }
    const { sha256, size } = await this.blobs.put(upload.body, { bytesMax: this.bytesMax });
    const attachment: Attachment = {
      id: newId('a'),
      ownerId,
      sha256,
      size,
      mime,
      name,
      createdAtMs: this.clock.nowMs(),
    };
    // A failure here leaves an unreferenced blob: harmless, and reused by the next same upload.
    await this.store.insert(attachment);
    return attachment;
  }

  /** The attachment if `userId` may read it; attachment_not_found otherwise. */
  async authorize(userId: string, attachmentId: string): Promise<Attachment> {
    const attachment = await this.store.get(attachmentId);
    if (!attachment) throw new ParleyError('attachment_not_found');
    if (attachment.ownerId === userId) return attachment;
    let after: string | undefined;
    for (;;) {
      const page = await this.store.listUses(attachmentId, {
        limit: USES_PAGE_COUNT,
        ...(after !== undefined && { after }),
      });
      // A former member keeps what was sent while it was a member, nothing sent later.
      const until = await Promise.all(
        page.map((u) => this.memberUntilUs(u.conversationId, userId)),
      );
      if (page.some((u, i) => u.usedAtUs <= until[i]!)) return attachment;
      if (page.length < USES_PAGE_COUNT) break;
      after = page.at(-1)?.conversationId;
    }
    // Last, as the rarer case: a download of a message's attachment needs no profile lookup.
    if (await this.isProfileAvatar?.(attachment.ownerId, attachmentId)) return attachment;
    throw new ParleyError('attachment_not_found');
  }

  /**
   * Checks that a user may make this attachment its profile avatar: its own upload (else
   * attachment_not_found, as for any id it cannot read), and an image (else invalid_request).
   */
  async checkAvatar(userId: string, attachmentId: string): Promise<void> {
    const attachment = await this.store.get(attachmentId);
    if (!attachment || attachment.ownerId !== userId) {
      throw new ParleyError('attachment_not_found');
    }
    if (!attachment.mime.startsWith('image/')) {
      throw new ParleyError('invalid_request', 'An avatar must be an image.');
    }
  }

  /** The bytes (or a range of them) of an attachment already authorized. */
  async read(attachment: Attachment, range?: ByteRange): Promise<Readable> {
    const stream = await this.blobs.get(attachment.sha256, range);
    if (!stream) {
      throw new ParleyError('internal', `blob ${attachment.sha256} of ${attachment.id} is missing`);
    }
    return stream;
  }

  /**
   * Records that `senderId` sent the attachment in a conversation, which lets that conversation's
   * members download it. The sender must be able to read it (owner, or a member of a conversation
   * where it was sent: forwarding) and be a member of the conversation. Idempotent.
   */
  async recordUse(attachmentId: string, conversationId: string, senderId: string): Promise<void> {
    await this.authorize(senderId, attachmentId);
    if ((await this.memberUntilUs(conversationId, senderId)) !== Number.POSITIVE_INFINITY) {
      throw new ParleyError('not_member');
    }
    await this.store.addUse(attachmentId, conversationId, this.clock.nowUs());
  }
}

function checkName(name: string | undefined): string | null {
  if (name === undefined || name === '') return null;
  if (name.length > NAME_CHARS_MAX || !NAME_RE.test(name)) {
    throw new ParleyError(
      'invalid_request',
      `A file name is 1 to ${NAME_CHARS_MAX} characters, without control characters or slashes.`,
    );
  }
  return name;
}
