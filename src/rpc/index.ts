export { startRpcServer } from './rpc-server.js';
export type { RpcHandler, RpcHandlers, RpcListener, RpcServerOptions } from './rpc-server.js';
export { RpcClient } from './rpc-client.js';
export type { RpcClientOptions } from './rpc-client.js';
export { parleyServiceHandlers, PRESENCE_USERS_MAX } from './parley-service.js';
export type { ParleyServiceDeps } from './parley-service.js';
export {
  GRPC_STATUS_BY_HTTP,
  PARLEY_CODE_KEY,
  grpcStatusOf,
  fromServiceError,
  toStatus,
} from './status.js';
export { ServiceToken, bearer } from './service-token.js';
export { rpcPackage } from './schema.js';
export type {
  RpcMethods,
  RpcService,
  RpcMessage,
  SendRequest,
  SendResponse,
  PullRequest,
  PullResponse,
  RpcConversation,
  SendMessageRequest,
  SendMessageResponse,
  OpenDirectRequest,
  OpenDirectResponse,
  CreateGroupRequest,
  ConversationReply,
  AddMembersRequest,
  RemoveMemberRequest,
  SetMemberRoleRequest,
  GroupChangeReply,
  GetPresenceRequest,
  GetPresenceResponse,
  UserPresence,
  VerifyTokenRequest,
  SearchMessagesRequest,
  SearchMessagesResponse,
  FoundMessage,
  VerifyTokenResponse,
} from './schema.js';
