// Proves the bench's latency histogram reports percentiles within HdrHistogram's 0.1 % of the
// exact ones, the exact maximum, and nothing when nothing was recorded, including for values
// past its range (clamped, never thrown).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyHistogram } from './histogram.js';

test('percentiles within 0.1 % of the exact ones, and the exact maximum', () => {
  const h = new LatencyHistogram();
  assert.equal(h.percentiles(), null);
  for (let i = 1; i <= 10_000; i++) h.recordMs(i / 10); // 0.1 ms … 1,000 ms
  const p = h.percentiles()!;
  assert.equal(h.count, 10_000);
  for (const [got, exact] of [
    [p.p50, 500],
    [p.p90, 900],
    [p.p99, 990],
  ] as const) {
    assert.ok(Math.abs(got - exact) <= exact * 0.001, `${got} is within 0.1 % of ${exact}`);
  }
  assert.equal(p.max, 1_000);
});

test('values out of range are clamped, not thrown', () => {
  const h = new LatencyHistogram();
  h.recordMs(-5);
  h.recordMs(10 ** 9);
  assert.equal(h.count, 2);
  assert.equal(h.percentiles()!.p50, 0);
  assert.ok(h.percentiles()!.max > 2_000_000);
});
