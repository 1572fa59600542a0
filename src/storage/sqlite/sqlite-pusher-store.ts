import type { Statement } from 'better-sqlite3';
import type { Pusher, PusherStore } from '../../push/index.js';
import { toPusher, type PusherRow } from '../rows.js';
import { settle, type SqliteDb } from './database.js';

export class SqlitePusherStore implements PusherStore {
  private readonly q: Record<
    'set' | 'get' | 'remove' | 'removeAll' | 'targets' | 'users',
    Statement
  >;

  constructor(db: SqliteDb) {
    this.q = {
      set: db.prepare(
        `INSERT INTO pushers (user_id, device, url, token, created_at_ms) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id, device) DO UPDATE
           SET url = excluded.url, token = excluded.token, created_at_ms = excluded.created_at_ms`,
      ),
      get: db.prepare('SELECT * FROM pushers WHERE user_id = ? AND device = ?'),
      remove: db.prepare('DELETE FROM pushers WHERE user_id = ? AND device = ?'),
      removeAll: db.prepare('DELETE FROM pushers WHERE user_id = ?'),
      targets: db.prepare(
        `SELECT p.* FROM json_each(?) u
           JOIN pushers p ON p.user_id = u.value
           JOIN members m ON m.conversation_id = ? AND m.user_id = p.user_id
                         AND m.left_seq IS NULL AND m.notifications_muted = 0
           JOIN sessions s ON s.user_id = p.user_id AND s.device = p.device`,
      ),
      users: db.prepare('SELECT DISTINCT user_id FROM pushers').pluck(),
    };
  }

  set(p: Pusher): Promise<void> {
    return settle(() => void this.q.set.run(p.userId, p.device, p.url, p.token, p.createdAtMs));
  }

  get(userId: string, device: string): Promise<Pusher | null> {
    return settle(() => {
      const row = this.q.get.get(userId, device) as PusherRow | undefined;
      return row ? toPusher(row) : null;
    });
  }

  remove(userId: string, device: string): Promise<boolean> {
    return settle(() => this.q.remove.run(userId, device).changes > 0);
  }

  removeAll(userId: string): Promise<number> {
    return settle(() => this.q.removeAll.run(userId).changes);
  }

  targets(conversationId: string, userIds: readonly string[]): Promise<Pusher[]> {
    return settle(() =>
      (
        this.q.targets.all(JSON.stringify([...new Set(userIds)]), conversationId) as PusherRow[]
      ).map(toPusher),
    );
  }

  usersWithPushers(): Promise<string[]> {
    return settle(() => this.q.users.all() as string[]);
  }
}
