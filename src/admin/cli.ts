import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { ConfigError, loadConfig, SETTINGS, type Config } from '../config/index.js';
import { isParleyError } from '../core/errors.js';
import { checkPassword, normalizeUsername } from '../core/names.js';
import { hashPassword } from '../auth/index.js';
import { RedisBus } from '../bus/index.js';
import type { AdminStore, UserChange } from './store/index.js';
import { openAdminStore } from '../compose/index.js';
import { BackupError, backupEmbedded } from './backup.js';
import { missingDatabase } from './store-check.js';

// The operator's commands (docs/operations.md): accounts, counts, migrations and backups, run against the
// store the server is configured with (the same PARLEY_* variables and flags as `serve`).
//
// Passwords are read from standard input (the first line), so that they appear neither in the
// process list nor in shell history; `--password` exists for scripts that accept that, and says
// so on stderr every time.

export const ADMIN_USAGE = `Usage:
  parley user add <username>              create an account (password from stdin)
  parley user reset-password <username>   set a new password (stdin); revokes its tokens
  parley user disable <username>          refuse its logins and revoke its tokens
  parley user enable <username>           allow its logins again
  parley stats [--json]                   counts from the store
  parley migrate                          apply pending schema migrations
  parley backup <dir>                     copy a running embedded server's data (SQLite and
                                          attachment files) into a new or empty directory

Password flags of "user add" and "user reset-password":
  --password-stdin   read the password from the first line of stdin (the default)
  --password <pw>    take it from the command line (visible to other local users; warns)

The store is the one "parley serve" would use: PARLEY_DATABASE_URL (PostgreSQL) or
PARLEY_DATA_DIR (SQLite), as variables or as --database-url / --data-dir. Only "migrate"
creates a database; the others refuse a store that holds none. In a cluster
(PARLEY_REDIS_URL), disabling or resetting also closes the account's live connections.
`;

export interface AdminIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
}

const processIo: AdminIo = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
};

/** Reads the first line of stdin (without its line break); bounded, like every input. */
async function readPasswordLine(stdin: NodeJS.ReadableStream): Promise<string> {
  const lines = createInterface({ input: stdin, crlfDelay: Infinity, terminal: false });
  try {
    for await (const line of lines) return line;
    return '';
  } finally {
    lines.close();
  }
}

/**
 * Closes the live connections whose sessions were just deleted, on every node of a cluster:
 * one `kick` per device over the bus (the same message a logout sends). A single node without
 * Redis has no way in from outside; its connections last until they reconnect.
 */
async function kickEverywhere(config: Config, change: UserChange): Promise<boolean> {
  // A Redis Cluster needs the cluster-aware connection compose/cluster.ts builds; not worth it for a kick.
  if (!config.redis || config.redis.cluster || change.revokedDevices.length === 0) return false;
  const bus = new RedisBus({ redis: config.redis.url, connectWaitMs: 5_000 });
  try {
    await bus.subscribe(`admin-${process.pid}`, () => undefined);
    for (const device of change.revokedDevices) {
      bus.broadcast({ kind: 'kick', user: change.user.id, device, reason: 'revoked' });
    }
    // PUBLISH is fire and forget; give it a moment to leave before the connection closes.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return true;
  } finally {
    await bus.close();
  }
}

