// Test helpers: a real Parley server on a free port with its own SQLite file, and a tiny HTTP
// client that, unlike fetch, can send a body with GET (as the seed API's curl commands do).
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import { startParley, type RunningParley } from '../main.js';

export interface TestServer extends RunningParley {
  readonly dataDir: string;
}

/** Starts Parley in-process on 127.0.0.1:0 with a fresh data dir; env-style overrides apply. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  const config = loadConfig({
    PARLEY_HOST: '127.0.0.1',
    PARLEY_PORT: '0',
    PARLEY_DATA_DIR: dataDir,
    PARLEY_LOG_LEVEL: 'silent',
    ...env,
  });
  const server = await startParley(config);
  return {
    ...server,
    dataDir,
    close: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface HttpResult<T = unknown> {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  readonly json: T;
}

export interface HttpOptions {
  /** Serialized as JSON unless it is already a string or Buffer. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly token?: string;
}

/** One HTTP request over a real socket. Never throws on a status; rejects on network errors. */
export function http<T = any>(
  method: string,
  url: string,
  options: HttpOptions = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let payload: Buffer | undefined;
  if (options.body !== undefined) {
    payload =
      typeof options.body === 'string'
        ? Buffer.from(options.body)
        : Buffer.isBuffer(options.body)
          ? options.body
          : Buffer.from(JSON.stringify(options.body));
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(payload.length);
  }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: json as T });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Registers a user and returns its token and id. */
export async function register(
  baseUrl: string,
  username: string,
  password = 'correct horse battery',
  device?: string,
): Promise<{ token: string; userId: string; device: string }> {
  const res = await http<{ token: string; user: { id: string }; device: string }>(
    'POST',
    `${baseUrl}/v1/auth/register`,
    { body: { username, password, ...(device ? { device } : {}) } },
  );
  if (res.status !== 201) throw new Error(`register ${username}: ${res.status} ${res.text}`);
  return { token: res.json.token, userId: res.json.user.id, device: res.json.device };
}
