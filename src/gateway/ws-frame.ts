// Server-to-client WebSocket frames built here instead of by ws, so that a frame is framed once
// however many connections it goes to.
//
// ws frames every `send` for its one socket: it measures the string, allocates a header, and
// writes header and payload as two chunks (a writev), converting the string to UTF-8 on the way.
// A push to a group of 1,000 members paid that 1,000 times for the same bytes. Here a frame
// becomes one Buffer (RFC 6455 §5.2: FIN, opcode, unmasked length, payload) that every
// recipient's socket writes as it is, and the last frame built is remembered: the router hands
// every recipient of one push the very same encoded string, so all but the first find it here.
//
// Only for connections without extensions (ws's server default, and Parley's: no
// permessage-deflate), where a frame on the wire is exactly header + payload.

const FIN_TEXT = 0x81;
const FIN_BINARY = 0x82;

let lastData: string | Uint8Array | undefined;
let lastFrame: Buffer | undefined;

/** The whole frame for `data`: a text frame for a string, a binary one for bytes. */
export function wsFrame(data: string | Uint8Array): Buffer {
  if (data === lastData && lastFrame !== undefined) return lastFrame;
  const text = typeof data === 'string';
  const length = text ? Buffer.byteLength(data) : data.byteLength;
  const headerBytes = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerBytes + length);
  frame[0] = text ? FIN_TEXT : FIN_BINARY;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  if (text) frame.write(data, headerBytes, 'utf8');
  else frame.set(data, headerBytes);
  lastData = data;
  lastFrame = frame;
  return frame;
}
