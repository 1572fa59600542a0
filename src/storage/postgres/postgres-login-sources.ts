import type pg from 'pg';
import type { LoginRecord, LoginSourceBounds, LoginSourceStore } from '../../auth/index.js';
import { inTransaction } from './database.js';

/** The cluster LoginSourceStore (auth/store, migration 15). */
export class PostgresLoginSources implements LoginSourceStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  async rememberLogin(login: LoginRecord, bounds: LoginSourceBounds): Promise<void> {
    await this.remember(login, bounds);
    // Outside the login's transaction, so that nodes expiring the same rows hold their locks
    // only for a statement.
    await this.pool.query('DELETE FROM login_addresses WHERE last_ok_ms < $1', [
      bounds.forgetBeforeMs,
    ]);
    await this.pool.query('DELETE FROM device_keys WHERE last_ok_ms < $1', [bounds.forgetBeforeMs]);
  }

  private remember(login: LoginRecord, bounds: LoginSourceBounds): Promise<void> {
    const { userId, device, deviceKeyHash, addressHash, nowMs } = login;
    return inTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO device_keys (user_id, device, key_hash, last_ok_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, device)
         DO UPDATE SET key_hash = EXCLUDED.key_hash, last_ok_ms = EXCLUDED.last_ok_ms`,
        [userId, device, deviceKeyHash, nowMs],
      );
      // Most recent first; among rows of the same millisecond, the one just written wins.
      await client.query(
        `DELETE FROM device_keys WHERE user_id = $1 AND device NOT IN (
           SELECT device FROM device_keys WHERE user_id = $1
            ORDER BY last_ok_ms DESC, device = $2 DESC LIMIT $3)`,
        [userId, device, bounds.devicesMax],
      );
      if (addressHash !== null) {
        await client.query(
          `INSERT INTO login_addresses (user_id, address_hash, last_ok_ms) VALUES ($1, $2, $3)
           ON CONFLICT (user_id, address_hash) DO UPDATE SET last_ok_ms = EXCLUDED.last_ok_ms`,
          [userId, addressHash, nowMs],
        );
        await client.query(
          `DELETE FROM login_addresses WHERE user_id = $1 AND address_hash NOT IN (
             SELECT address_hash FROM login_addresses WHERE user_id = $1
              ORDER BY last_ok_ms DESC, address_hash = $2 DESC LIMIT $3)`,
          [userId, addressHash, bounds.addressesMax],
        );
      }
    });
  }

  async isKnownAddress(userId: string, addressHash: string, sinceMs: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `SELECT 1 FROM login_addresses
        WHERE user_id = $1 AND address_hash = $2 AND last_ok_ms >= $3`,
      [userId, addressHash, sinceMs],
    );
    return (rowCount ?? 0) > 0;
  }

  async isKnownDevice(
    userId: string,
    device: string,
    deviceKeyHash: string,
    sinceMs: number,
  ): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `SELECT 1 FROM device_keys
        WHERE user_id = $1 AND device = $2 AND key_hash = $3 AND last_ok_ms >= $4`,
      [userId, device, deviceKeyHash, sinceMs],
    );
    return (rowCount ?? 0) > 0;
  }

  async forgetDeviceKeys(
    userId: string,
    which: { device: string } | { allBut: string },
  ): Promise<void> {
    const [op, device] = 'device' in which ? ['=', which.device] : ['<>', which.allBut];
    await this.pool.query(`DELETE FROM device_keys WHERE user_id = $1 AND device ${op} $2`, [
      userId,
      device,
    ]);
  }

  forgetLoginSources(userId: string): Promise<void> {
    return inTransaction(this.pool, async (client) => {
      await client.query('DELETE FROM device_keys WHERE user_id = $1', [userId]);
      await client.query('DELETE FROM login_addresses WHERE user_id = $1', [userId]);
    });
  }
}
