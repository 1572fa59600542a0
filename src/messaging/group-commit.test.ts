// Proves group commit stores a turn's sends in one batch, in submission order, and that one send
// that makes the store throw fails alone instead of taking its batch down with it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParleyError } from '../core/errors.js';
import { GroupCommitter } from './group-commit.js';
import type { AppendRequest, AppendResult, MessageStore } from './message-store.js';

/** A store whose append records each batch and throws for any batch holding a "poison" ref. */
function recordingStore(batches: string[][]): MessageStore {
  let seq = 0;
  const append = (batch: readonly AppendRequest[]): Promise<AppendResult[]> => {
    batches.push(batch.map((r) => r.ref));
    if (batch.some((r) => r.ref === 'poison')) return Promise.reject(new Error('store refused'));
    return Promise.resolve(
      batch.map((r) => ({
        ok: true as const,
        duplicate: false,
        message: {
          id: `m${++seq}`,
          conversationId: r.conversationId,
          seq,
          senderId: r.senderId,
          device: r.device,
          body: r.body,
          atUs: seq,
          recalledAtUs: null,
        },
      })),
    );
  };
  return { append } as unknown as MessageStore;
}

const request = (ref: string): AppendRequest => ({
  conversationId: 'c1',
  senderId: 'u1',
  device: 'd1',
  ref,
  body: { kind: 'text', text: ref },
});

describe('GroupCommitter', () => {
  it('commits the sends of one turn as one batch, in submission order', async () => {
    const batches: string[][] = [];
    const committer = new GroupCommitter(recordingStore(batches), 100);
    const results = await Promise.all(['a', 'b', 'c'].map((r) => committer.submit(request(r))));
    assert.deepEqual(batches, [['a', 'b', 'c']]);
    assert.deepEqual(
      results.map((r) => (r.ok ? r.message.seq : -1)),
      [1, 2, 3],
    );
  });

  it('fails only the send that breaks the store; its neighbours are committed', async () => {
    const batches: string[][] = [];
    const committer = new GroupCommitter(recordingStore(batches), 100);
    const outcomes = await Promise.allSettled(
      ['a', 'poison', 'c'].map((r) => committer.submit(request(r))),
    );
    assert.equal(outcomes[0]?.status, 'fulfilled');
    assert.equal(outcomes[1]?.status, 'rejected');
    assert.equal(outcomes[2]?.status, 'fulfilled');
    assert.deepEqual(batches[0], ['a', 'poison', 'c']);
    assert.deepEqual(batches.slice(1), [['a'], ['poison'], ['c']], 'then one by one');
  });

  it('resolves vetoed sends with their error and stores only the others', async () => {
    const batches: string[][] = [];
    const committer = new GroupCommitter(recordingStore(batches), 100);
    committer.setVetter((requests) =>
      Promise.resolve(requests.map((r) => (r.ref === 'no' ? new ParleyError('blocked') : null))),
    );
    const [yes, no] = await Promise.all([
      committer.submit(request('yes')),
      committer.submit(request('no')),
    ]);
    assert.equal(yes?.ok, true);
    assert.equal(no?.ok === false && no.error.code, 'blocked');
    assert.deepEqual(batches, [['yes']]);
  });
});
