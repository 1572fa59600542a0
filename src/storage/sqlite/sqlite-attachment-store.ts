import type { Statement } from 'better-sqlite3';
import type { Attachment, AttachmentStore, AttachmentUse } from '../../attachments/index.js';
import { settle, type SqliteDb } from './database.js';
import { toAttachment, type AttachmentRow } from '../rows.js';

/** The embedded AttachmentStore (tables from migration 4). */
export class SqliteAttachmentStore implements AttachmentStore {
  private readonly insert_: Statement;
  private readonly get_: Statement;
  private readonly addUse_: Statement;
  private readonly listUses_: Statement;

  constructor(db: SqliteDb) {
    this.insert_ = db.prepare(
      `INSERT INTO attachments (id, owner_id, sha256, size, mime, name, created_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.get_ = db.prepare('SELECT * FROM attachments WHERE id = ?');
    this.addUse_ = db.prepare(
      `INSERT INTO attachment_uses (attachment_id, conversation_id, used_at_us) VALUES (?, ?, ?)
       ON CONFLICT DO NOTHING`,
    );
    this.listUses_ = db.prepare(
      `SELECT conversation_id, used_at_us FROM attachment_uses
        WHERE attachment_id = ? AND conversation_id > ? ORDER BY conversation_id LIMIT ?`,
    );
  }

  insert(a: Attachment): Promise<void> {
    return settle(() => {
      this.insert_.run(a.id, a.ownerId, a.sha256, a.size, a.mime, a.name, a.createdAtMs);
    });
  }

  get(id: string): Promise<Attachment | null> {
    return settle(() => {
      const row = this.get_.get(id) as AttachmentRow | undefined;
      return row ? toAttachment(row) : null;
    });
  }

  addUse(attachmentId: string, conversationId: string, usedAtUs: number): Promise<boolean> {
    return settle(() => this.addUse_.run(attachmentId, conversationId, usedAtUs).changes === 1);
  }

  listUses(
    attachmentId: string,
    page: { readonly after?: string; readonly limit: number },
  ): Promise<AttachmentUse[]> {
    return settle(() =>
      (
        this.listUses_.all(attachmentId, page.after ?? '', page.limit) as {
          conversation_id: string;
          used_at_us: number;
        }[]
      ).map((r) => ({ conversationId: r.conversation_id, usedAtUs: r.used_at_us })),
    );
  }
}
