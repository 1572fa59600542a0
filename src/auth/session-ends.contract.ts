// The SessionEnds contract (session-ends.ts): every way a session row ends is logged by the
// database, through the auth stores or not, and read back within a window. Every backend runs it.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { AuthStores } from './store/index.js';
import type { SessionEnds } from './session-ends.js';

export interface SessionEndsBundle {
  auth: AuthStores;
  sessionEnds: SessionEnds;
  close(): Promise<void>;
}

const WINDOW_MS = 60_000;

export function runSessionEndsContract(opts: { open: () => Promise<SessionEndsBundle> }): void {
  describe('SessionEnds contract', () => {
    let b: SessionEndsBundle;
    beforeEach(async () => {
      b = await opts.open();
    });
    afterEach(async () => {
      await b.close();
    });

    const ended = async () => new Set(await b.sessionEnds.endedWithin(WINDOW_MS));

    it('logs nothing for sessions that live, and every way one ends', async () => {
      const u = await b.auth.users.createUser('ends', 'hash');
      for (const d of ['a', 'b', 'c', 'd']) await b.auth.sessions.putSession(`h-${d}`, u.id, d);
      assert.deepEqual([...(await ended())], []);

      await b.auth.sessions.deleteSession('h-a'); // logout
      await b.auth.sessions.putSession('h-b2', u.id, 'b'); // a new login of device b
      await b.auth.sessions.deleteDeviceSession(u.id, 'c'); // revoked
      let now = await ended();
      assert.deepEqual([...now].sort(), ['h-a', 'h-b', 'h-c']);

      await b.auth.users.setPassword(u.id, 'hash2', 'b2-keeps'); // every device but one
      now = await ended();
      assert.ok(now.has('h-b2') && now.has('h-d'), [...now].join());

      await b.auth.sessions.putSession('h-e', u.id, 'e');
      await b.auth.users.deleteAccount(u.id);
      assert.ok((await ended()).has('h-e'));
    });

    it('reads only its window, and prunes what is older', async () => {
      const u = await b.auth.users.createUser('window', 'hash');
      await b.auth.sessions.putSession('h-old', u.id, 'x');
      await b.auth.sessions.deleteSession('h-old');
      await new Promise((resolve) => setTimeout(resolve, 60));
      assert.deepEqual(await b.sessionEnds.endedWithin(30), []);
      assert.deepEqual(await b.sessionEnds.endedWithin(WINDOW_MS), ['h-old']);
      await b.sessionEnds.prune(30);
      assert.deepEqual(await b.sessionEnds.endedWithin(WINDOW_MS), []);
    });
  });
}
