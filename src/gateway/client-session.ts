import { ParleyError } from '../core/errors.js';
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
  // Two token buckets, as plain fields refilled together (every frame: 4 × the send rate and
  // burst; sends: the send rate and burst): as two TokenBucket objects they cost an idle link
  // about 100 B more (BENCHMARKS.md, issue 19).
  private frameTokens: number;
  private sendTokens: number;
  private tokensMs: number;
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
    // Every frame counts against a looser budget, so pings or pulls cannot flood the server either.
    this.frameTokens = limits.sendBurstMax * 4;
    this.sendTokens = limits.sendBurstMax;
    this.tokensMs = nowMs;
  }

  /**
   * Takes a rate-limit token for a frame (and a send token for sends). Returns false when the
   * frame must be refused; closes the link with 4429 after too many refusals in a row.
   */
  admit(isSend: boolean, nowMs: number): boolean {
    if (this.takeTokens(isSend, nowMs)) {
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
   * Refills both buckets for the time since the last frame (as core/token-bucket.ts does), then
   * takes a frame token and, for a send, a send token: a send refused for want of a send token
   * still spends its frame token, and one refused for want of a frame token spends nothing.
   */
  private takeTokens(isSend: boolean, nowMs: number): boolean {
    const { sendRatePerSec, sendBurstMax } = this.limits;
    const elapsedMs = Math.max(0, nowMs - this.tokensMs);
    this.tokensMs = nowMs;
    const sendTokensNew = (elapsedMs * sendRatePerSec) / 1000;
    this.frameTokens = Math.min(sendBurstMax * 4, this.frameTokens + sendTokensNew * 4);
    this.sendTokens = Math.min(sendBurstMax, this.sendTokens + sendTokensNew);
    if (this.frameTokens < 1) return false;
    this.frameTokens -= 1;
    if (!isSend) return true;
    if (this.sendTokens < 1) return false;
    this.sendTokens -= 1;
    return true;
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
