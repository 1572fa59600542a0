import { parseArgs } from 'node:util';
import { pino } from 'pino';
import {
  ConfigError,
  describeSettings,
  loadConfig,
  SETTINGS,
  type Config,
} from './config/index.js';
import { startParley, type RunningParley } from './compose/index.js';
import { createLogger, type Logger } from './core/logger.js';

// The `parley` command: serve (through the composition root in compose/), and the bench, verify
// and admin commands, loaded on demand.

export { startParley } from './compose/index.js';
export type { RunningParley } from './compose/index.js';

const USAGE = `Usage: parley <command> [flags]

Commands:
  serve     start the server (the default)
  bench     run a load benchmark against Parley and a bare baseline (parley bench --help)
  verify    run clients against Parley under faults and check the history (parley verify --help)
  user      add, reset-password, disable or enable an account (parley user --help)
  stats     counts from the store
  migrate   apply pending schema migrations
  backup    copy a running embedded server's data into a directory (parley backup <dir>)
  help      show this help

Every flag also reads from the environment variable shown beside it; a flag wins.
${describeSettings()}
`;

/** The `parley` command line. Returns the process exit code for commands that end. */
export async function runCli(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'bench') {
    // Loaded on demand, so `serve` never loads autocannon or the bench client.
    const { runBenchCli } = await import('./bench/index.js');
    return runBenchCli(argv.slice(1));
  }
  if (argv[0] === 'verify') {
    const { runVerifyCli } = await import('./verify/index.js');
    return runVerifyCli(argv.slice(1));
  }
  if (['user', 'stats', 'migrate', 'backup'].includes(argv[0] ?? '')) {
    const { runAdminCli } = await import('./admin/index.js');
    return runAdminCli(argv);
  }
  const options = Object.fromEntries(
    Object.values(SETTINGS).map((s) => [s.name, { type: 'string' as const }]),
  );
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
  } catch (err) {
    process.stderr.write(`parley: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const command = parsed.positionals[0] ?? 'serve';
  if (parsed.values.help || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command !== 'serve') {
    process.stderr.write(`parley: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  let config: Config;
  try {
    const { help, ...flags } = parsed.values;
    void help;
    config = loadConfig(process.env, flags);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`parley: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = await serveLogger(config, process.stdout.isTTY);
  let server: RunningParley;
  try {
    server = await startParley(config, log);
  } catch (err) {
    const line = listenFailure(err, config);
    if (line === null) throw err;
    process.stderr.write(`parley: ${line}\n`);
    return 1;
  }
  if (process.stdout.isTTY) process.stdout.write(readyBanner(server));
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await server.close();
  return 0;
}

/**
 * JSON lines, which operators and tests parse, unless a person is watching: then one readable
 * line per entry (pino-pretty, loaded only then). PARLEY_LOG_FORMAT forces either.
 */
export async function serveLogger(config: Config, terminal: boolean): Promise<Logger> {
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && terminal);
  if (!pretty) {
    // On a terminal, written at once, so that the banner comes after the lines logged before it.
    const sync = terminal ? pino.destination({ dest: 1, sync: true }) : undefined;
    return createLogger(config.log.level, config.node.id, sync);
  }
  const { default: prettyStream } = await import('pino-pretty');
  // Synchronous, like the JSON destination on a terminal.
  const stream = prettyStream({
    sync: true,
    singleLine: true,
    ignore: 'node',
    translateTime: 'SYS:HH:MM:ss.l',
  });
  return createLogger(config.log.level, config.node.id, stream);
}

/** Where to go next, printed once listening when stdout is a terminal (as Vite does). */
export function readyBanner(server: RunningParley): string {
  const { config, url } = server;
  const lines: [string, string][] = [];
  if (config.role.kind === 'http') {
    lines.push(['Seed API', `${url}/api/ (forwarded to ${config.role.rpcTarget})`]);
  } else {
    lines.push(['Web client', `${url}/`]);
  }
  lines.push(['API docs', `${url}/docs`]);
  const store = config.store;
  if (config.role.kind === 'all') {
    if (store.kind === 'sqlite') lines.push(['Data', store.dataDir]);
    lines.push(['Store', storeLine(config)]);
  }
  lines.push([
    'Seed API mode',
    config.http.seedApi === 'open'
      ? 'open: no token, anyone may send as anyone (PARLEY_SEED_API)'
      : 'auth: bearer token, sender must be the caller (PARLEY_SEED_API)',
  ]);
  const width = Math.max(...lines.map(([label]) => label.length)) + 1;
  const body = lines.map(([label, value]) => `  ${(label + ':').padEnd(width)}  ${value}`);
  return `\n  Parley is ready\n\n${body.join('\n')}\n\n`;
}

function storeLine(config: Config): string {
  const store = config.store;
  const redis = config.redis ? ', with Redis (cluster)' : '';
  if (store.kind === 'sqlite') return `SQLite, ${store.file}${redis}`;
  // Host and database only: the URL may carry a password.
  const target = URL.canParse(store.url) ? new URL(store.url) : null;
  return `PostgreSQL${target ? ` at ${target.host}${target.pathname}` : ''}${redis}`;
}

/** Settings that name what a listener binds, by port. */
const PORT_SETTINGS = [
  ['PARLEY_PORT (--port)', (c: Config) => c.http.port],
  ['PARLEY_TCP_PORT (--tcp-port)', (c: Config) => c.tcp?.port],
  ['PARLEY_GRPC_PORT (--grpc-port)', (c: Config) => c.grpc?.port],
] as const;

/**
 * One line for a listener the system refused (the port taken, a privileged port, an address
 * this machine does not have), naming the setting to change; null for any other error.
 */
export function listenFailure(err: unknown, config: Config): string | null {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.syscall !== 'listen' && e?.syscall !== 'bind') return null;
  const where = `${e.address ?? config.http.host}:${e.port ?? config.http.port}`;
  const setting =
    PORT_SETTINGS.find(([, port]) => port(config) === e.port)?.[0] ?? 'PARLEY_PORT (--port)';
  switch (e.code) {
    case 'EADDRINUSE':
      return `${where} is already in use: stop what listens there, or set ${setting} to a free port`;
    case 'EACCES':
      return `no permission to listen on ${where}: set ${setting} to a port above 1023`;
    case 'EADDRNOTAVAIL':
      return `${where}: this machine has no such address: set PARLEY_HOST (--host)`;
    default:
      return null;
  }
}
