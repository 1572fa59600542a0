import { ParleyError } from '../core/errors.js';
import { TokenBucket } from '../core/token-bucket.js';
import type { Limits } from '../core/limits.js';
import type { Logger } from '../core/logger.js';
import type { KickReason } from '../bus/index.js';
import type { LiveSession } from '../delivery/index.js';
import { CloseCode, type ClientFrame, type Codec, type ServerFrame } from '../protocol/index.js';
import type { Connection } from './connection.js';
import type { HotMetrics } from '../core/metrics.js';

export type SessionState = 'hello' | 'authenticating' | 'open' | 'closed';

/** Frames that arrive while a hello is being checked wait here, up to this many. */
export const EARLY_FRAMES_MAX = 64;

/** Per-connection state. The socket is only reached through its Connection. */
export class ClientSession implements LiveSession {
  readonly conn: Connection;
  readonly codec: Codec;
  readonly openedMs: number;
  state: SessionState = 'hello';
  userId = '';
  username = '';
  device = '';
  /** The SHA-256 of the token its hello gave: how an ended session finds its links. */
  tokenHash = '';
  lastHeardMs: number;
  pingSentMs = 0;
  metrics: HotMetrics | undefined;
  /** Frames received while the hello was being checked, replayed in order after welcome. */
  readonly early: (string | Uint8Array)[] = [];
  /** Reads (pull, sync) waiting for one of this connection's slots (Gateway.pumpReads). */
  readonly reads: ClientFrame[] = [];
  readsActive = 0;
  readsAwaitDrain = false;
  private readonly sends: TokenBucket;
  private readonly frames: TokenBucket;
  private strikes = 0;
  private readonly limits: Limits;
  private readonly baseLog: Logger;
  private readonly connId: number;
  private logger: Logger | undefined;

  constructor(conn: Connection, limits: Limits, log: Logger, connId: number, nowMs: number) {
    this.conn = conn;
    this.codec = conn.codec;
    this.limits = limits;
    this.baseLog = log;
    this.connId = connId;
    this.openedMs = nowMs;
    this.lastHeardMs = nowMs;
    this.sends = new TokenBucket(limits.sendRatePerSec, limits.sendBurstMax, nowMs);
    // Every frame counts against a looser budget, so pings or pulls cannot flood the server either.
    this.frames = new TokenBucket(limits.sendRatePerSec * 4, limits.sendBurstMax * 4, nowMs);
  }

  /**
   * Takes a rate-limit token for a frame (and a send token for sends). Returns false when the
   * frame must be refused; closes the link with 4429 after too many refusals in a row.
   */
  admit(isSend: boolean, nowMs: number): boolean {
    const ok = this.frames.take(nowMs) && (!isSend || this.sends.take(nowMs));
    if (ok) {
      this.strikes = 0;
      return true;
    }
    this.strikes += 1;
    this.metrics?.rateLimited();
    if (this.strikes >= this.limits.rateStrikesMax) {
      this.fail(
        CloseCode.rateLimited,
        new ParleyError('rate_limited', 'Too many frames; closing.'),
      );
    }
    return false;
  }

  /**
   * The connection's logger, made on its first use: most links never log, and a child logger
   * per link was a fair part of an idle connection's memory (BENCHMARKS.md, `connect`).
   */
  get log(): Logger {
    return (this.logger ??= this.baseLog.child(
      this.userId === ''
        ? { conn: this.connId, transport: this.conn.transport }
        : {
            conn: this.connId,
            transport: this.conn.transport,
            user: this.userId,
            device: this.device,
          },
    ));
  }

  /** The hello named the user and device: log lines from now on carry them. */
  identified(): void {
    this.logger = undefined;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Sends a frame to this session only; checked before it is encoded, so a full link costs none. */
  reply(frame: ServerFrame): void {
    if (!this.writable()) return;
    this.metrics?.frameOut(frame.type);
    this.conn.send(this.codec.encode(frame));
  }

  /** A frame already encoded for this codec, sent and counted as reply would. */
  replyEncoded(type: ServerFrame['type'], data: string | Uint8Array): void {
    if (!this.writable()) return;
    this.metrics?.frameOut(type);
    this.conn.send(data);
  }

  push(data: string | Uint8Array): void {
    if (this.writable()) this.conn.send(data);
  }

  /**
   * Whether a frame may be queued now. What is already queued counts, not the frame at hand: one
   * large reply (a full pull page) must get through, while a reader that never drains is cut off
   * at the next frame, its backlog dropped (4503, after a too_slow error frame).
   */
  private writable(): boolean {
    if (this.state === 'closed') return false;
    const buffered = this.conn.bufferedBytes();
    if (buffered <= this.limits.sendQueueBytesMax) return true;
    // A reader this slow would make the server hold its backlog; it reconnects and syncs instead.
    this.log.warn({ buffered }, 'send queue full; closing');
    this.metrics?.queueOverflow();
    this.state = 'closed';
    const error = new ParleyError('too_slow');
    const farewell = this.codec.encode({ type: 'error', code: error.code, message: error.message });
    this.conn.close(CloseCode.tooSlow, 'too slow', farewell);
    return false;
  }

  kick(reason: KickReason): void {
    if (reason === 'revoked') {
      this.fail(
        CloseCode.unauthenticated,
        new ParleyError('unauthenticated', 'The token was revoked.'),
      );
      return;
    }
    this.reply({ type: 'kicked', reason: 'Logged in again on this device.' });
    this.close(CloseCode.kicked, 'replaced by a newer login of this device');
  }

  /** Tells the client why (an error frame, which TCP clients need), then closes. */
  fail(code: number, error: ParleyError): void {
    if (this.state === 'closed') return;
    this.reply({ type: 'error', code: error.code, message: error.message });
    this.close(code, error.message);
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.conn.close(code, reason);
  }
}
