// Proves nestsDeeperThan measures nesting as documented ({} is 1), stops at the limit, walks only
// what JSON.parse makes, and takes a 100,000-deep value without overflowing the stack.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { nestsDeeperThan } from './json-depth.js';

describe('nestsDeeperThan', () => {
  it('counts {} and [] as one level, scalars as none', () => {
    for (const scalar of [null, 1, 'x', true, undefined])
      assert.equal(nestsDeeperThan(scalar, 0), false);
    assert.equal(nestsDeeperThan({}, 1), false);
    assert.equal(nestsDeeperThan({}, 0), true);
    assert.equal(nestsDeeperThan({ a: [1, { b: [] }] }, 4), false);
    assert.equal(nestsDeeperThan({ a: [1, { b: [] }] }, 3), true);
    // The deepest branch counts, wherever it is.
    assert.equal(nestsDeeperThan([1, 2, [3, [4, [5]]], 'x'], 3), true);
  });

  it('measures what JSON.parse accepts, however deep, without recursion', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
    assert.equal(nestsDeeperThan(deep, 64), true);
    assert.equal(nestsDeeperThan(deep, 100_000), false);
  });

  it('treats bytes and other non-JSON objects as leaves', () => {
    assert.equal(nestsDeeperThan({ body: new Uint8Array(1000) }, 1), false);
    assert.equal(nestsDeeperThan(Readable.from([]), 0), false);
  });
});
