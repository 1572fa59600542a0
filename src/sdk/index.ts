// Parley's TypeScript client SDK: `parley/sdk`, for browsers and Node. docs/sdk.md is the full
// reference; this is the shape in one screen.
//
//   import { createClient, ParleyApi } from 'parley/sdk';
//
//   const api = new ParleyApi({ url: 'http://host:8080' });        // REST only, fetch-based
//   const { token, user, device } = await api.register({ username, password, device? });
//   api.login(...) / api.logout() / api.users.me() / api.users.search(prefix) / api.users.update(p)
//   api.account.{sessions, revoke(device), changePassword(current, next), delete(password)}
//   api.contacts.{list, requests, blocked, request, accept, decline, cancel, remove, block, unblock}
//   api.conversations.{list, get, openDirect(username), joinRoom, setPreferences, markRead}
//   api.groups.{create, get, members, add, remove, leave, role, mute, title, muteAll, history,
//               avatar, dismiss, createInvite, invite, revokeInvite, join(code)}
//   api.messages.{history(conversationId, {before, after, limit}), send, edit, recall, hide,
//                 react, unreact}
//   api.attachments.{upload(blob | Uint8Array, {contentType, name}) -> {id, …}, meta, url, download}
//
//   const client = createClient({ url, token, device, codec?: 'json' | 'proto',
//                                 outbox?: OutboxStorage, WebSocket?: ctor });
//   client.api                 // a ParleyApi with the same url and token
//   await client.connect()     // resolves at the first welcome; reconnects with jittered backoff
//                              // until close()
//   await client.close()
//   client.state               // 'idle' | 'connecting' | 'online' | 'reconnecting' | 'closed'
//   const off = client.on('message', (m) => …)   // typed per event (ClientEvents); off() unsubscribes
//     events: state, message, sent, failed, receipt, typing, presence, recalled, edited, reaction,
//             hidden, member, contact, profile, synced, error
//   client.send(conversationId, body, { ref? }): Promise<SentMessage>  // outbox until acked
//   client.pull(conversationId, { before?, after?, limit? }): Promise<{ messages, hasMore }>
//   client.markRead(conversationId, seq); client.typing(conversationId)
//   client.recall(conversationId, seq); client.edit(conversationId, seq, body);
//   client.react(conversationId, seq, emoji, add = true); client.hide(conversationId, seq)
//   client.pending(conversationId?)   // outbox entries not yet acknowledged ("sending…")
//
// The outbox storages: MemoryOutbox (default) and LocalStorageOutbox here; FileOutbox (Node) is
// in `parley/sdk/node`, so that this entry point imports no Node-only module.
export { ParleyApi, restMessage } from './api.js';
export type {
  ApiOptions,
  ApiRequest,
  Attachment,
  AuthResult,
  ContactEntry,
  ContactPage,
  ContactState,
  Conversation,
  ConversationKind,
  ConversationMember,
  Credentials,
  DeviceSession,
  GroupChange,
  HistoryVisibility,
  Invite,
  ListQuery,
  NewGroup,
  Profile,
  ProfilePatch,
  ReactionState,
  RestSent,
  Role,
  UploadOptions,
  UserPage,
  UserRef,
} from './api.js';
export type {
  AnyBody,
  AudioBody,
  BodyCommon,
  BodyKind,
  CustomBody,
  EditBody,
  FileBody,
  HiddenBody,
  ImageBody,
  LocationBody,
  RecalledBody,
  SendableBody,
  SystemBody,
  TextBody,
  UnreadableBody,
  VideoBody,
} from './body.js';
export { createClient, ParleyClient } from './client.js';
export type { SendOptions } from './client.js';
export { CLIENT_ERRORS, ParleyClientError, isParleyClientError } from './errors.js';
export type { ClientErrorCode } from './errors.js';
export { LocalStorageOutbox, MemoryOutbox } from './outbox.js';
export type { StorageLike } from './outbox.js';
export type {
  Body,
  ClientEventName,
  ClientEvents,
  ClientOptions,
  ClientState,
  CodecName,
  ConnectErrorEvent,
  ContactChangeEvent,
  ProfileChangeEvent,
  ContactEvent,
  ConversationState,
  EditedEvent,
  FailedEvent,
  FetchLike,
  HiddenEvent,
  ChangedEvent,
  MemberChangeEvent,
  MemberEvent,
  Message,
  MessagePage,
  OutboxEntry,
  OutboxStorage,
  PageQuery,
  PusherInfo,
  SearchPage,
  SearchQuery,
  Preferences,
  PresenceEvent,
  ReactionCount,
  ReactionEvent,
  RecalledEvent,
  ReceiptEvent,
  SentMessage,
  StateEvent,
  TypingEvent,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';
