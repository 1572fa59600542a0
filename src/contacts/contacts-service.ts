import { ParleyError } from '../core/errors.js';
import type { UserBudget } from '../core/user-budget.js';
import type { Limits } from '../core/limits.js';
import { systemClock, type Clock } from '../core/clock.js';
import { normalizeUsername } from '../core/names.js';
import type { DeletionStep, User, UserDirectory } from '../auth/index.js';
import type { ContactEvent } from '../protocol/index.js';
import type { BlockGuard } from './block-guard.js';
import type { ContactEvents } from './contact-events.js';
import type {
  ContactEntry,
  ContactListKind,
  ContactStore,
  Edge,
  Pair,
  PairStates,
} from './contact-store.js';

/** Who is acting. */
export interface Actor {
  readonly userId: string;
  readonly username: string;
}

/** The relation as one side sees it. */
export type Relation = 'none' | 'outgoing' | 'incoming' | 'contact' | 'blocked' | 'blocked_by';

export interface ContactList {
  readonly entries: ContactEntry[];
  /** The `after` of the next page, or null on the last one. */
  readonly next: string | null;
}

/** A decided change: the pair's next edges and the event to push; null when nothing changes. */
type Change = {
  readonly next: Pair;
  readonly event: ContactEvent;
  readonly note?: string;
  /** A new request: it spends one of the actor's first contacts before it is written. */
  readonly firstContact?: boolean;
} | null;

// setPair is a compare-and-set: a concurrent change to the same pair makes it fail, and the
// transition is decided again on fresh state. Two users racing on one pair settle in a few rounds.
const ATTEMPTS_MAX = 5;

/** The most contacts contactIds reads (a bound on its loop and on a profile push's audience). */
const CONTACT_IDS_MAX = 10_000;
// Printable: no control characters, which could forge log lines or break clients.
// eslint-disable-next-line no-control-regex
const NOTE_RE = /^[^\u0000-\u0008\u000b-\u001f\u007f]*$/;

export interface ContactsDeps {
  readonly store: ContactStore;
  readonly users: UserDirectory;
  readonly limits: Limits;
  readonly guard?: BlockGuard;
  readonly clock?: Clock;
  /** Spent by each new request (not by accepting theirs): the bound on reaching strangers. */
  readonly firstContacts?: UserBudget;
}

export function relationOf(pair: Pair): Relation {
  if (pair.ab?.state === 'blocked') return 'blocked';
  if (pair.ba?.state === 'blocked') return 'blocked_by';
  if (pair.ab?.state === 'accepted') return 'contact';
  if (pair.ab?.state === 'requested') return 'outgoing';
  if (pair.ba?.state === 'requested') return 'incoming';
  return 'none';
}

const statesOf = (pair: Pair): PairStates => ({
  ab: pair.ab?.state ?? null,
  ba: pair.ba?.state ?? null,
});

/**
 * The rules of contacts (docs/contacts.md), shared by every interface. The store only reads and
 * compare-and-sets a pair's two edges; every rule about which change is allowed lives here.
 */
export class ContactsService {
  private readonly store: ContactStore;
  private readonly users: UserDirectory;
  private readonly limits: Limits;
  private readonly guard: BlockGuard | undefined;
  private readonly firstContacts: UserBudget | undefined;
  private readonly clock: Clock;
  private readonly subscribers: ContactEvents[] = [];

  constructor(deps: ContactsDeps) {
    this.store = deps.store;
    this.users = deps.users;
    this.limits = deps.limits;
    this.guard = deps.guard;
    this.clock = deps.clock ?? systemClock;
    this.firstContacts = deps.firstContacts;
  }

  subscribe(events: ContactEvents): void {
    this.subscribers.push(events);
  }

  /**
   * Asks `username` to be contacts. If they had already asked the actor, this accepts their
   * request instead. Returns the relation after the change.
   */
  async request(actor: Actor, username: unknown, note: unknown): Promise<Relation> {
    const text = this.checkNote(note);
    // A deleted account takes no requests (a block, when there is one, answers first below).
    const peer = await this.peerOf(actor, username);
    if ((await this.store.directBar(actor.userId, peer.id)) === 'deleted') {
      throw new ParleyError('account_deleted');
    }
    return this.transition(actor, peer, (pair, now) => {
      if (pair.ab?.state === 'blocked' || pair.ba?.state === 'blocked') {
        throw new ParleyError('blocked');
      }
      if (pair.ab?.state === 'accepted') throw new ParleyError('already_contacts');
      if (pair.ab?.state === 'requested') throw new ParleyError('contact_request_exists');
      if (pair.ba?.state === 'requested') return accepted(now);
      const edge: Edge = { state: 'requested', note: text, sinceMs: now };
      return {
        next: { ab: edge, ba: null },
        event: 'requested',
        firstContact: true,
        ...(text ? { note: text } : {}),
      };
    });
  }

