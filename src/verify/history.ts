// The history a `parley verify` run records: what every client did and saw, the faults, and the
// final read of the store. The checker (checker.ts) reads nothing else. Every event carries `at`,
// the harness's wall clock in ms, for the reader; the checker orders one client's events by their
// place in the history, never by `at`. A client is one device of one user (one outbox, one link
// at a time); `client` names it. Every message body the workload sends is `{kind: 'text', text:
// "<ref>"}`, so a message read back names the send it came from.

/** One message as a client or the final read saw it. `ref` is read from the body's text. */
export interface SeenMessage {
  readonly seq: number;
  readonly id: string;
  readonly ref: string;
}

/**
 * The ref a stored or pushed body names: a workload body's text, or `#<kind>` for one no client
 * sent (a group's system message). One rule for the clients and the store read alike.
 */
export function refOf(body: unknown): string {
  const b = body as { kind?: unknown; text?: unknown } | null | undefined;
  return b?.kind === 'text' ? String(b.text) : `#${String(b?.kind)}`;
}

export type HistoryEvent =
  /** A send attempt; `attempt` 1 is the first, higher ones are resends with the same ref. */
  | {
      readonly t: 'send';
      readonly at: number;
      readonly client: string;
      readonly conv: string;
      readonly ref: string;
      readonly attempt: number;
    }
  /** A `sent` answer. */
  | {
      readonly t: 'ack';
      readonly at: number;
      readonly client: string;
      readonly conv: string;
      readonly ref: string;
      readonly seq: number;
      readonly id: string;
      readonly dup: boolean;
    }
  /** A permanent error for a send (the client dropped it from its outbox): nothing was stored. */
  | {
      readonly t: 'refused';
      readonly at: number;
      readonly client: string;
      readonly conv: string;
      readonly ref: string;
      readonly code: string;
    }
  /** A `message` push received. */
  | {
      readonly t: 'push';
      readonly at: number;
      readonly client: string;
      readonly conv: string;
      readonly msg: SeenMessage;
    }
  /** A `pulled` answer to `pull {after}`. */
  | {
      readonly t: 'pulled';
      readonly at: number;
      readonly client: string;
      readonly conv: string;
      readonly after: number;
      readonly msgs: readonly SeenMessage[];
      readonly hasMore: boolean;
    }
  /** A `synced` answer: the caller's own watermarks per conversation listed. */
  | {
      readonly t: 'synced';
      readonly at: number;
      readonly client: string;
      readonly convs: readonly SyncedConversation[];
    }
  /** A `receipt` push: `user`'s watermarks in `conv`. */
  | {
      readonly t: 'receipt';
      readonly at: number;
      readonly client: string;
      readonly conv: string;
      readonly user: string;
      readonly deliveredSeq: number;
      readonly readSeq: number;
    }
  /** An `ack` (delivered) or `read` watermark the client sent. */
  | {
      readonly t: 'mark';
      readonly at: number;
      readonly client: string;
      readonly conv: string;
      readonly kind: 'ack' | 'read';
      readonly seq: number;
    }
  /**
   * A message handed to the application: the client shows messages of a conversation in seq
   * order, each once, as its contiguous prefix (`seen`) grows.
   */
  | {
      readonly t: 'shown';
      readonly at: number;
      readonly client: string;
      readonly conv: string;
      readonly msg: SeenMessage;
    }
  /** A link came up (`node` from `welcome`) or went down (`reason`). */
  | {
      readonly t: 'link';
      readonly at: number;
      readonly client: string;
      readonly up: boolean;
      readonly node?: string;
      readonly reason?: string;
    }
  /** A fault began or ended. `seed` and `index` place it in the schedule. */
  | {
      readonly t: 'fault';
      readonly at: number;
      readonly kind: string;
      readonly target: string;
      readonly phase: 'start' | 'end';
      readonly index: number;
    }
  /**
   * A server process (a node, or the embedded server) exited although no fault asked it to: a
   * crash of the system under test. `code` and `signal` as Node reports them.
   */
  | {
      readonly t: 'crash';
      readonly at: number;
      readonly name: string;
      readonly code: number | null;
      readonly signal: string | null;
    }
  /** The faults are over and healed: from here every client must catch up. */
  | { readonly t: 'quiet'; readonly at: number }
  /** A client's state once it caught up after `quiet`: its `seen` per conversation it is in. */
  | {
      readonly t: 'final';
      readonly at: number;
      readonly client: string;
      readonly seen: Readonly<Record<string, number>>;
      /** False when the client's own sync-and-pull never reached every `lastSeq` in time. */
      readonly caughtUp?: boolean;
    }
  /** The final read of one conversation from the store, every message in seq order. */
  | {
      readonly t: 'store';
      readonly at: number;
      readonly conv: string;
      readonly msgs: readonly SeenMessage[];
    };

export interface SyncedConversation {
  readonly id: string;
  readonly lastSeq: number;
  readonly deliveredSeq: number;
  readonly readSeq: number;
  readonly unread: number;
}

/**
 * Which conversations each client belongs to, written at the start of a run (the workload's
 * membership does not change during a run). The checker expects every client to catch up on
 * exactly these.
 */
export interface HistoryHeader {
  readonly t: 'header';
  readonly seed: number;
  readonly mode: 'embedded' | 'cluster';
  readonly started: string;
  readonly commit: string;
  readonly members: Readonly<Record<string, readonly string[]>>;
  /** client → user id, so that per-user watermarks can be told apart from per-device state. */
  readonly users: Readonly<Record<string, string>>;
}

export type HistoryEventType = HistoryEvent['t'];
