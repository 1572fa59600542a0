import type { ClientFrame, ServerFrame } from './frames.js';

/** A wire encoding of frames. Both codecs carry the same frames with the same field names. */
export interface Codec {
  /** The WebSocket subprotocol that selects this codec. */
  readonly name: 'parley.v1.json' | 'parley.v1.proto';
  /** Text frames (JSON) or binary frames (Protobuf) on a WebSocket. */
  readonly binary: boolean;
  encode(frame: ServerFrame | ClientFrame): string | Uint8Array;
  /**
   * Decodes one frame into a plain object with a `type`, without checking its fields (see
   * validate.ts). Throws ProtocolError when the bytes are not a frame at all.
   */
  decode(data: string | Uint8Array): { type: string; [key: string]: unknown };
}

/** The bytes are not a frame, or the frame is not valid. `fatal` ones close the link with 4400. */
export class ProtocolError extends Error {
  readonly fatal: boolean;
  readonly frameId: string | undefined;
  constructor(message: string, options: { fatal: boolean; frameId?: string | undefined }) {
    super(message);
    this.name = 'ProtocolError';
    this.fatal = options.fatal;
    this.frameId = options.frameId;
  }
}
