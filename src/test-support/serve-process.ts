// `parley serve` as a real child process, for the tests that SIGKILL it and start it again on the
// same data directory. Every process and directory made here is tracked, so that one `after`
// (cleanupServeProcesses) kills what is left running and removes the directories.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './wait.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const START_TIMEOUT_MS = 30_000;
export const EXIT_TIMEOUT_MS = 10_000;

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  readonly exited: Promise<void>;
}

/** Every child still running, with a promise of its exit. */
const children = new Map<ChildProcess, Promise<void>>();
const dirs = new Set<string>();

/**
 * Starts `parley serve` on `dataDir` (any free port unless `env` sets PARLEY_PORT; no PARLEY_*
 * variable of this process leaks in) and resolves once it logs "parley listening".
 */
export async function startServeProcess(
  dataDir: string,
  extraEnv: Record<string, string> = {},
): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PARLEY_')) env[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: REPO_ROOT,
    env: {
      ...env,
      PARLEY_PORT: '0',
      PARLEY_HOST: '127.0.0.1',
      PARLEY_DATA_DIR: dataDir,
      PARLEY_LOG_LEVEL: 'info',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  children.set(child, exited);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry: { msg?: unknown; port?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return; // Only pino lines are expected; the listening line is what matters.
      }
      if (entry.msg === 'parley listening' && typeof entry.port === 'number') resolve(entry.port);
    });
    void exited.then(() => reject(new Error(`server exited before listening:\n${stderr}`)));
  });
  try {
    const port = await withTimeout(listening, START_TIMEOUT_MS, 'server start');
    return { child, port, url: `http://127.0.0.1:${port}`, exited };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

/** SIGKILLs the server (unless it has exited) and waits for its exit. */
export async function killServeProcess(server: ServerProcess): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGKILL');
  }
  await withTimeout(server.exited, EXIT_TIMEOUT_MS, 'server exit');
}

/** A new temporary directory, removed by cleanupServeProcesses. */
export function freshDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** Kills every server process still running and removes every freshDir; for `after`. */
export async function cleanupServeProcesses(): Promise<void> {
  for (const [child, exited] of children) {
    child.kill('SIGKILL');
    await withTimeout(exited, EXIT_TIMEOUT_MS, 'server exit in cleanup');
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
