import type { Statement } from 'better-sqlite3';
import type { LoginRecord, LoginSourceBounds, LoginSourceStore } from '../../auth/index.js';
import { settle, type SqliteDb } from './database.js';

/** The embedded LoginSourceStore (auth/store, migration 15). */
export class SqliteLoginSources implements LoginSourceStore {
  private readonly db: SqliteDb;
  private readonly q: Record<string, Statement>;

  constructor(db: SqliteDb) {
    this.db = db;
    this.q = {
      putKey: db.prepare(
        `INSERT INTO device_keys (user_id, device, key_hash, last_ok_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id, device)
         DO UPDATE SET key_hash = excluded.key_hash, last_ok_ms = excluded.last_ok_ms`,
      ),
      putAddress: db.prepare(
        `INSERT INTO login_addresses (user_id, address_hash, last_ok_ms) VALUES (?, ?, ?)
         ON CONFLICT (user_id, address_hash) DO UPDATE SET last_ok_ms = excluded.last_ok_ms`,
      ),
      // Most recent first; among rows of the same millisecond, the one just written wins.
      trimAddresses: db.prepare(
        `DELETE FROM login_addresses WHERE user_id = @userId AND address_hash NOT IN (
           SELECT address_hash FROM login_addresses WHERE user_id = @userId
            ORDER BY last_ok_ms DESC, address_hash = @keep DESC LIMIT @max)`,
      ),
      trimKeys: db.prepare(
        `DELETE FROM device_keys WHERE user_id = @userId AND device NOT IN (
           SELECT device FROM device_keys WHERE user_id = @userId
            ORDER BY last_ok_ms DESC, device = @keep DESC LIMIT @max)`,
      ),
      expireAddresses: db.prepare('DELETE FROM login_addresses WHERE last_ok_ms < ?'),
      expireKeys: db.prepare('DELETE FROM device_keys WHERE last_ok_ms < ?'),
      knownAddress: db.prepare(
        `SELECT 1 FROM login_addresses
          WHERE user_id = ? AND address_hash = ? AND last_ok_ms >= ?`,
      ),
      knownDevice: db.prepare(
        `SELECT 1 FROM device_keys
          WHERE user_id = ? AND device = ? AND key_hash = ? AND last_ok_ms >= ?`,
      ),
      forgetKey: db.prepare('DELETE FROM device_keys WHERE user_id = ? AND device = ?'),
      forgetOtherKeys: db.prepare('DELETE FROM device_keys WHERE user_id = ? AND device <> ?'),
      forgetKeys: db.prepare('DELETE FROM device_keys WHERE user_id = ?'),
      forgetAddresses: db.prepare('DELETE FROM login_addresses WHERE user_id = ?'),
    };
  }

  rememberLogin(login: LoginRecord, bounds: LoginSourceBounds): Promise<void> {
    const { userId, device, deviceKeyHash, addressHash, nowMs } = login;
    return settle(() =>
      this.db
        .transaction(() => {
          this.q.putKey!.run(userId, device, deviceKeyHash, nowMs);
          this.q.trimKeys!.run({ userId, keep: device, max: bounds.devicesMax });
          if (addressHash !== null) {
            this.q.putAddress!.run(userId, addressHash, nowMs);
            this.q.trimAddresses!.run({ userId, keep: addressHash, max: bounds.addressesMax });
          }
          this.q.expireAddresses!.run(bounds.forgetBeforeMs);
          this.q.expireKeys!.run(bounds.forgetBeforeMs);
        })
        .immediate(),
    );
  }

  isKnownAddress(userId: string, addressHash: string, sinceMs: number): Promise<boolean> {
    return settle(() => this.q.knownAddress!.get(userId, addressHash, sinceMs) !== undefined);
  }

  isKnownDevice(
    userId: string,
    device: string,
    deviceKeyHash: string,
    sinceMs: number,
  ): Promise<boolean> {
    return settle(
      () => this.q.knownDevice!.get(userId, device, deviceKeyHash, sinceMs) !== undefined,
    );
  }

  forgetDeviceKeys(userId: string, which: { device: string } | { allBut: string }): Promise<void> {
    return settle(() => {
      if ('device' in which) this.q.forgetKey!.run(userId, which.device);
      else this.q.forgetOtherKeys!.run(userId, which.allBut);
    });
  }

  forgetLoginSources(userId: string): Promise<void> {
    return settle(() =>
      this.db.transaction(() => {
        this.q.forgetKeys!.run(userId);
        this.q.forgetAddresses!.run(userId);
      })(),
    );
  }
}
