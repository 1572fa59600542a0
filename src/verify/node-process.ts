// One `parley serve` process of a verify run, started by the same entry point and loader as the
// running `parley verify` (so a run from the sources tests the sources), optionally inside a
// network namespace. It can be killed, paused and started again on the same settings.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(
  new URL(`../cli${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);
const START_WAIT_MS = 60_000;
const EXIT_WAIT_MS = 15_000;
/** stderr kept for the error when a start fails. */
const STDERR_TAIL_CHARS = 4_000;

// Every server process of this run, killed however the run ends.
const live = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export interface NodeOptions {
  readonly env: Record<string, string>;
  /** Where the server's output goes (appended); none when absent. */
  readonly logFile?: string;
  /** Called when the process exits without `kill` asking it to: a crash under test. */
  readonly onCrash?: (code: number | null, signal: string | null) => void;
}

export class NodeProcess {
  readonly name: string;
  private readonly host: string;
  private readonly wrap: readonly string[];
  private readonly env: Readonly<Record<string, string>>;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private paused = false;
  /** The port it listens on (fixed in a namespace of its own, else whatever it got). */
  port = 0;

  private readonly log: WriteStream | null;
  private readonly onCrash: (code: number | null, signal: string | null) => void;
  private killing = false;

  constructor(name: string, host: string, wrap: readonly string[], options: NodeOptions) {
    this.name = name;
    this.host = host;
    this.wrap = wrap;
    this.env = options.env;
    // Everything the server prints goes to one file per server, for reading after a run.
    this.log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : null;
    this.log?.on('error', () => {}); // a log that cannot be written must not end the run
    this.onCrash = options.onCrash ?? (() => {});
  }

  get running(): boolean {
    return this.child !== null;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://${this.host}:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error(`${this.name} is already running`);
    hookExit();
    const base: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PARLEY_')) base[k] = v;
    // The loader flags (tsx) carry over; a test runner's own flags must not.
    const loader = process.execArgv.filter((a) => !a.startsWith('--test'));
    const argv = [...this.wrap, process.execPath, ...loader, CLI, 'serve'];
    const child = spawn(argv[0]!, argv.slice(1), {
      env: {
        ...base,
        PARLEY_HOST: this.host,
        PARLEY_PORT: this.host === '127.0.0.1' ? String(this.port) : '8080',
        PARLEY_LOG_LEVEL: 'info',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    this.child = child;
    this.paused = false;
    this.killing = false;
    if (this.log) {
      child.stdout.pipe(this.log, { end: false });
      child.stderr.pipe(this.log, { end: false });
    }
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        live.delete(child);
        if (this.child === child) this.child = null;
        if (!this.killing) this.onCrash(code, signal);
        resolve();
      }),
    );
    try {
      this.port = await this.listening(child);
    } catch (err) {
      // The port it had before may have been taken while it was down: then any port will do.
      if (this.host !== '127.0.0.1' || this.port === 0 || this.child) throw err;
      this.port = 0;
      await this.start();
    }
  }

  /** Stops writing the log; after the last kill. */
  closeLog(): void {
    this.log?.end();
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.killing = true;
    child.kill('SIGKILL');
    await withTimeout(this.exited, EXIT_WAIT_MS, `${this.name} exit`);
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (this.paused) this.child?.kill('SIGCONT');
    this.paused = false;
  }

  /** Resolves with the port once the server logs "parley listening"; kills it otherwise. */
  private async listening(child: ChildProcess): Promise<number> {
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
    });
    const port = new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!line.includes('parley listening')) return;
        const entry = JSON.parse(line) as { port?: unknown };
        if (typeof entry.port === 'number') resolve(entry.port);
      });
      void this.exited.then(() => reject(new Error(`${this.name} exited:\n${stderr}`)));
    });
    try {
      return await withTimeout(port, START_WAIT_MS, `${this.name} start`);
    } catch (err) {
      await this.kill();
      throw err;
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
