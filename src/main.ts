import { parseArgs } from 'node:util';
import {
  ConfigError,
  describeSettings,
  loadConfig,
  SETTINGS,
  type Config,
} from './config/index.js';
import { startParley } from './compose/index.js';

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
  const server = await startParley(config);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await server.close();
  return 0;
}
