// The Protobuf codec, a face of its own so that what imports protocol/index.ts (the web client's
// SDK among them) never loads protobufjs; the SDK loads this one on demand.
export { createProtoCodec } from './proto-codec.js';