  /** Accepts `username`'s pending request: both become contacts. */
  accept(actor: Actor, username: unknown): Promise<Relation> {
    return this.transition(actor, this.peerOf(actor, username), (pair, now) => {
      if (pair.ba?.state !== 'requested') throw new ParleyError('contact_request_not_found');
      return accepted(now);
    });
  }

  /** Declines `username`'s pending request; they may ask again. */
  decline(actor: Actor, username: unknown): Promise<Relation> {
    return this.transition(actor, this.peerOf(actor, username), (pair) => {
      if (pair.ba?.state !== 'requested') throw new ParleyError('contact_request_not_found');
      return { next: { ab: pair.ab, ba: null }, event: 'declined' };
    });
  }

  /** Withdraws the actor's own pending request to `username`. */
  cancel(actor: Actor, username: unknown): Promise<Relation> {
    return this.transition(actor, this.peerOf(actor, username), (pair) => {
      if (pair.ab?.state !== 'requested') throw new ParleyError('contact_request_not_found');
      return { next: { ab: null, ba: pair.ba }, event: 'cancelled' };
    });
  }

  /** Ends a contact, on both sides. */
  remove(actor: Actor, username: unknown): Promise<Relation> {
    return this.transition(actor, this.peerOf(actor, username), (pair) => {
      if (pair.ab?.state !== 'accepted') throw new ParleyError('contact_not_found');
      return { next: { ab: null, ba: null }, event: 'removed' };
    });
  }

  /**
   * Blocks `username`: ends the contact and drops pending requests both ways. A block of one who
   * blocked the actor stands beside theirs. Blocking twice changes nothing.
   */
  block(actor: Actor, username: unknown): Promise<Relation> {
    return this.transition(actor, this.peerOf(actor, username), (pair, now) => {
      if (pair.ab?.state === 'blocked') return null;
      const theirs = pair.ba?.state === 'blocked' ? pair.ba : null;
      return {
        next: { ab: { state: 'blocked', note: null, sinceMs: now }, ba: theirs },
        event: 'blocked',
      };
    });
  }

  /** Lifts the actor's block of `username`; the pair starts afresh. Unblocking twice changes nothing. */
  unblock(actor: Actor, username: unknown): Promise<Relation> {
    return this.transition(actor, this.peerOf(actor, username), (pair) => {
      if (pair.ab?.state !== 'blocked') return null;
      return { next: { ab: null, ba: pair.ba }, event: 'unblocked' };
    });
  }

  /** One page of the actor's contacts, requests (incoming or outgoing) or blocked users. */
  async list(
    actor: Actor,
    kind: ContactListKind,
    page: { after?: string | undefined; limit?: number | undefined },
  ): Promise<ContactList> {
    const limit = Math.min(
      page.limit ?? this.limits.contactPageCountMax,
      this.limits.contactPageCountMax,
    );
    const rows = await this.store.list(actor.userId, kind, {
      ...(page.after !== undefined ? { after: page.after } : {}),
      limit: limit + 1,
    });
    const entries = rows.slice(0, limit);
    return { entries, next: rows.length > limit ? (entries.at(-1)?.username ?? null) : null };
  }

  /**
   * Ends every relation the user has (an account being deleted): removes its contacts, declines
   * the requests to it, cancels its own, lifts its blocks, each pushed like the action itself.
   * Blocks of it by others stay: they are those users' choice. Each list is read at most
   * CONTACT_IDS_MAX deep; repeating this finishes what a crash left.
   */
  async endAllRelations(actor: Actor): Promise<void> {
    const each: [ContactListKind, (name: string) => Promise<unknown>][] = [
      ['contacts', (name) => this.remove(actor, name)],
      ['incoming', (name) => this.decline(actor, name)],
      ['outgoing', (name) => this.cancel(actor, name)],
      ['blocked', (name) => this.unblock(actor, name)],
    ];
    for (const [kind, end] of each) {
      for (let round = 0; round * this.limits.contactPageCountMax < CONTACT_IDS_MAX; round++) {
        const rows = await this.store.list(actor.userId, kind, {
          limit: this.limits.contactPageCountMax,
        });
        if (rows.length === 0) break;
        // A relation that changed meanwhile (the other side acted) is gone or another one.
        for (const row of rows) await end(row.username).catch(ignoreGone);
      }
    }
  }

