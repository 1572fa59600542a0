// validateClientFrame refuses over-long string fields (non-fatal bad_frame), and does not echo
// an over-long frame id back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from './codec.js';
import { validateClientFrame } from './validate.js';
import { DEFAULT_LIMITS } from '../core/limits.js';

const MAX = DEFAULT_LIMITS.frameFieldCharsMax;

function refusal(raw: Record<string, unknown>): ProtocolError {
  try {
    validateClientFrame(raw as { type: string });
  } catch (err) {
    assert.ok(err instanceof ProtocolError);
    return err;
  }
  assert.fail('the frame was accepted');
}

describe('frame string fields', () => {
  const long = 'c'.repeat(MAX + 1);
  for (const [name, raw] of [
    ['pull conversation', { type: 'pull', conversation: long }],
    ['sync cursor', { type: 'sync', cursor: long }],
    ['hello token', { type: 'hello', token: long, device: 'd' }],
    ['react emoji', { type: 'react', conversation: 'c', seq: 1, emoji: long }],
    ['ping id', { type: 'ping', id: long }],
  ] as const) {
    it(`refuses an over-long ${name}, without echoing a long id`, () => {
      const err = refusal({ ...raw, ...(raw.type === 'ping' ? {} : { id: 'x'.repeat(MAX + 5) }) });
      assert.equal(err.fatal, false);
      assert.equal(err.frameId, undefined);
      assert.match(err.message, new RegExp(`at most ${MAX} characters`));
    });
  }

  it('accepts fields at the limit and echoes a short id', () => {
    const frame = validateClientFrame({ type: 'pull', id: 'p1', conversation: 'c'.repeat(MAX) });
    assert.equal(frame.type, 'pull');
    const err = refusal({ type: 'pull', id: 'p2', conversation: 'c'.repeat(MAX + 1) });
    assert.equal(err.frameId, 'p2');
  });
});
