import type pg from 'pg';
import type { Pusher, PusherStore } from '../../push/index.js';
import { toPusher, type PusherRow } from '../rows.js';

export class PostgresPusherStore implements PusherStore {
  constructor(private readonly pool: pg.Pool) {}

  async set(p: Pusher): Promise<void> {
    await this.pool.query(
      `INSERT INTO pushers (user_id, device, url, token, created_at_ms) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id, device) DO UPDATE
         SET url = EXCLUDED.url, token = EXCLUDED.token, created_at_ms = EXCLUDED.created_at_ms`,
      [p.userId, p.device, p.url, p.token, p.createdAtMs],
    );
  }

  async get(userId: string, device: string): Promise<Pusher | null> {
    const { rows } = await this.pool.query<PusherRow>(
      'SELECT * FROM pushers WHERE user_id = $1 AND device = $2',
      [userId, device],
    );
    return rows[0] ? toPusher(rows[0]) : null;
  }

  async remove(userId: string, device: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'DELETE FROM pushers WHERE user_id = $1 AND device = $2',
      [userId, device],
    );
    return (rowCount ?? 0) > 0;
  }

  async removeAll(userId: string): Promise<number> {
    const { rowCount } = await this.pool.query('DELETE FROM pushers WHERE user_id = $1', [userId]);
    return rowCount ?? 0;
  }

  async targets(conversationId: string, userIds: readonly string[]): Promise<Pusher[]> {
    const { rows } = await this.pool.query<PusherRow>(
      `SELECT p.* FROM pushers p
         JOIN members m ON m.conversation_id = $1 AND m.user_id = p.user_id
                       AND m.left_seq IS NULL AND NOT m.notifications_muted
         JOIN sessions s ON s.user_id = p.user_id AND s.device = p.device
        WHERE p.user_id = ANY($2::text[])`,
      [conversationId, [...new Set(userIds)]],
    );
    return rows.map(toPusher);
  }

  async usersWithPushers(): Promise<string[]> {
    const { rows } = await this.pool.query<{ user_id: string }>(
      'SELECT DISTINCT user_id FROM pushers',
    );
    return rows.map((r) => r.user_id);
  }
}
