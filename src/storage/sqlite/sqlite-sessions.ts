import type { Statement } from 'better-sqlite3';
import type { Clock } from '../../core/clock.js';
import type { DeviceSession, Session, SessionStore } from '../../auth/index.js';
import { toDeviceSession, toSession, type DeviceSessionRow, type SessionRow } from '../rows.js';
import { settle, type SqliteDb } from './database.js';

/** The embedded SessionStore (auth/store): one session per (user, device), keyed by token hash. */
export class SqliteSessionStore implements SessionStore {
  private readonly db: SqliteDb;
  private readonly clock: Clock;
  private readonly q: Record<string, Statement>;

  constructor(db: SqliteDb, clock: Clock) {
    this.db = db;
    this.clock = clock;
    this.q = {
      deleteDeviceSession: db.prepare('DELETE FROM sessions WHERE user_id = ? AND device = ?'),
      insertSession: db.prepare(
        'INSERT INTO sessions (token_hash, user_id, device, created_at_ms) VALUES (?, ?, ?, ?)',
      ),
      session: db.prepare(
        `SELECT s.user_id, u.username, s.device, s.created_at_ms,
                COALESCE(s.last_seen_ms, s.created_at_ms) AS last_seen_ms
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.token_hash = ? AND u.disabled_at_ms IS NULL`,
      ),
      touchSession: db.prepare(
        `UPDATE sessions SET last_seen_ms = ?
          WHERE user_id = ? AND device = ? AND COALESCE(last_seen_ms, created_at_ms) < ?`,
      ),
      deleteSession: db.prepare('DELETE FROM sessions WHERE token_hash = ?'),
      sessionsOf: db.prepare(
        `SELECT device, created_at_ms, COALESCE(last_seen_ms, created_at_ms) AS last_seen_ms
           FROM sessions WHERE user_id = ?
          ORDER BY created_at_ms DESC, device`,
      ),
    };
  }

  putSession(tokenHash: string, userId: string, device: string): Promise<void> {
    return settle(() => {
      this.db
        .transaction(() => {
          this.q.deleteDeviceSession!.run(userId, device);
          this.q.insertSession!.run(tokenHash, userId, device, this.clock.nowMs());
        })
        .immediate();
    });
  }

  findSession(tokenHash: string): Promise<Session | null> {
    return settle(() => {
      const row = this.q.session!.get(tokenHash) as SessionRow | undefined;
      return row ? toSession(row) : null;
    });
  }

  touchSession(userId: string, device: string, nowMs: number): Promise<void> {
    return settle(() => void this.q.touchSession!.run(nowMs, userId, device, nowMs));
  }

  deleteSession(tokenHash: string): Promise<boolean> {
    return settle(() => {
      return this.q.deleteSession!.run(tokenHash).changes > 0;
    });
  }

  listSessions(userId: string): Promise<DeviceSession[]> {
    return settle(() =>
      (this.q.sessionsOf!.all(userId) as DeviceSessionRow[]).map(toDeviceSession),
    );
  }

  deleteDeviceSession(userId: string, device: string): Promise<boolean> {
    return settle(() => this.q.deleteDeviceSession!.run(userId, device).changes > 0);
  }
}
