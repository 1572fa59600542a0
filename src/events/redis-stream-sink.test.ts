// Proves that RedisStreamSink, against a real redis-server, appends events to the stream in order as one `event` field of JSON, one turn's events in one command, caps the stream's length approximately, never throws while Redis is down or refuses a batch but counts (and logs) every dropped event, and appends again once Redis is back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { closeRedis, openRedis, type RedisConnection } from '../bus/redis-connection.js';
import { redisSkip, startRedis, type RunningRedis } from '../engines/index.js';
import type { ParleyEvent } from './event-sink.js';
import { RedisStreamSink } from './redis-stream-sink.js';

const WAIT_MS = 5_000;

function event(n: number): ParleyEvent {
  return {
    id: `e${n}`,
    type: 'message.stored',
    at: 1_700_000_000_000 + n,
    node: 'n1',
    data: { conversation: 'c1', seq: n, body: { kind: 'text', text: `t${n}` } },
  };
}

async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('RedisStreamSink', { skip: redisSkip() }, () => {
  let redis: RunningRedis;
  /** The sink's connection, opened as compose/cluster.ts opens it: no offline queue. */
  let connection: RedisConnection;
  /** The test's own reading connection. */
  let reader: RedisConnection;
  const logged: { level: number; msg: string; dropped?: number }[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void logged.push(JSON.parse(line) as (typeof logged)[number]) },
  );

  before(async () => {
    redis = await startRedis();
    connection = openRedis(redis.url, { role: 'events', offlineQueue: false });
    reader = openRedis(redis.url, { role: 'reader', offlineQueue: true });
    await connection.connect();
  });

  after(async () => {
    if (connection) await closeRedis(connection);
    if (reader) await closeRedis(reader);
    await redis?.stop();
  });

  const read = async (stream: string): Promise<ParleyEvent[]> => {
    const entries = await reader.xrange(stream, '-', '+');
    return entries.map(([, fields]) => {
      assert.equal(fields.length, 2);
      assert.equal(fields[0], 'event');
      return JSON.parse(fields[1]!) as ParleyEvent;
    });
  };

  it('appends events in order, one JSON `event` field each', async () => {
    const sink = new RedisStreamSink({
      redis: connection,
      stream: 's:order',
      lengthMax: 1000,
      logger,
    });
    const sent = Array.from({ length: 200 }, (_, i) => event(i + 1));
    for (const e of sent) sink.append(e);
    await sink.close();
    assert.deepEqual(await read('s:order'), sent);
    assert.equal(sink.droppedCount, 0);
  });

  /** How many times Redis ran this command since the last CONFIG RESETSTAT. */
  const calls = async (command: string): Promise<number> => {
    const stats = await reader.info('commandstats');
    return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  };

  it('appends one turn of events in one command, one stream entry each, in order', async () => {
    const sink = new RedisStreamSink({
      redis: connection,
      stream: 's:turn',
      lengthMax: 10_000,
      logger,
    });
    await reader.config('RESETSTAT');
    const first = Array.from({ length: 300 }, (_, i) => event(i + 1));
    for (const e of first) sink.append(e);
    await sink.close();
    assert.equal(await calls('eval'), 1, 'one script call for the turn');
    assert.equal(await calls('xadd'), 300, 'one XADD per event inside it');
    // A turn bigger than one call's share goes in several calls, still in order.
    const second = Array.from({ length: 2_500 }, (_, i) => event(301 + i));
    for (const e of second) sink.append(e);
    await sink.close();
    assert.equal(await calls('eval'), 4, 'three more calls of at most 1,000 events');
    assert.deepEqual(await read('s:turn'), [...first, ...second]);
    assert.equal(sink.droppedCount, 0);
  });

  it('drops and counts a batch that Redis refuses, never throwing, and appends after', async () => {
    const sink = new RedisStreamSink({
      redis: connection,
      stream: 's:refused',
      lengthMax: 1000,
      logger,
    });
    await reader.set('s:refused', 'not a stream'); // every XADD to it fails: WRONGTYPE
    logged.length = 0;
    for (let n = 1; n <= 5; n++) assert.doesNotThrow(() => sink.append(event(n)));
    await sink.close();
    assert.equal(sink.droppedCount, 5, 'the whole batch is counted');
    const warnings = logged.filter((l) => l.msg === 'event feed append failed');
    assert.equal(warnings.length, 1, 'logged once for the batch');
    assert.equal(warnings[0]!.dropped, 5);
    await reader.del('s:refused');
    sink.append(event(6));
    await sink.close();
    assert.deepEqual(
      (await read('s:refused')).map((e) => e.id),
      ['e6'],
    );
    assert.equal(sink.droppedCount, 5);
  });

  it('caps the stream at about lengthMax entries, keeping the newest', async () => {
    const lengthMax = 100;
    const sink = new RedisStreamSink({ redis: connection, stream: 's:cap', lengthMax, logger });
    for (let n = 1; n <= 2_000; n++) sink.append(event(n));
    await sink.close();
    const length = await reader.xlen('s:cap');
    // MAXLEN ~ trims whole stream nodes (100 entries each by default): at least lengthMax stay,
    // and not much more than one node's worth above it.
    assert.ok(length >= lengthMax, `length ${length} ≥ ${lengthMax}`);
    assert.ok(length <= lengthMax + 200, `length ${length} is about ${lengthMax}`);
    const kept = await read('s:cap');
    assert.equal(kept.at(-1)?.id, 'e2000', 'the newest event is kept');
    const seqs = kept.map((e) => e.data.seq as number);
    assert.deepEqual(
      seqs,
      Array.from({ length: kept.length }, (_, i) => 2_000 - kept.length + 1 + i),
      'what is kept is the newest run, in order',
    );
  });

  it('drops and counts events while Redis is down, never throwing, and appends again after', async () => {
    const sink = new RedisStreamSink({
      redis: connection,
      stream: 's:outage',
      lengthMax: 1000,
      logger,
    });
    sink.append(event(1));
    await sink.close();
    logged.length = 0;

    await redis.kill();
    await eventually(() => connection.status !== 'ready', 'the sink connection notices the outage');
    for (let n = 2; n <= 51; n++) assert.doesNotThrow(() => sink.append(event(n)));
    await sink.close();
    assert.equal(sink.droppedCount, 50, 'every append during the outage is counted as dropped');
    const warnings = logged.filter((l) => l.msg === 'event feed append failed');
    assert.equal(warnings.length, 1, 'the drops are logged once, not per event');
    assert.equal(warnings[0]!.dropped, 1);

    await redis.start(); // a restart: the old stream is gone
    await eventually(() => connection.status === 'ready', 'the sink connection reconnects');
    sink.append(event(52));
    sink.append(event(53));
    await sink.close();
    assert.equal(sink.droppedCount, 50);
    assert.deepEqual(
      (await read('s:outage')).map((e) => e.id),
      ['e52', 'e53'],
    );
  });
});
