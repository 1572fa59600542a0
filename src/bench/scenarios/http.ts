import type autocannon from 'autocannon';
import { request } from 'node:http';
import { ProcSampler, procFigures } from '../proc-stats.js';
import type { Outcome, RunContext, Scenario } from '../scenario.js';

// `http-send` and `http-pull`: the seed API under autocannon with the bodies of the seed's wrk
// scripts (bench/wrk/*.lua). Send: chat "random1:a2", sender "a2", text "random number N" with a
// fresh N per request. Pull: chat "a1:a2", cursor 0, limit 10 as a JSON body on GET, after
// PREFILL messages were put in that chat. Each run lasts --duration-s on --connections (100).

const PREFILL = 20;
const JSON_HEADERS = { 'content-type': 'application/json' };

/** One request over node:http, which (unlike fetch) can send a body with GET. */
function call(
  url: string,
  method: 'GET' | 'POST',
  body: string,
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: { ...JSON_HEADERS, 'content-length': Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = text;
          try {
            json = JSON.parse(text);
          } catch {
            // kept as text for the failure message
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

export const sendBody = (n: number): string =>
  JSON.stringify({ chat: 'random1:a2', text: `random number ${n}`, sender: 'a2' });
export const PULL_BODY = JSON.stringify({ chat: 'a1:a2', cursor: 0, limit: 10 });

/** Puts PREFILL messages in a1:a2 (pull only), then checks one request of the run's kind. */
async function prepare(baseUrl: string, kind: 'send' | 'pull'): Promise<string | null> {
  if (kind === 'pull') {
    for (let i = 0; i < PREFILL; i++) {
      const body = JSON.stringify({
        chat: 'a1:a2',
        text: `random number ${i}`,
        sender: i % 2 === 0 ? 'a1' : 'a2',
      });
      const res = await call(`${baseUrl}/api/send`, 'POST', body);
      if (res.status !== 200)
        return `prefill send answered ${res.status}: ${JSON.stringify(res.json)}`;
    }
    const res = await call(`${baseUrl}/api/pull`, 'GET', PULL_BODY);
    const messages = (res.json as { messages?: unknown[] } | null)?.messages;
    if (res.status !== 200 || !Array.isArray(messages) || messages.length !== 10) {
      return `probe pull answered ${res.status}: ${JSON.stringify(res.json).slice(0, 300)}`;
    }
    return null;
  }
  const res = await call(`${baseUrl}/api/send`, 'POST', sendBody(0));
  return res.status === 200
    ? null
    : `probe send answered ${res.status}: ${JSON.stringify(res.json).slice(0, 300)}`;
}

/** What an install without development dependencies (npm ci --omit=dev) says to these two. */
export const AUTOCANNON_MISSING =
  'the http-send and http-pull scenarios need autocannon, a development dependency: ' +
  'run `npm install` (without --omit=dev) or `npm install --no-save autocannon`';

/** autocannon is loaded by these scenarios only, and only when they run (decision 0079). */
async function loadAutocannon(): Promise<typeof autocannon | null> {
  try {
    return (await import('autocannon')).default;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return null;
    throw err;
  }
}

function run(
  load: typeof autocannon,
  options: autocannon.Options,
  onResponse: () => void,
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = load(options, (err: unknown, result: autocannon.Result) =>
      err ? reject(err instanceof Error ? err : new Error('autocannon failed')) : resolve(result),
    );
    instance.on('response', onResponse);
  });
}

function requestOf(kind: 'send' | 'pull'): autocannon.Request {
  return kind === 'send'
    ? {
        method: 'POST',
        path: '/api/send',
        headers: JSON_HEADERS,
        setupRequest: (request) => ({
          ...request,
          body: sendBody(Math.floor(Math.random() * 1e9)),
        }),
      }
    : { method: 'GET', path: '/api/pull', headers: JSON_HEADERS, body: PULL_BODY };
}

function httpScenario(kind: 'send' | 'pull'): Scenario {
  return {
    plan: () => ({ users: 0, pairs: false, groupMembers: 0, http: true }),
    params: (o) => ({ connections: o.connections, durationS: o.durationS }),
    async run(ctx: RunContext): Promise<Outcome> {
      const { target, options, progress } = ctx;
      const load = await loadAutocannon();
      if (load === null) return { failures: [AUTOCANNON_MISSING], figures: {} };
      const setupProblem = await prepare(target.httpUrl, kind);
      if (setupProblem !== null) return { failures: [setupProblem], figures: {} };
      const sampler = new ProcSampler(target.pids);
      sampler.start();
      let responses = 0;
      progress.start(() => `${kind} responses ${responses}`);
      const result = await run(
        load,
        {
          url: target.httpUrl,
          connections: options.connections,
          duration: options.durationS,
          requests: [requestOf(kind)],
        },
        () => (responses += 1),
      );
      progress.stop();
      const proc = sampler.stop();
      const failures: string[] = [];
      if (result.errors > 0) failures.push(`${result.errors} connection error(s)`);
      if (result.non2xx > 0) failures.push(`${result.non2xx} non-2xx answer(s)`);
      if (result.requests.total === 0) failures.push('no request completed');
      return {
        failures,
        figures: {
          requestsPerSec: result.requests.total / Math.max(1e-3, result.duration),
          latencyP50Ms: result.latency.p50,
          latencyP90Ms: result.latency.p90,
          latencyP99Ms: result.latency.p99,
          latencyMaxMs: result.latency.max,
          requests: result.requests.total,
          errors: result.errors,
          non2xx: result.non2xx,
          timeouts: result.timeouts,
          ...procFigures(proc),
        },
      };
    },
  };
}

export const httpSend = httpScenario('send');
export const httpPull = httpScenario('pull');
