// Proves that a session's rate limit, kept as plain fields, admits exactly the frames that its two
// token buckets (every frame; sends) admitted as core/token-bucket.ts objects.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { createLogger } from '../core/logger.js';
import { TokenBucket } from '../core/token-bucket.js';
import { jsonCodec } from '../protocol/index.js';
import { ClientSession } from './client-session.js';
import type { Connection } from './connection.js';

const conn: Connection = {
  transport: 'ws',
  codec: jsonCodec,
  remote: 'test',
  send: () => undefined,
  bufferedBytes: () => 0,
  close: () => undefined,
  whenDrained: (fn) => fn(),
  onBytes: () => undefined,
  onClose: () => undefined,
};

describe('ClientSession rate limit', () => {
  it('admits what a frame bucket and a send bucket would, frame by frame', () => {
    // Rates of whole and half tokens per ms, so both ways of summing refills are exact.
    const limits = { ...DEFAULT_LIMITS, sendRatePerSec: 500, sendBurstMax: 3, rateStrikesMax: 1e9 };
    let nowMs = 1_700_000_000_000;
    const session = new ClientSession(conn, limits, createLogger('silent', 't'), 1, nowMs);
    const sends = new TokenBucket(500, 3, nowMs);
    const frames = new TokenBucket(2000, 12, nowMs);
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    let admitted = 0;
    for (let i = 0; i < 5000; i++) {
      nowMs += random() < 0.8 ? 0 : Math.floor(random() * 12);
      const isSend = random() < 0.6;
      const expected = frames.take(nowMs) && (!isSend || sends.take(nowMs));
      assert.equal(session.admit(isSend, nowMs), expected, `frame ${i}`);
      if (expected) admitted += 1;
    }
    assert.ok(admitted > 1000 && admitted < 4900, `a mix of admitted and refused (${admitted})`);
  });
});