/** Runs an admin command; returns the exit code. `argv` starts with the command name. */
export async function runAdminCli(
  argv: readonly string[],
  io: AdminIo = processIo,
): Promise<number> {
  const settingFlags = Object.fromEntries(
    Object.values(SETTINGS).map((s) => [s.name, { type: 'string' as const }]),
  );
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        ...settingFlags,
        password: { type: 'string' },
        'password-stdin': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
  } catch (err) {
    io.stderr.write(`parley: ${(err as Error).message}\n\n${ADMIN_USAGE}`);
    return 2;
  }
  const { password, 'password-stdin': passwordStdin, json, help, ...flags } = parsed.values;
  const [command, sub, name, ...extra] = parsed.positionals;
  if (help) {
    io.stdout.write(ADMIN_USAGE);
    return 0;
  }
  const usage = (problem: string) => {
    io.stderr.write(`parley: ${problem}\n\n${ADMIN_USAGE}`);
    return 2;
  };
  if (command === 'user') {
    if (!sub || !['add', 'reset-password', 'disable', 'enable'].includes(sub)) {
      return usage('user needs add, reset-password, disable or enable');
    }
    if (!name || extra.length > 0) return usage(`user ${sub} needs exactly one username`);
  } else if (command === 'stats' || command === 'migrate') {
    if (sub !== undefined) return usage(`${command} takes no arguments`);
  } else if (command === 'backup') {
    if (!sub || name !== undefined) return usage('backup needs exactly one target directory');
  } else {
    return usage(`unknown command "${String(command)}"`);
  }

  let config: Config;
  try {
    config = loadConfig(io.env, flags);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`parley: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  if (command === 'backup') return backup(io, config, sub!);
  // Every command but migrate works on an existing database only; opening one would create it.
  if (command !== 'migrate' && (await refuseMissing(io, config))) return 1;

  let store: AdminStore | null = null;
  try {
    const startedMs = Date.now();
    store = await openAdminStore(config);
    switch (command) {
      case 'migrate': {
        const all = await store.migrations();
        const now = all.filter((m) => m.appliedAtMs >= startedMs);
        for (const m of now) io.stdout.write(`applied ${m.version} ${m.name}\n`);
        const last = all.at(-1);
        io.stdout.write(
          `schema at version ${last?.version ?? 0}${now.length === 0 ? ' (nothing to apply)' : ''}\n`,
        );
        return 0;
      }
      case 'stats': {
        const stats = await store.stats();
        if (json) {
          io.stdout.write(JSON.stringify(stats) + '\n');
        } else {
          const c = stats.conversations;
          io.stdout.write(
            [
              `users          ${stats.users} (${stats.disabledUsers} disabled, ${stats.deletedUsers} of them deleted)`,
              `sessions       ${stats.sessions}`,
              `conversations  ${c.direct + c.group + c.room} (${c.direct} direct, ${c.group} group, ${c.room} room)`,
              `messages       ${stats.messages}`,
              `attachments    ${stats.attachments} (${stats.attachmentBytes} bytes)`,
              `pushers        ${stats.pushers}`,
            ].join('\n') + '\n',
          );
        }
        return 0;
      }
    }
    const username = normalizeUsername(name);
    if (sub === 'add' || sub === 'reset-password') {
      if (password !== undefined && passwordStdin) {
        return usage('give --password or --password-stdin, not both');
      }
      if (password !== undefined) {
        io.stderr.write(
          'parley: warning: --password is visible to other local users and kept in shell history; prefer stdin\n',
        );
      }
      const secret = checkPassword(password ?? (await readPasswordLine(io.stdin)));
      const hash = await hashPassword(secret);
      if (sub === 'add') {
        const user = await store.addUser(username, hash);
        io.stdout.write(`added ${user.username} (${user.id})\n`);
        return 0;
      }
      return await report(
        io,
        config,
        await store.setPassword(username, hash),
        'password reset',
        username,
      );
    }
    if (sub === 'disable') {
      return await report(io, config, await store.disable(username), 'disabled', username);
    }
    return await report(io, config, await store.enable(username), 'enabled', username);
  } catch (err) {
    if (isParleyError(err)) {
      io.stderr.write(`parley: ${err.code}: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await store?.close();
  }
}

/** `parley backup <dir>`: the embedded store only; PostgreSQL has its own tools. */
async function backup(io: AdminIo, config: Config, target: string): Promise<number> {
  if (config.store.kind !== 'sqlite') {
    io.stderr.write(
      'parley: backup copies the embedded (SQLite) store; back PostgreSQL up with pg_dump or its own tools\n',
    );
    return 2;
  }
  if (await refuseMissing(io, config)) return 1;
  const blobs = config.attachments.blobStore;
  try {
    const done = await backupEmbedded({
      file: config.store.file,
      blobDir: blobs.kind === 'fs' ? blobs.dir : null,
      target,
    });
    io.stdout.write(
      `backed up ${done.file} (${done.bytes} bytes: ${done.users} users, ${done.messages} messages)\n` +
        (done.blobFiles === null
          ? 'attachments are in S3: back the bucket up with its own tools\n'
          : `copied ${done.blobFiles} attachment files\n`),
    );
    return 0;
  } catch (err) {
    if (err instanceof BackupError) {
      io.stderr.write(`parley: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** Says why, and answers true, when the configured store holds no Parley database. */
async function refuseMissing(io: AdminIo, config: Config): Promise<boolean> {
  const missing = await missingDatabase(config);
  if (missing !== null) io.stderr.write(`parley: ${missing}\n`);
  return missing !== null;
}

async function report(
  io: AdminIo,
  config: Config,
  change: UserChange | null,
  what: string,
  username: string,
): Promise<number> {
  if (!change) {
    io.stderr.write(`parley: user_not_found: No user named "${username}".\n`);
    return 1;
  }
  const n = change.revokedDevices.length;
  io.stdout.write(`${what}: ${change.user.username}; ${n} session${n === 1 ? '' : 's'} revoked\n`);
  if (await kickEverywhere(config, change)) {
    io.stdout.write('live connections closed on every node\n');
  }
  return 0;
}
