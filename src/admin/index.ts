// Operating a node from the command line: parley user, stats, migrate and backup. The AdminStore
// port the storage backends implement for it has its own face (store/index.ts), so that storage
// does not import the commands.
export { runAdminCli } from './cli.js';
export type { AdminStore, AppliedMigration, StoreStats, UserChange } from './store/index.js';
