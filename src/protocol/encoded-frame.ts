import type { Codec } from './codec.js';
import type { ServerFrame } from './frames.js';

/** Encodes a frame at most once per codec, however many sessions it goes to. */
export class EncodedFrame {
  readonly frame: ServerFrame;
  // One slot per codec (a server has one text and one binary codec): no map per frame.
  private text: { codec: Codec; data: string | Uint8Array } | undefined;
  private binary: { codec: Codec; data: string | Uint8Array } | undefined;
  constructor(frame: ServerFrame) {
    this.frame = frame;
  }
  for(codec: Codec): string | Uint8Array {
    const slot = codec.binary ? this.binary : this.text;
    if (slot !== undefined && slot.codec === codec) return slot.data;
    const encoded = { codec, data: codec.encode(this.frame) };
    if (codec.binary) this.binary = encoded;
    else this.text = encoded;
    return encoded.data;
  }
}
