// Messaging's face: the services (built by createMessaging), the events they raise, the model
// they speak, and what the composition root wires (GroupCommitter, SendBudget, the routes).
// Storage implements the store ports through their own face, ./store/index.ts.
export { createMessaging } from './messaging.js';
export type { Messaging, MessagingDeps } from './messaging.js';
export type { Membership } from './membership.js';
export { GroupCommitter } from './group-commit.js';
export { SendBudget } from './send-budget.js';
export { registerMessagingRoutes } from './messaging-routes.js';
export { registerGroupRoutes } from './groups-routes.js';
export { checkRoomName } from './conversation-service.js';
export { validateBody } from './message-body.js';
export type { DirectGuard } from './direct-guard.js';
export type {
  GroupChanged,
  MessageActionEvents,
  MessagingEvents,
  ReactionChanged,
} from './events.js';
export type {
  Caller,
  Conversation,
  ConversationView,
  Member,
  StoredMessage,
  SyncedConversation,
  ViewedMessage,
} from './model.js';
export type { GroupAction } from './store/index.js';
