export { MessagingService, checkRoomName } from './messaging-service.js';
export type {
  Caller,
  SendOutcome,
  MessagingEvents,
  MessagingDeps,
  AttachmentUse,
  SyncResult,
  GroupChanged,
  MessageActionEvents,
  ReactionChanged,
  ViewedMessage,
  ConversationListItem,
  SyncedConversation,
} from './messaging-service.js';
export { HIDDEN_BODY } from './messaging-service.js';
export { groupPlanner, targetsOf } from './group-rules.js';
export type { GroupEventName, SystemBody } from './group-rules.js';
export { GroupCommitter } from './group-commit.js';
export type { DirectGuard } from './direct-guard.js';
export { SeedApi, parseChat, SEED_DEVICE } from './seed-api.js';
export type { SeedMode, SeedPage, SeedMessage, SeedPull, SeedSend } from './seed-api.js';
export { registerMessagingRoutes } from './messaging-routes.js';
export { messageView } from './message-view.js';
export { SendBudget } from './send-budget.js';
export { registerSeedRoutes, withSeedHint } from './seed-routes.js';
export { registerGroupRoutes } from './groups-routes.js';
export {
  validateBody,
  validateEditBody,
  validateReaction,
  validateRef,
  previewBody,
} from './message-body.js';
export type {
  Conversation,
  ConversationKind,
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
  StoredMessage,
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
