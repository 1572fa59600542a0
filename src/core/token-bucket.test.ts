// Proves the token bucket allows a burst, then exactly its rate, and never more than its size.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('allows a full burst at once, then refuses', () => {
    const bucket = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) assert.equal(bucket.take(0), true, `take ${i}`);
    assert.equal(bucket.take(0), false);
  });

  it('refills at its rate', () => {
    const bucket = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) bucket.take(0);
    assert.equal(bucket.take(50), false, 'half a token after 50 ms at 10/s');
    assert.equal(bucket.take(100), true, 'one token after 100 ms');
    assert.equal(bucket.take(100), false);
  });

  it('never holds more than its burst, however long it idles', () => {
    const bucket = new TokenBucket(10, 3, 0);
    let taken = 0;
    while (bucket.take(60_000)) taken++;
    assert.equal(taken, 3);
  });
});
