/** An uploaded attachment's metadata. Its bytes live in the BlobStore under `sha256`. */
export interface Attachment {
  readonly id: string;
  readonly ownerId: string;
  readonly sha256: string;
  readonly size: number;
  /** The Content-Type given at upload, normalized (lowercase type and subtype). */
  readonly mime: string;
  /** The file name given at upload, or null. */
  readonly name: string | null;
  readonly createdAtMs: number;
}

/** One conversation an attachment was sent in, and when it was first sent there. */
export interface AttachmentUse {
  readonly conversationId: string;
  /** Microseconds; 0 for uses recorded before this was kept (migration 6). */
  readonly usedAtUs: number;
}

/**
 * The attachments' metadata and where each was sent: the AttachmentStore port.
 *
 * - `insert` stores a new attachment; ids are unique (a repeated id is a programmer error).
 *   Several attachments may share one sha256 (the same bytes uploaded twice).
 * - `addUse` records that an attachment was sent in a conversation at `usedAtUs`; recording it
 *   again is a no-op that keeps the first time. It answers whether the use is new. The
 *   attachment and conversation must exist.
 * - `listUses` pages through the conversations an attachment was sent in, ordered by
 *   conversation id: at most `limit` uses whose conversation id is greater than `after`.
 */
export interface AttachmentStore {
  insert(attachment: Attachment): Promise<void>;
  get(id: string): Promise<Attachment | null>;
  addUse(attachmentId: string, conversationId: string, usedAtUs: number): Promise<boolean>;
  listUses(
    attachmentId: string,
    page: { readonly after?: string; readonly limit: number },
  ): Promise<AttachmentUse[]>;
}
