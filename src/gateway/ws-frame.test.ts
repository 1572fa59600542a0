import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Writable } from 'node:stream';
import * as ws from 'ws';
import { wsFrame } from './ws-frame.js';

// ws's frame parser, which its types do not declare (it is on the module at run time).
const { Receiver } = ws as unknown as {
  Receiver: new (options: { isServer: boolean; maxPayload: number }) => Writable;
};

/** Reads frames back with ws's own parser, the one every Node client uses. */
function parse(frames: Buffer[]): { data: Buffer; binary: boolean }[] {
  const got: { data: Buffer; binary: boolean }[] = [];
  const receiver = new Receiver({ isServer: false, maxPayload: 0 });
  receiver.on('message', (data: Buffer, binary: boolean) => got.push({ data, binary }));
  receiver.on('error', (err: Error) => assert.fail(err));
  for (const frame of frames) receiver.write(frame);
  return got;
}

// Lengths on both sides of the 7-bit, 16-bit and 64-bit length forms (RFC 6455 §5.2).
const LENGTHS = [0, 1, 125, 126, 127, 65_535, 65_536, 70_000];

describe('wsFrame', () => {
  it('frames text of every length form so that a client reads back the same string', () => {
    for (const length of LENGTHS) {
      const text = 'x'.repeat(length);
      const [got] = parse([wsFrame(text)]);
      assert.equal(got?.binary, false, `length ${length}`);
      assert.equal(got?.data.toString('utf8'), text, `length ${length}`);
    }
  });

  it('counts the length in UTF-8 bytes, not in characters', () => {
    const text = 'é'.repeat(100) + '👋'; // 200 + 4 bytes: past the 7-bit form in bytes only
    const [got] = parse([wsFrame(text)]);
    assert.equal(got?.data.toString('utf8'), text);
  });

  it('frames bytes as a binary frame', () => {
    for (const length of LENGTHS) {
      const bytes = Uint8Array.from({ length }, (_, i) => i % 251);
      const [got] = parse([wsFrame(bytes)]);
      assert.equal(got?.binary, true, `length ${length}`);
      assert.deepEqual(new Uint8Array(got.data), bytes, `length ${length}`);
    }
  });

  it('frames a push once for all its recipients, and each new frame anew', () => {
    const push = JSON.stringify({ type: 'message', seq: 1 });
    const first = wsFrame(push);
    assert.equal(wsFrame(push), first, 'the same string again: the same buffer');
    const next = wsFrame(JSON.stringify({ type: 'message', seq: 2 }));
    assert.notEqual(next, first);
    const got = parse([first, next]).map((f) => JSON.parse(f.data.toString('utf8')) as unknown);
    assert.deepEqual(got, [
      { type: 'message', seq: 1 },
      { type: 'message', seq: 2 },
    ]);
  });
});
