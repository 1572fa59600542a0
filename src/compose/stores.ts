import type { Config } from '../config/index.js';
import type { Logger } from '../core/logger.js';
import { FsBlobStore, S3BlobStore, type BlobStore } from '../attachments/index.js';
import type { AdminStore } from '../admin/store/index.js';
import type { PostgresStores } from '../storage/postgres/index.js';
import { SqliteAdminStore, openSqliteStores, type SqliteStores } from '../storage/sqlite/index.js';

// Picking backends: the one place that turns the store and blob settings into open stores. The
// server, the admin commands and the bench all open their stores here. PostgreSQL (pg) and S3
// (the AWS SDK) are loaded only when configured: an embedded node never loads either
// (docs/decisions/0078-optional-backends-load-on-demand.md).

/** Every store port on the configured backend. */
export type Stores = SqliteStores | PostgresStores;

/** Opens (and on PostgreSQL migrates) the configured store. */
export function openStores(config: Config, log: Logger): Promise<SqliteStores | PostgresStores> {
  const store = config.store;
  switch (store.kind) {
    case 'sqlite':
      return openSqliteStores({
        file: store.file,
        synchronous: store.synchronous,
        appendThread: store.appendThread,
        onCheckpointError: (message) => log.warn({ error: message }, 'WAL checkpoint failed'),
        onAppendThreadError: (message) =>
          log.error({ error: message }, 'append thread failed; appending on the event loop'),
        onSearchIndexError: (message) => log.warn({ error: message }, 'search indexing failed'),
      });
    case 'postgres':
      return openPostgres(store, log);
  }
}

type PostgresConfig = Extract<Config['store'], { kind: 'postgres' }>;

async function openPostgres(store: PostgresConfig, log: Logger): Promise<PostgresStores> {
  const { openPostgresStores } = await import('../storage/postgres/index.js');
  return openPostgresStores({
    url: store.url,
    poolMax: store.poolMax,
    onIdleError: (err) => log.warn({ err }, 'idle PostgreSQL connection failed'),
  });
}

export function openBlobStore(blobStore: Config['attachments']['blobStore']): Promise<BlobStore> {
  switch (blobStore.kind) {
    case 'fs':
      return FsBlobStore.open(blobStore.dir);
    case 's3':
      return S3BlobStore.open({
        region: blobStore.region,
        bucket: blobStore.bucket,
        forcePathStyle: blobStore.forcePathStyle,
        ...(blobStore.endpoint !== null && { endpoint: blobStore.endpoint }),
        ...(blobStore.credentials && { credentials: blobStore.credentials }),
      });
  }
}

/** The admin commands' store on the configured backend (opening it migrates, as a start does). */
export function openAdminStore(config: Config): Promise<AdminStore> {
  const store = config.store;
  switch (store.kind) {
    case 'sqlite':
      return Promise.resolve(SqliteAdminStore.open(store.file));
    case 'postgres':
      return import('../storage/postgres/index.js').then(({ PostgresAdminStore }) =>
        PostgresAdminStore.open(store.url),
      );
  }
}
