import type { StoredMessage, ViewedMessage } from './model.js';
import type { MessageActionStore } from './store/index.js';

/** What a hidden message's body reads as, for the user who hid it. */
const HIDDEN_BODY = Object.freeze({ kind: 'hidden' });

// A message as the REST API shows it (docs/rest-api.md): times in epoch ms, the marks present
// only when set. Shared by the message, message-action and group routes.

export function messageView(m: ViewedMessage) {
  return {
    id: m.id,
    conversation: m.conversationId,
    seq: m.seq,
    sender: m.senderId,
    device: m.device,
    body: m.body,
    at: Math.floor(m.atUs / 1000),
    ...(m.recalledAtUs !== null ? { recalled: true } : {}),
    ...(m.editedAtUs !== undefined ? { editedAt: Math.floor(m.editedAtUs / 1000) } : {}),
    ...(m.reactions ? { reactions: m.reactions } : {}),
    ...(m.hidden ? { hidden: true } : {}),
  };
}

/** Messages (ascending seqs) as the viewer sees them: with reactions, and its hidden ones hidden. */
export async function viewedMessages(
  actions: Pick<MessageActionStore, 'marks'>,
  viewerId: string,
  conversationId: string,
  messages: readonly StoredMessage[],
): Promise<ViewedMessage[]> {
  const first = messages[0];
  const last = messages.at(-1);
  if (!first || !last) return [];
  const marks = await actions.marks(conversationId, viewerId, first.seq, last.seq);
  return messages.map((m): ViewedMessage => {
    if (marks.hidden.has(m.seq)) return { ...m, body: HIDDEN_BODY, hidden: true };
    const reactions = marks.reactions.get(m.seq);
    return reactions ? { ...m, reactions } : m;
  });
}
