import type pg from 'pg';
import type { Clock } from '../../core/clock.js';
import type { DeviceSession, Session, SessionStore } from '../../auth/index.js';
import { toDeviceSession, toSession, type DeviceSessionRow, type SessionRow } from '../rows.js';

/** The cluster SessionStore (auth/store): one session per (user, device), keyed by token hash. */
export class PostgresSessionStore implements SessionStore {
  private readonly pool: pg.Pool;
  private readonly clock: Clock;

  constructor(pool: pg.Pool, clock: Clock) {
    this.pool = pool;
    this.clock = clock;
  }

  async putSession(tokenHash: string, userId: string, device: string): Promise<void> {
    // One statement: the device's older session is replaced atomically, even under a race.
    await this.pool.query(
      `INSERT INTO sessions (token_hash, user_id, device, created_at_ms) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, device)
       DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at_ms = EXCLUDED.created_at_ms`,
      [tokenHash, userId, device, this.clock.nowMs()],
    );
  }

  async findSession(tokenHash: string): Promise<Session | null> {
    const { rows } = await this.pool.query<SessionRow>(
      `SELECT s.user_id, u.username, s.device, s.created_at_ms,
              COALESCE(s.last_seen_ms, s.created_at_ms) AS last_seen_ms
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND u.disabled_at_ms IS NULL`,
      [tokenHash],
    );
    const row = rows[0];
    return row ? toSession(row) : null;
  }

  async touchSession(userId: string, device: string, nowMs: number): Promise<void> {
    await this.pool.query(
      `UPDATE sessions SET last_seen_ms = $1
        WHERE user_id = $2 AND device = $3 AND COALESCE(last_seen_ms, created_at_ms) < $1`,
      [nowMs, userId, device],
    );
  }

  async deleteSession(tokenHash: string): Promise<boolean> {
    const result = await this.pool.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
    return (result.rowCount ?? 0) > 0;
  }

  async listSessions(userId: string): Promise<DeviceSession[]> {
    const { rows } = await this.pool.query<DeviceSessionRow>(
      `SELECT device, created_at_ms, COALESCE(last_seen_ms, created_at_ms) AS last_seen_ms
         FROM sessions WHERE user_id = $1
        ORDER BY created_at_ms DESC, device`,
      [userId],
    );
    return rows.map(toDeviceSession);
  }

  async deleteDeviceSession(userId: string, device: string): Promise<boolean> {
    const result = await this.pool.query(
      'DELETE FROM sessions WHERE user_id = $1 AND device = $2',
      [userId, device],
    );
    return (result.rowCount ?? 0) > 0;
  }
}
