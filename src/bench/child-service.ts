import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { inspectorUrlIn } from './heap-probe.js';

// Servers under test run as child processes, so their CPU and memory are theirs alone. Each one
// logs pino-style JSON lines on stdout; the line whose msg is `readyMsg` carries the port.
// Warnings and errors it logs afterwards are kept (a bounded number) for the report.

const FROM_SOURCE = import.meta.url.endsWith('.ts');
/** The repository root: two levels above src/bench/ and dist/bench/ alike. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KEPT_LINES_MAX = 20;
const STOP_GRACE_MS = 10_000;

/** The node arguments that run a module of this package, from source or from dist/. */
export function moduleArgs(relativeToSrc: string): string[] {
  return FROM_SOURCE
    ? ['--import', 'tsx', `${REPO_ROOT}src/${relativeToSrc}.ts`]
    : [`${REPO_ROOT}dist/${relativeToSrc}.js`];
}

export interface ChildService {
  readonly pid: number;
  readonly port: number;
  /** Warning and error lines the child logged after it was ready (at most KEPT_LINES_MAX). */
  readonly warnings: string[];
  warningCount(): number;
  /** The inspector's URL, when the child runs with INSPECT_ARG (heap-probe.ts). */
  inspectorUrl(): string | null;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function startChild(options: {
  readonly label: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly readyMsg: string;
  readonly timeoutMs: number;
}): Promise<ChildService> {
  const child = spawn(process.execPath, [...options.args], {
    cwd: REPO_ROOT,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  const stderrTail: string[] = [];
  let stderrHead = '';
  let inspector: string | null = null;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    // The inspector says where it listens first thing, before the server logs anything.
    if (inspector === null && stderrHead.length < 4096) {
      stderrHead += chunk;
      inspector = inspectorUrlIn(stderrHead);
    }
    stderrTail.push(chunk);
    if (stderrTail.length > KEPT_LINES_MAX) stderrTail.shift();
  });
  const warnings: string[] = [];
  let warningCount = 0;
  let ready = false;

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  return new Promise<ChildService>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${options.label} did not start within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      if (!ready) {
        reject(
          new Error(
            `${options.label} exited (${code}) before it was ready: ${stderrTail.join('').slice(-2000)}`,
          ),
        );
      }
    });
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      let entry: { msg?: unknown; port?: unknown; level?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return; // not a log line
      }
      if (!ready && entry.msg === options.readyMsg && typeof entry.port === 'number') {
        ready = true;
        clearTimeout(timer);
        const port = entry.port;
        resolve({
          pid: child.pid!,
          port,
          warnings,
          warningCount: () => warningCount,
          inspectorUrl: () => inspector,
          stop,
        });
        return;
      }
      if (typeof entry.level === 'number' && entry.level >= 40) {
        warningCount += 1;
        if (warnings.length < KEPT_LINES_MAX) warnings.push(line.slice(0, 500));
      }
    });
  });
}
