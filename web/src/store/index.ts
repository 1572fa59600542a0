// The store's parts: the view shapes the components read and the pure helpers the ChatStore
// facade (../chat-store.ts) builds them with.
export type {
  ContactAction,
  ContactLists,
  ConversationView,
  Ending,
  MemberView,
  MessageView,
  Notice,
  ReactionView,
  TickState,
  Timeline,
} from './types.js';
export {
  applyReaction,
  editedBody,
  isWireMessage,
  mergeMessages,
  newest,
  toView,
  wireToMessage,
} from './messages.js';
export { isGone, memberView, titleOf } from './conversation-views.js';
export { imageSize, mediaMeta, safeName } from './media.js';
export { Notices } from './notices.js';
