// The kit of the messaging store contract suites (*.contract.ts beside each port): what a backend
// hands them (StoreBundle), and the helpers their cases share. Named *.contract.ts so the build
// leaves it out with the suites (tsconfig.json): it imports node:test's assert.
import assert from 'node:assert/strict';

import type { AuthStores } from '../../auth/store/index.js';
import { ParleyError } from '../../core/errors.js';
import type { ErrorCode } from '../../core/errors.js';
import type { MessageBody, StoredMessage } from '../model.js';
import type {
  AppendRequest,
  AppendResult,
  GroupAction,
  GroupPlan,
  MessageActionState,
  MessageStores,
} from './index.js';

/** What a backend's test hands to the contract suites: one fresh, empty store. */
export interface StoreBundle {
  messages: MessageStores;
  auth: AuthStores;
  close(): Promise<void>;
}

/** How a backend runs a suite: `open` gives each case a fresh bundle. */
export interface ContractOptions {
  open: () => Promise<StoreBundle>;
  /** Tells runs of one backend apart in the report (e.g. a variant of its setup). */
  name?: string;
}

/** The top describe of a port's suite: `MessageLog contract (SQLite, append thread)`. */
export function suiteName(port: string, opts: ContractOptions): string {
  return opts.name ? `${port} contract (${opts.name})` : `${port} contract`;
}

// Backward paging from "the end": a bound above any real seq.
export const SEQ_END = Number.MAX_SAFE_INTEGER;
// Pages stay within the server's pull cap so no backend has to serve larger ones.
export const PAGE_MAX = 100;

export function text(t: string): MessageBody {
  return { kind: 'text', text: t };
}

export function req(
  conversationId: string,
  senderId: string,
  ref: string,
  t: string,
  device = 'd1',
): AppendRequest {
  return { conversationId, senderId, device, ref, body: text(t) };
}

export function expectOk(r: AppendResult | undefined): {
  message: StoredMessage;
  duplicate: boolean;
  previousAtUs?: number;
} {
  assert.ok(r, 'missing append result');
  if (!r.ok) assert.fail(`expected ok, got error ${r.error.code}`);
  return r;
}

export function expectError(r: AppendResult | undefined): ErrorCode {
  assert.ok(r, 'missing append result');
  if (r.ok) assert.fail(`expected an error, got ok seq ${r.message.seq}`);
  assert.ok(r.error instanceof ParleyError, 'append error is a ParleyError');
  return r.error.code;
}

export function isCode(code: ErrorCode): (err: unknown) => boolean {
  return (err) => err instanceof ParleyError && err.code === code;
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

export function seqs(messages: readonly StoredMessage[]): number[] {
  return messages.map((m) => m.seq);
}

// A small seeded PRNG, so the interleavings are varied but every run is the same.
export function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The action a plan is filed under when the case applies the plan itself (no rules). */
export const NOOP: GroupAction = { type: 'dismiss' };

export const sys = (event: string): MessageBody => ({ kind: 'system', event });

/** A judge that approves and returns `body`, remembering the state it was shown. */
export function approve<T>(result: T, seen: MessageActionState[] = []) {
  return (state: MessageActionState): T => {
    seen.push(state);
    return result;
  };
}

export const refuse = (): never => {
  throw new ParleyError('forbidden');
};

/** The helpers that work on the current case's bundle, which `bundle` returns. */
export function storeHelpers(bundle: () => StoreBundle) {
  async function makeUsers<const N extends readonly string[]>(
    ...names: N
  ): Promise<{ -readonly [K in keyof N]: string }> {
    const ids: string[] = [];
    for (const name of names) ids.push((await bundle().auth.users.createUser(name, null)).id);
    return ids as { -readonly [K in keyof N]: string };
  }

  async function group(ownerId: string, memberIds: readonly string[]): Promise<string> {
    const c = await bundle().messages.groups.createGroup({ title: 'g', ownerId, memberIds });
    return c.id;
  }

  async function sendOne(
    conversationId: string,
    senderId: string,
    ref: string,
  ): Promise<StoredMessage> {
    const [r] = await bundle().messages.log.append([
      req(conversationId, senderId, ref, `text ${ref}`),
    ]);
    return expectOk(r).message;
  }

  async function lastSeq(conversationId: string): Promise<number> {
    const c = await bundle().messages.conversations.getConversation(conversationId);
    assert.ok(c, 'conversation exists');
    return c.lastSeq;
  }

  /** Every message of the conversation, by forward seq paging in pages of PAGE_MAX. */
  async function readAll(conversationId: string): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    let after = 0;
    for (;;) {
      const page = await bundle().messages.log.pageBySeq(conversationId, {
        after,
        limit: PAGE_MAX,
      });
      out.push(...page.messages);
      const last = page.messages.at(-1);
      if (!page.hasMore || !last) return out;
      after = last.seq;
    }
  }

  /** Applies a plan as the given actor, with no rules: the store's part only. */
  function change(conv: string, actorId: string, plan: GroupPlan, targetIds: string[] = []) {
    return bundle().messages.groups.changeGroup(
      { conversationId: conv, actorId, device: 'd1', action: NOOP, targetIds },
      () => plan,
    );
  }

  async function textOf(conv: string, seq: number): Promise<string | undefined> {
    return (await bundle().messages.log.getMessage(conv, seq))?.body.text;
  }

  return { makeUsers, group, sendOne, lastSeq, readAll, change, textOf };
}
