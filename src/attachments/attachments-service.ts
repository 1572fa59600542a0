import type { Readable } from 'node:stream';
import { systemClock, type Clock } from '../core/clock.js';
import { ParleyError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Attachment, AttachmentStore } from './attachment-store.js';
import type { BlobStore, ByteRange } from './blob-store.js';
import { isAllowedType, normalizeMediaType } from './media-types.js';
import type { MemberWindow, MemberWindowOf } from './member-window.js';

export interface AttachmentsDeps {
  readonly store: AttachmentStore;
  readonly blobs: BlobStore;
  /** Which of a conversation's attachments a user may read (member-window.ts). */
  readonly memberWindowUs: MemberWindowOf;
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
 * anyone else only as a member of a conversation where it was sent (recordUse), for what was
 * sent within its read window (a late joiner of a history-from-join group sees nothing sent
 * before its join; a former member nothing sent after it left), a group's current avatar to
 * every current member; and, if it is the owner's current profile avatar, every
 * signed-in user. To anyone else it does not exist: the answer is attachment_not_found, never a
 * hint that the id is real.
 */
export class AttachmentsService {
  private readonly store: AttachmentStore;
  private readonly blobs: BlobStore;
  private readonly memberWindowUs: MemberWindowOf;
  private readonly isProfileAvatar: AttachmentsDeps['isProfileAvatar'];
  private readonly bytesMax: number;
  private readonly types: readonly string[];
  private readonly clock: Clock;

  constructor(deps: AttachmentsDeps) {
    this.store = deps.store;
    this.blobs = deps.blobs;
    this.memberWindowUs = deps.memberWindowUs;
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
      // What was sent within the member's window: from its join when the group shows new members
      // their history from the join, until its leaving for a former member.
      const windows = await Promise.all(
        page.map((u) => this.memberWindowUs(u.conversationId, userId)),
      );
      if (page.some((u, i) => mayRead(windows[i]!, u.usedAtUs, attachmentId))) return attachment;
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
    if (
      (await this.memberWindowUs(conversationId, senderId)).untilUs !== Number.POSITIVE_INFINITY
    ) {
      throw new ParleyError('not_member');
    }
    await this.store.addUse(attachmentId, conversationId, this.clock.nowUs());
  }
}

/**
 * Whether a use at `usedAtUs` falls in the window. The use keeps the first time the attachment
 * was sent in the conversation (uses from before migration 6 count as 0: before every window
 * that starts later). A group's current avatar shows to every current member, as its profile.
 */
function mayRead(window: MemberWindow, usedAtUs: number, attachmentId: string): boolean {
  if (window.avatar === attachmentId) return true;
  return usedAtUs > window.fromUs && usedAtUs <= window.untilUs;
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
