import type { ViewedMessage } from './messaging-service.js';

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
