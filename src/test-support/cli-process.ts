// Test helpers (not loaded by the server): the real `parley` command line as a child process,
// through tsx, with a clean PARLEY_* environment. Every wait is bounded and every child is
// killed, by its own pid, if a test leaves it running.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './wait.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUN_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 30_000;

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PARLEY_')) env[k] = v;
  return { ...env, PARLEY_LOG_LEVEL: 'silent', ...extra };
}

function spawnCli(args: readonly string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `parley <args>` to its end, with `stdin` written to it. */
export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<CliResult> {
  const child = spawnCli(args, options.env ?? {});
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdin!.end(options.stdin ?? '');
  const done = new Promise<CliResult>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
  return withTimeout(done, RUN_TIMEOUT_MS, `parley ${args.join(' ')}`).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Resolves with the exit code once the process ends. */
  readonly exited: Promise<number | null>;
  /** SIGKILL unless it already ended; waits for the exit. */
  kill(): Promise<void>;
}

/** Starts `parley serve [args]` and resolves once it logs "parley listening" (port 0, 127.0.0.1). */
export async function startServeProcess(
  env: Record<string, string>,
  args: readonly string[] = [],
): Promise<ServeProcess> {
  const child = spawnCli(['serve', ...args], {
    PARLEY_PORT: '0',
    PARLEY_HOST: '127.0.0.1',
    ...env,
    PARLEY_LOG_LEVEL: 'info',
  });
  child.stdin!.end();
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { msg?: unknown; port?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return; // not a pino line; only the listening line matters
      }
      if (entry.msg === 'parley listening' && typeof entry.port === 'number') resolve(entry.port);
    });
    void exited.then(() => reject(new Error(`parley serve exited before listening:\n${stderr}`)));
  });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await withTimeout(exited, 10_000, 'parley serve exit');
  };
  try {
    const port = await withTimeout(listening, START_TIMEOUT_MS, 'parley serve start');
    return { child, url: `http://127.0.0.1:${port}`, exited, kill };
  } catch (err) {
    await kill();
    throw err;
  }
}
