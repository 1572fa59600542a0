import type { ParleyError } from '../core/errors.js';

// The DirectGuard seam: may this user message that one in their direct conversation?
//
// Contract: assertMayMessage(senderId, peerId) resolves when the sender may open or send in the
// direct conversation with the peer, and rejects with a ParleyError (`blocked`) when not. It is
// asked before anything is stored, so a refused open or send stores nothing. It sits on the send
// path of direct conversations: an implementation answers from memory whenever it can. An
// answer may lag a block by the time the block takes to commit; messages already stored stay.
export interface DirectGuard {
  assertMayMessage(senderId: string, peerId: string): Promise<void>;
  /**
   * Optional synchronous answer from memory: null when the sender may message the peer, the
   * error assertMayMessage would reject with when not, undefined when it would have to look.
   */
  knownVerdict?(senderId: string, peerId: string): ParleyError | null | undefined;
  /**
   * Optional: of `others`, those this user may not message (nor they it), answered at once for
   * many pairs, with a fixed number of reads however many there are (presence at hello).
   */
  barredAmong?(userId: string, others: readonly string[]): Promise<ReadonlySet<string>>;
}
