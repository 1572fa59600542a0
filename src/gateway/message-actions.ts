import type { Caller, Messaging } from '../messaging/index.js';
import type {
  EditFrame,
  EditedFrame,
  HiddenFrame,
  HideFrame,
  ReactFrame,
  ReactionFrame,
} from '../protocol/index.js';

// The answers to the message-action frames (docs/protocol.md): edit → edited, react → reaction,
// hide → hidden, each echoing the request's id. The pushes to everyone else come from the
// delivery router, through MessageActionEvents.

type ActionFrame = EditFrame | ReactFrame | HideFrame;
type ActionReply = EditedFrame | ReactionFrame | HiddenFrame;

export async function messageAction(
  messaging: Messaging,
  caller: Caller,
  frame: ActionFrame,
): Promise<ActionReply> {
  const id = frame.id !== undefined ? { id: frame.id } : {};
  switch (frame.type) {
    case 'edit': {
      const m = await messaging.messages.edit(caller, frame.conversation, frame.seq, frame.body);
      return {
        type: 'edited',
        ...id,
        conversation: m.conversationId,
        seq: m.seq,
        body: m.body,
        editedAt: Math.floor((m.editedAtUs ?? m.atUs) / 1000),
        by: caller.userId,
      };
    }
    case 'react': {
      const r = await messaging.messages.react(
        caller,
        frame.conversation,
        frame.seq,
        frame.emoji,
        frame.remove !== true,
      );
      return {
        type: 'reaction',
        ...id,
        conversation: r.conversationId,
        seq: r.seq,
        user: r.userId,
        emoji: r.emoji,
        removed: r.removed,
        count: r.count,
        at: Math.floor(r.atUs / 1000),
      };
    }
    case 'hide':
      await messaging.messages.hide(caller, frame.conversation, frame.seq);
      return { type: 'hidden', ...id, conversation: frame.conversation, seq: frame.seq };
  }
}
