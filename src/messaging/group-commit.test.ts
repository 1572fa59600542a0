// Proves group commit stores a turn's sends in one batch, in submission order, and that one send
// that makes the store throw fails alone instead of taking its batch down with it; and, with a
// pipeline of 2, that the next batch is handed over while the previous one is written, results
// come back in batch order, and a failed batch is retried before anything later is committed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParleyError } from '../core/errors.js';
import { GroupCommitter } from './group-commit.js';
import type { AppendRequest, AppendResult, MessageLog } from './store/index.js';

/** The result of storing a request as message `seq` (the stand-in stores below number them). */
const stored = (r: AppendRequest, seq: number): AppendResult => ({
  ok: true,
  duplicate: false,
  message: {
    id: `m${seq}`,
    conversationId: r.conversationId,
    seq,
    senderId: r.senderId,
    device: r.device,
    body: r.body,
    atUs: seq,
    recalledAtUs: null,
  },
});

/** A store whose append records each batch and throws for any batch holding a "poison" ref. */
function recordingStore(batches: string[][]): MessageLog {
  let seq = 0;
  const append = (batch: readonly AppendRequest[]): Promise<AppendResult[]> => {
    batches.push(batch.map((r) => r.ref));
    if (batch.some((r) => r.ref === 'poison')) return Promise.reject(new Error('store refused'));
    return Promise.resolve(batch.map((r) => stored(r, ++seq)));
  };
  return { append } as unknown as MessageLog;
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

  /**
   * An in-order store whose commits the test releases one at a time, like the append thread: a
   * batch handed while an earlier one is pending waits for it. A batch with a "poison" ref fails,
   * and so does every batch handed before the failure was answered (as when the thread dies).
   */
  function gatedStore() {
    const handed: string[][] = [];
    const committed: string[] = [];
    const waiting: { refs: string[]; finish: () => void }[] = [];
    /** Batches handed before a failure was answered (index below this) fail with it. */
    let failUpTo = 0;
    let seq = 0;
    const append = (batch: readonly AppendRequest[]): Promise<AppendResult[]> => {
      const refs = batch.map((r) => r.ref);
      const index = handed.push(refs) - 1;
      return new Promise((resolve, reject) => {
        waiting.push({
          refs,
          finish: () => {
            if (refs.includes('poison')) failUpTo = handed.length;
            if (refs.includes('poison') || index < failUpTo) {
              return reject(new Error('store failed'));
            }
            resolve(
              batch.map((r) => {
                committed.push(r.ref);
                return stored(r, ++seq);
              }),
            );
          },
        });
      });
    };
    /** Lets the oldest pending batch finish. */
    const release = async () => {
      await waitUntil(() => waiting.length > 0);
      waiting.shift()!.finish();
    };
    return { store: { append } as unknown as MessageLog, handed, committed, release, waiting };
  }

  async function waitUntil(ok: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setImmediate(r));
    assert.ok(ok(), 'condition not reached within 200 turns');
  }

  const turn = () => new Promise((r) => setImmediate(r));

  it('with pipeline 2, hands the next batch over while the previous one is written', async () => {
    const g = gatedStore();
    const committer = new GroupCommitter(g.store, 100, undefined, {
      pipeline: 2,
      pipelinedBatchMin: 1,
    });
    const first = [committer.submit(request('a')), committer.submit(request('b'))];
    await waitUntil(() => g.handed.length === 1);
    const second = committer.submit(request('c'));
    await waitUntil(() => g.handed.length === 2);
    assert.deepEqual(g.handed, [['a', 'b'], ['c']], 'c was handed before a and b were committed');
    const third = committer.submit(request('d'));
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(g.handed.length, 2, 'no third batch while two are in flight');
    await g.release();
    await g.release();
    await g.release();
    const results = await Promise.all([...first, second, third]);
    assert.deepEqual(
      results.map((r) => (r.ok ? r.message.seq : -1)),
      [1, 2, 3, 4],
    );
  });

  it('with the default pipeline of 1, waits for each commit before handing the next batch', async () => {
    const g = gatedStore();
    const committer = new GroupCommitter(g.store, 100);
    const first = committer.submit(request('a'));
    await waitUntil(() => g.handed.length === 1);
    const second = committer.submit(request('b'));
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(g.handed.length, 1);
    await g.release();
    await g.release();
    assert.deepEqual(
      (await Promise.all([first, second])).map((r) => (r.ok ? r.message.seq : -1)),
      [1, 2],
    );
  });

  it('with pipeline 2, retries a failed batch one by one before anything later commits', async () => {
    const g = gatedStore();
    const committer = new GroupCommitter(g.store, 100, undefined, {
      pipeline: 2,
      pipelinedBatchMin: 1,
    });
    const outcomes = [committer.submit(request('a')), committer.submit(request('poison'))].map(
      (p) => p.then((r) => (r.ok ? r.message.seq : -1)),
    );
    await waitUntil(() => g.handed.length === 1);
    const later = committer.submit(request('c')).then((r) => (r.ok ? r.message.seq : -1));
    const all = Promise.allSettled([...outcomes, later]);
    await waitUntil(() => g.handed.length === 2);
    // The first batch fails; the second, handed meanwhile, fails with it (the store died).
    await g.release();
    await g.release();
    // Then: a, poison, c, each alone and in order.
    for (let i = 0; i < 3; i++) await g.release();
    const settled = await all;
    assert.deepEqual(g.handed, [['a', 'poison'], ['c'], ['a'], ['poison'], ['c']]);
    assert.deepEqual(g.committed, ['a', 'c'], 'c is committed after a, never before');
    assert.equal(settled[0]?.status === 'fulfilled' && settled[0].value, 1);
    assert.equal(settled[1]?.status, 'rejected');
    assert.equal(settled[2]?.status === 'fulfilled' && settled[2].value, 2);
  });

  it('with pipeline 2 and a store that fails at once, hands nothing later until the retry is done', async () => {
    const batches: string[][] = [];
    const committer = new GroupCommitter(recordingStore(batches), 100, undefined, {
      pipeline: 2,
      pipelinedBatchMin: 1,
    });
    const first = [committer.submit(request('a')), committer.submit(request('poison'))];
    const all = Promise.allSettled(first);
    await waitUntil(() => batches.length >= 1);
    const later = await committer.submit(request('c'));
    await all;
    const aAlone = batches.findIndex((b) => b.length === 1 && b[0] === 'a');
    const cAlone = batches.findIndex((b) => b.includes('c'));
    assert.ok(aAlone > 0 && cAlone > aAlone, `c after a's retry: ${JSON.stringify(batches)}`);
    const a = await first[0]!;
    assert.ok(a.ok && later.ok && later.message.seq > a.message.seq);
  });

  it('with a pipeline, hands a batch ahead of one in flight only once it has pipelinedBatchMin sends', async () => {
    const g = gatedStore();
    const committer = new GroupCommitter(g.store, 100, undefined, {
      pipeline: 2,
      pipelinedBatchMin: 3,
    });
    const sends = [committer.submit(request('a'))];
    await waitUntil(() => g.handed.length === 1);
    sends.push(committer.submit(request('b')));
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(g.handed.length, 1, 'one send waits for the batch ahead');
    sends.push(committer.submit(request('c')), committer.submit(request('d')));
    await waitUntil(() => g.handed.length === 2);
    assert.deepEqual(g.handed[1], ['b', 'c', 'd']);
    await g.release();
    await g.release();
    assert.deepEqual(
      (await Promise.all(sends)).map((r) => (r.ok ? r.message.seq : -1)),
      [1, 2, 3, 4],
    );
  });
});
