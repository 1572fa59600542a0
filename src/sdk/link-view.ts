// What the client's parts (requests, outbox, catch-up) see of the link that Connection dials: its
// generation, whether it is welcomed, and a way to write on it. Work queued for one link checks
// the generation before it writes, so that nothing meant for a dropped link reaches the next.
import type { ClientFrame } from '../protocol/index.js';

export interface LinkView {
  /** Increments with every link attempt and drop; callbacks of older links compare it. */
  readonly gen: number;
  /** The current link got its welcome and has not dropped since. */
  readonly online: boolean;
  /** Writes on the current link; does nothing when there is none. */
  send(frame: ClientFrame): void;
}

export type Timer = ReturnType<typeof setTimeout>;
