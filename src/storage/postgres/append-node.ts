// One stand-in Parley node for the multi-node seq test (postgres-stores.test.ts): its own process
// and pool, firing every batch at once into one conversation when its parent says "go".
//
//   node --import tsx append-node.ts <database url> <conversation id> <sender id> <node name> <messages>
//
// It prints "ready" once its pool is connected, waits for a line on stdin, appends, then prints
// one JSON line: {"seqs": [...]} with the seq of every message it stored, in send order.
import { createInterface } from 'node:readline';
import type { AppendRequest } from '../../messaging/store/index.js';
import { openPostgresStores } from './index.js';

const POOL_MAX = 8;
// Mostly small batches, as group commit produces them, with a few larger ones.
const BATCH_SIZES = [1, 3, 1, 7, 2, 1, 12, 1, 5, 20] as const;

async function main(): Promise<void> {
  const [url, conversationId, senderId, node, countText] = process.argv.slice(2);
  const count = Number(countText);
  if (!url || !conversationId || !senderId || !node || !Number.isInteger(count)) {
    throw new Error('usage: append-node.ts <url> <conversation> <sender> <node> <messages>');
  }
  const batches: AppendRequest[][] = [];
  for (let n = 0, i = 0; n < count; i++) {
    const size = Math.min(BATCH_SIZES[i % BATCH_SIZES.length] ?? 1, count - n);
    const batch: AppendRequest[] = [];
    for (let k = 0; k < size; k++, n++) {
      batch.push({
        conversationId,
        senderId,
        device: node,
        ref: `${node}-${n}`,
        body: { kind: 'text', text: `${node} #${n}` },
      });
    }
    batches.push(batch);
  }

  const stores = await openPostgresStores({ url, poolMax: POOL_MAX });
  try {
    // Connect the whole pool before "ready", so the start is not staggered by connection setup.
    await Promise.all(
      Array.from({ length: POOL_MAX }, () =>
        stores.messages.conversations.getConversation(conversationId),
      ),
    );
    process.stdout.write('ready\n');
    await nextLine();
    const results = await Promise.all(batches.map((batch) => stores.messages.log.append(batch)));
    const seqs = results.flat().map((r) => {
      if (!r.ok) throw new Error(`append refused: ${r.error.code}`);
      return r.message.seq;
    });
    process.stdout.write(JSON.stringify({ seqs }) + '\n');
  } finally {
    await stores.close();
  }
}

/** Resolves on the parent's "go" line; rejects if the parent closes stdin (it went away). */
function nextLine(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  return new Promise((resolve, reject) => {
    let done = false;
    lines.once('line', () => {
      done = true;
      lines.close();
      // An open stdin would keep this process alive after its work is done.
      process.stdin.destroy();
      resolve();
    });
    lines.once('close', () => {
      if (!done) reject(new Error('stdin closed before "go"'));
    });
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
