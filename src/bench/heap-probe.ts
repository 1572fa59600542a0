import WebSocket, { type RawData } from 'ws';

// A server child's JS heap in use after a full garbage collection, read through its V8 inspector
// (the child runs with INSPECT_ARG). RSS also counts garbage not yet collected and free pages the
// heap keeps, so it moves by ±1 KiB per connection from run to run (BENCHMARKS.md, issue 19); this
// figure counts only what is live, and leaves out memory outside the heap (sockets' native parts).

/** The inspector on a free port of the loopback; the child prints its URL on stderr. */
export const INSPECT_ARG = '--inspect=127.0.0.1:0';
const PROBE_TIMEOUT_MS = 20_000;

/** The inspector's WebSocket URL in what a child wrote to stderr, if it is there. */
export function inspectorUrlIn(stderr: string): string | null {
  return /Debugger listening on (ws:\/\/\S+)\r?\n/.exec(stderr)?.[1] ?? null;
}

interface Reply {
  readonly id: number;
  readonly result?: { readonly result?: { readonly value?: unknown } };
}

/** heapUsed after two full collections; null without an inspector, or if it does not answer. */
export async function heapUsedAfterGc(inspectorUrl: string | null): Promise<number | null> {
  if (inspectorUrl === null) return null;
  const ws = new WebSocket(inspectorUrl, { perMessageDeflate: false });
  const waiting = new Map<number, (reply: Reply) => void>();
  ws.on('message', (raw: RawData) => {
    const reply = JSON.parse((raw as Buffer).toString()) as Reply;
    waiting.get(reply.id)?.(reply);
  });
  let nextId = 1;
  const call = (method: string, params: object = {}) =>
    new Promise<Reply>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  const probe = async (): Promise<number | null> => {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    // Twice: objects kept only by finalizers or weak callbacks go in the second.
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const reply = await call('Runtime.evaluate', {
      expression: 'process.memoryUsage().heapUsed',
      returnByValue: true,
    });
    const value = reply.result?.result?.value;
    return typeof value === 'number' ? value : null;
  };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>(
    (resolve) => (timer = setTimeout(resolve, PROBE_TIMEOUT_MS, null)),
  );
  try {
    return await Promise.race([probe().catch(() => null), late]);
  } finally {
    clearTimeout(timer);
    ws.terminate();
  }
}
