import { ProtocolError, type Codec } from './codec.js';

const decoder = new TextDecoder();

export const jsonCodec: Codec = {
  name: 'parley.v1.json',
  binary: false,
  encode: (frame) => JSON.stringify(frame),
  decode(data) {
    let value: unknown;
    try {
      value = JSON.parse(typeof data === 'string' ? data : decoder.decode(data));
    } catch {
      throw new ProtocolError('A frame must be one JSON object.', { fatal: true });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ProtocolError('A frame must be one JSON object.', { fatal: true });
    }
    const frame = value as { type?: unknown; id?: unknown };
    if (typeof frame.type !== 'string') {
      throw new ProtocolError('A frame needs a string "type".', {
        fatal: false,
        frameId: typeof frame.id === 'string' ? frame.id : undefined,
      });
    }
    return value as { type: string };
  },
};
