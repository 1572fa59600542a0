export { MessagingService, checkRoomName } from './messaging-service.js';
export type {
  Caller,
  SendOutcome,
  MessagingEvents,
  MessagingDeps,
  AttachmentUse,
  SyncResult,
  GroupChanged,
} from './messaging-service.js';
export { groupPlanner, targetsOf } from './group-rules.js';
export type { GroupEventName, SystemBody } from './group-rules.js';
export { GroupCommitter } from './group-commit.js';
export type { DirectGuard } from './direct-guard.js';
export { SeedApi, parseChat, SEED_DEVICE } from './seed-api.js';
export type { SeedMode, SeedPage, SeedMessage } from './seed-api.js';
export { registerMessagingRoutes, messageView } from './messaging-routes.js';
export { registerSeedRoutes } from './seed-routes.js';
export { registerGroupRoutes } from './groups-routes.js';
export { validateBody, validateRef } from './message-body.js';
export type {
  AppendRequest,
  AppendResult,
  Conversation,
  ConversationKind,
  ConversationView,
  GroupAction,
  GroupChange,
  GroupChangeResult,
  GroupHistory,
  GroupPlan,
  GroupPlanner,
  GroupState,
  Member,
  MemberRole,
  MessageBody,
  MessageStore,
  NewGroup,
  Page,
  SeqPage,
  StoredMessage,
  TimePage,
} from './message-store.js';
