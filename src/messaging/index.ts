export { createMessaging } from './messaging.js';
export type { Messaging, MessagingDeps } from './messaging.js';
export type { MessageService } from './message-service.js';
export type { ConversationService } from './conversation-service.js';
export { checkRoomName } from './conversation-service.js';
export type { GroupService } from './group-service.js';
export type { SyncService } from './sync-service.js';
export { MessagingHub } from './events.js';
export type { Membership, MemberCacheOptions } from './membership.js';
export type {
  GroupChanged,
  MessageActionEvents,
  MessagingEvents,
  ReactionChanged,
} from './events.js';
export { HIDDEN_BODY } from './message-view.js';
export { groupPlanner, targetsOf } from './group-rules.js';
export type { GroupEventName, SystemBody } from './group-rules.js';
export { GroupCommitter } from './group-commit.js';
export type { DirectGuard } from './direct-guard.js';
export { registerMessagingRoutes } from './messaging-routes.js';
export { messageView } from './message-view.js';
export { SendBudget } from './send-budget.js';
export { registerGroupRoutes } from './groups-routes.js';
export {
  validateBody,
  validateEditBody,
  validateReaction,
  validateRef,
  previewBody,
} from './message-body.js';
export type {
  AttachmentUse,
  Caller,
  Conversation,
  ConversationKind,
  ConversationListItem,
  ConversationSummary,
  ConversationView,
  GroupHistory,
  Member,
  MemberRole,
  MessageBody,
  MessageMarks,
  Page,
  PreferencesChange,
  ReactionCount,
  SendOutcome,
  StoredMessage,
  SyncResult,
  SyncedConversation,
  ViewedMessage,
} from './model.js';
export type {
  AppendRequest,
  AppendResult,
  ConversationStore,
  GroupAction,
  GroupChange,
  GroupChangeResult,
  GroupPlan,
  GroupPlanner,
  GroupState,
  GroupStore,
  InboxStore,
  MemberStore,
  MessageActionState,
  MessageActionStore,
  MessageJudge,
  MessageLog,
  MessageStores,
  NewGroup,
  ReactionChange,
  ReactionResult,
  SearchPage,
  SearchQuery,
  SearchStore,
  SeqPage,
  TimePage,
} from './store/index.js';