  /**
   * Contacts' part of deleting an account (AuthService.onDeletion): every relation ends; once
   * the account is gone, no cached block verdict stays (messages to it are refused from now on
   * with account_deleted).
   */
  deletionStep(): DeletionStep {
    return {
      cleanup: (account) =>
        this.endAllRelations({ userId: account.userId, username: account.username }),
      deleted: () => this.guard?.forgetAll(),
    };
  }

  /**
   * The ids of the user's contacts (accepted), read a page at a time; at most
   * CONTACT_IDS_MAX of them, the first by username.
   */
  async contactIds(userId: string): Promise<string[]> {
    const ids: string[] = [];
    const limit = this.limits.contactPageCountMax;
    let after: string | undefined;
    while (ids.length < CONTACT_IDS_MAX) {
      const rows = await this.store.list(userId, 'contacts', {
        ...(after !== undefined ? { after } : {}),
        limit,
      });
      for (const row of rows) ids.push(row.userId);
      if (rows.length < limit) break;
      after = rows.at(-1)!.username;
    }
    return ids.slice(0, CONTACT_IDS_MAX);
  }

  private checkNote(note: unknown): string | null {
    if (note === undefined || note === null || note === '') return null;
    const max = this.limits.contactNoteCharsMax;
    if (typeof note !== 'string' || note.length > max || !NOTE_RE.test(note)) {
      throw new ParleyError('invalid_request', `A note is at most ${max} printable characters.`);
    }
    return note;
  }

  private async peerOf(actor: Actor, username: unknown): Promise<User> {
    const name = normalizeUsername(username);
    const peer = (await this.users.byUsername([name])).get(name);
    if (!peer) throw new ParleyError('user_not_found', `No user named "${name}".`);
    if (peer.id === actor.userId) {
      throw new ParleyError('invalid_request', 'That is you: contacts are between two users.');
    }
    return peer;
  }

  /**
   * Reads the pair with `other` (peerOf's answer, so that a caller that already resolved it
   * does not look it up twice), decides, compare-and-sets; again on a concurrent change. Then
   * pushes.
   */
  private async transition(
    actor: Actor,
    other: User | Promise<User>,
    decide: (pair: Pair, nowMs: number) => Change,
  ): Promise<Relation> {
    const peer = await other;
    let spent = false;
    for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
      const pair = await this.store.pair(actor.userId, peer.id);
      const now = this.clock.nowMs();
      const change = decide(pair, now);
      if (change === null) return relationOf(pair);
      // Spent once, however many rounds a race takes; a refusal (429) writes nothing.
      if (change.firstContact && !spent && this.firstContacts) {
        await this.firstContacts.take(actor.userId, now);
        spent = true;
      }
      if (!(await this.store.setPair(actor.userId, peer.id, statesOf(pair), change.next))) continue;
      if (change.event === 'blocked' || change.event === 'unblocked') {
        this.guard?.forget(actor.userId, peer.id);
      }
      this.emit(actor, peer, change.event, now, change.note);
      return relationOf(change.next);
    }
    throw new ParleyError('internal', 'The contact kept changing concurrently; try again.');
  }

  private emit(actor: Actor, peer: User, event: ContactEvent, at: number, note?: string): void {
    const frame = {
      type: 'contact' as const,
      event,
      from: actor.userId,
      fromUsername: actor.username,
      to: peer.id,
      toUsername: peer.username,
      ...(note !== undefined ? { note } : {}),
      at,
    };
    for (const s of this.subscribers) s.contactChanged([actor.userId, peer.id], frame);
  }
}

function ignoreGone(err: unknown): void {
  if (err instanceof ParleyError && GONE.has(err.code)) return;
  throw err;
}
const GONE = new Set(['contact_not_found', 'contact_request_not_found']);

function accepted(now: number): Change {
  const edge: Edge = { state: 'accepted', note: null, sinceMs: now };
  return { next: { ab: edge, ba: edge }, event: 'accepted' };
}
