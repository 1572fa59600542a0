// Proves validateBody refuses a body nested past messageBodyDepthMax (a custom payload's levels
// counted) with invalid_request before measuring its size, and takes one at the limit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParleyError } from '../core/errors.js';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { nestedJsonText } from '../test-support/fuzz.js';
import { validateBody } from './message-body.js';

const custom = (payloadDepth: number): unknown =>
  JSON.parse(`{"kind":"custom","type":"t","payload":${nestedJsonText(payloadDepth)}}`);

describe('validateBody: nesting', () => {
  const max = DEFAULT_LIMITS.messageBodyDepthMax;
  it('takes a body at messageBodyDepthMax (the body is level 1)', () => {
    assert.deepEqual(validateBody(custom(max - 1), DEFAULT_LIMITS), custom(max - 1));
  });

  it('refuses one level more, and 100,000 levels, with invalid_request', () => {
    for (const depth of [max, 100_000]) {
      assert.throws(
        () => validateBody(custom(depth), DEFAULT_LIMITS),
        (err: unknown) =>
          err instanceof ParleyError &&
          err.code === 'invalid_request' &&
          err.message.includes(String(max)),
        String(depth),
      );
    }
  });
});
