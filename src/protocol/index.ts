export { ProtocolError } from './codec.js';
export type { Codec } from './codec.js';
export { jsonCodec } from './json-codec.js';
export { createProtoCodec } from './proto-codec.js';
export { validateClientFrame } from './validate.js';
export { CLIENT_FRAME_TYPES, CloseCode } from './frames.js';
export type {
  AckFrame,
  Body,
  ClientFrame,
  ContactEvent,
  ContactFrame,
  ConversationState,
  ErrorFrame,
  Frame,
  FrameType,
  HelloFrame,
  KickedFrame,
  MessageFrame,
  PingFrame,
  PongFrame,
  PresenceFrame,
  PullFrame,
  PulledFrame,
  ReadFrame,
  RecallFrame,
  RecalledFrame,
  ReceiptFrame,
  SendFrame,
  SentFrame,
  ServerFrame,
  SyncFrame,
  SyncedFrame,
  TypingFrame,
  WelcomeFrame,
  WireMessage,
} from './frames.js';
