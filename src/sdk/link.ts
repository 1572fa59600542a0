// The socket layer: one WebSocket link to `/ws` with a codec, reduced to "send a frame", "frames
// arrive", "it closed (code)". The browser's WebSocket and the `ws` package both fit
// WebSocketLike. Nothing here knows about the protocol's rules; client.ts does.
import type { Codec } from '../protocol/index.js';
import type { ClientFrame } from '../protocol/index.js';
import { jsonCodec } from '../protocol/index.js';
import type { CodecName, InboundFrame, WebSocketConstructor, WebSocketLike } from './types.js';

export interface LinkHandlers {
  onFrame(frame: InboundFrame): void;
  /** Called once, when the link ends for any reason other than `Link.close`. */
  onClose(code: number, reason: string): void;
}

export interface Link {
  send(frame: ClientFrame): void;
  /** Ends the link from this side; `onClose` is not called for it. */
  close(code?: number): void;
}

/** Close code the SDK reports when the socket failed without a close frame (as browsers do). */
export const ABNORMAL_CLOSE = 1006;

/** `http://host:8080/base` → `ws://host:8080/base/ws`. */
export function socketUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  url.protocol =
    url.protocol === 'https:' ? 'wss:' : url.protocol === 'http:' ? 'ws:' : url.protocol;
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws`;
  url.search = '';
  url.hash = '';
  return url.toString();
}

/**
 * Opens the socket and resolves once it is open (or rejects with the close code's error when it
 * fails first). Decoding errors of single frames are reported as frames of type `undecodable`,
 * so that the client can count them; they never throw into the socket's callbacks.
 */
export function openLink(
  url: string,
  codec: Codec,
  WebSocketImpl: WebSocketConstructor,
  handlers: LinkHandlers,
): Promise<Link> {
  return new Promise((resolve, reject) => {
    let ws: WebSocketLike;
    try {
      ws = new WebSocketImpl(url, [codec.name]);
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    ws.binaryType = 'arraybuffer';
    let open = false;
    let ended = false;
    const end = (code: number, reason: string) => {
      if (ended) return;
      ended = true;
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      if (open) handlers.onClose(code, reason);
      else reject(new LinkError(code, reason));
    };
    ws.onopen = () => {
      if (ws.protocol !== codec.name) {
        // The server picked another codec (or none): talking past each other would be worse.
        ws.close(1000);
        end(ABNORMAL_CLOSE, `the server chose subprotocol "${ws.protocol}"`);
        return;
      }
      open = true;
      resolve({
        send: (frame) => ws.send(codec.encode(frame)),
        close: (code = 1000) => {
          ended = true;
          ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
          ws.close(code);
        },
      });
    };
    ws.onmessage = (event) => {
      if (ended) return;
      handlers.onFrame(decode(codec, event.data));
    };
    ws.onclose = (event) => end(event.code, event.reason);
    ws.onerror = () => {
      // Browsers follow an error with a close event; `ws` does too. Waiting for it keeps the code.
    };
  });
}

function decode(codec: Codec, data: unknown): InboundFrame {
  try {
    if (typeof data === 'string') return codec.decode(data);
    if (data instanceof ArrayBuffer) return codec.decode(new Uint8Array(data));
    if (ArrayBuffer.isView(data)) {
      return codec.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    return { type: 'undecodable', reason: 'unexpected data type' };
  } catch (err) {
    return { type: 'undecodable', reason: err instanceof Error ? err.message : String(err) };
  }
}

export class LinkError extends Error {
  readonly code: number;
  constructor(code: number, reason: string) {
    super(`link closed before it opened (${code}${reason ? `: ${reason}` : ''})`);
    this.name = 'LinkError';
    this.code = code;
  }
}

/** The codec for a name: JSON is built in; Protobuf is loaded on first use (Node reads the schema). */
export async function loadCodec(name: CodecName, protoSchema?: string): Promise<Codec> {
  if (name === 'json') return jsonCodec;
  const schema = protoSchema ?? (await readProtoSchema());
  const { createProtoCodec } = await import('../protocol/proto/index.js');
  return createProtoCodec(schema);
}

// Module names in variables, so that bundlers do not try to pull Node modules into a browser
// build; these paths run only in Node.
const NODE_FS = 'node:fs/promises';
const WS_PACKAGE = 'ws';

async function readProtoSchema(): Promise<string> {
  const fs = (await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_FS)) as {
    readFile(path: URL, encoding: 'utf8'): Promise<string>;
  };
  // src/sdk and dist/sdk both sit two levels below the package root, where proto/ is.
  return fs.readFile(new URL('../../proto/parley.proto', import.meta.url), 'utf8');
}

/** The global WebSocket (browsers, Node ≥ 22), else the `ws` package (Node 20). */
export async function defaultWebSocket(): Promise<WebSocketConstructor> {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global) return global;
  const ws = (await import(/* @vite-ignore */ /* webpackIgnore: true */ WS_PACKAGE)) as {
    default: WebSocketConstructor;
  };
  return ws.default;
}
