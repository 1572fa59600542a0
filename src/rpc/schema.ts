import { fileURLToPath } from 'node:url';
import {
  loadPackageDefinition,
  type GrpcObject,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

// proto/rpc.proto, loaded at run time (no generated code), and the TypeScript shapes of its
// messages as @grpc/proto-loader presents them with the options below: field names as written
// (snake_case), int64 as JS numbers (every Parley int64 is far below 2^53), defaults filled in.

/** The schema, two directories up from both src/rpc/ and dist/rpc/. */
const PROTO_FILE = fileURLToPath(new URL('../../proto/rpc.proto', import.meta.url));

export interface RpcPackage {
  readonly IMService: ServiceClientConstructor;
  readonly ParleyService: ServiceClientConstructor;
}

let loaded: RpcPackage | null = null;

export function rpcPackage(): RpcPackage {
  if (loaded) return loaded;
  const definition = loadSync(PROTO_FILE, {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const root = loadPackageDefinition(definition) as unknown as {
    parley: { rpc: { v1: GrpcObject } };
  };
  const v1 = root.parley.rpc.v1;
  loaded = {
    IMService: v1.IMService as ServiceClientConstructor,
    ParleyService: v1.ParleyService as ServiceClientConstructor,
  };
  return loaded;
}

// ---- IMService --------------------------------------------------------------------------------

export interface RpcMessage {
  chat: string;
  text: string;
  sender: string;
  send_time: number;
}
export interface SendRequest {
  message: RpcMessage | null;
}
export interface SendResponse {
  code: number;
  msg: string;
  send_time: number;
  seq: number;
}
export interface PullRequest {
  chat: string;
  cursor: number;
  limit: number;
  reverse: boolean;
}
export interface PullResponse {
  code: number;
  msg: string;
  messages: RpcMessage[];
  has_more: boolean;
  next_cursor: number;
}

// ---- ParleyService ----------------------------------------------------------------------------

export interface RpcConversation {
  id: string;
  kind: string;
  title: string;
  name: string;
  last_seq: number;
  created_at: number;
}
export interface SendMessageRequest {
  conversation_id: string;
  sender: string;
  bot: boolean;
  ref: string;
  text: string;
  body_json: string;
  device: string;
}
export interface SendMessageResponse {
  message_id: string;
  seq: number;
  at: number;
  duplicate: boolean;
}
export interface OpenDirectRequest {
  user: string;
  peer: string;
}
export interface OpenDirectResponse {
  conversation: RpcConversation | null;
  created: boolean;
}
export interface CreateGroupRequest {
  owner: string;
  title: string;
  members: string[];
  history: string;
}
export interface ConversationReply {
  conversation: RpcConversation | null;
}
export interface AddMembersRequest {
  conversation_id: string;
  actor: string;
  members: string[];
}
export interface RemoveMemberRequest {
  conversation_id: string;
  actor: string;
  member: string;
}
export interface SetMemberRoleRequest {
  conversation_id: string;
  actor: string;
  member: string;
  role: string;
}
export interface GroupChangeReply {
  conversation: RpcConversation | null;
  seq: number;
}
export interface GetPresenceRequest {
  usernames: string[];
}
export interface UserPresence {
  username: string;
  online: boolean;
  exists: boolean;
}
export interface GetPresenceResponse {
  users: UserPresence[];
}
export interface VerifyTokenRequest {
  token: string;
}
export interface VerifyTokenResponse {
  user_id: string;
  username: string;
  device: string;
  created_at: number;
}

export interface SearchMessagesRequest {
  user: string;
  query: string;
  conversation_id: string;
  before: string;
  limit: number;
}
export interface FoundMessage {
  conversation_id: string;
  seq: number;
  message_id: string;
  sender: string;
  body_json: string;
  at: number;
}
export interface SearchMessagesResponse {
  messages: FoundMessage[];
  next: string;
}

/** Every method, by service: request → response. */
export interface RpcMethods {
  IMService: {
    Send: [SendRequest, SendResponse];
    Pull: [PullRequest, PullResponse];
  };
  ParleyService: {
    SendMessage: [SendMessageRequest, SendMessageResponse];
    OpenDirect: [OpenDirectRequest, OpenDirectResponse];
    CreateGroup: [CreateGroupRequest, ConversationReply];
    AddMembers: [AddMembersRequest, GroupChangeReply];
    RemoveMember: [RemoveMemberRequest, GroupChangeReply];
    SetMemberRole: [SetMemberRoleRequest, GroupChangeReply];
    GetPresence: [GetPresenceRequest, GetPresenceResponse];
    VerifyToken: [VerifyTokenRequest, VerifyTokenResponse];
    SearchMessages: [SearchMessagesRequest, SearchMessagesResponse];
  };
}

export type RpcService = keyof RpcMethods;
