import type pg from 'pg';
import type { Attachment, AttachmentStore, AttachmentUse } from '../../attachments/index.js';
import { toAttachment, type AttachmentRow } from '../rows.js';

/** The cluster AttachmentStore (tables from migration 4); BIGINTs arrive as numbers (database.ts). */
export class PostgresAttachmentStore implements AttachmentStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  async insert(a: Attachment): Promise<void> {
    await this.pool.query(
      `INSERT INTO attachments (id, owner_id, sha256, size, mime, name, created_at_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [a.id, a.ownerId, a.sha256, a.size, a.mime, a.name, a.createdAtMs],
    );
  }

  async get(id: string): Promise<Attachment | null> {
    const { rows } = await this.pool.query<AttachmentRow>(
      'SELECT * FROM attachments WHERE id = $1',
      [id],
    );
    return rows[0] ? toAttachment(rows[0]) : null;
  }

  async addUse(attachmentId: string, conversationId: string, usedAtUs: number): Promise<boolean> {
    const result = await this.pool.query(
      `INSERT INTO attachment_uses (attachment_id, conversation_id, used_at_us) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING`,
      [attachmentId, conversationId, usedAtUs],
    );
    return result.rowCount === 1;
  }

  async listUses(
    attachmentId: string,
    page: { readonly after?: string; readonly limit: number },
  ): Promise<AttachmentUse[]> {
    // COLLATE "C": the same byte order as SQLite, whatever the database's default collation.
    const { rows } = await this.pool.query<{ conversation_id: string; used_at_us: number }>(
      `SELECT conversation_id, used_at_us FROM attachment_uses
       WHERE attachment_id = $1 AND conversation_id COLLATE "C" > $2
       ORDER BY conversation_id COLLATE "C" LIMIT $3`,
      [attachmentId, page.after ?? '', page.limit],
    );
    return rows.map((r) => ({ conversationId: r.conversation_id, usedAtUs: r.used_at_us }));
  }
}
