/**
 * One frame to a browser over the WebSocket: a fixed header, then the JPEG.
 * Shared by the server (encode) and the page (decode); no Node or DOM here.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    version    |           frame number (u32, big-endian) ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  ...            |     capture time (f64, ms since the epoch) ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  ...                                                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  ...            |          width (u16)          |  height (u16) ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  ...            |  JPEG bytes ...
 * +-+-+-+-+-+-+-+-+
 */
export const FRAME_MESSAGE_VERSION = 1;
const VERSION_OFFSET = 0;
const FRAME_NUMBER_OFFSET = 1;
const CAPTURE_TIME_OFFSET = 5;
const WIDTH_OFFSET = 13;
const HEIGHT_OFFSET = 15;
export const FRAME_MESSAGE_HEADER_BYTES = 17;

export interface FrameMessageHeader {
  readonly frameNumber: number;
  /** The sender's capture time, ms since the Unix epoch. */
  readonly captureTime: number;
  readonly width: number;
  readonly height: number;
}

/** The header and the JPEG in one buffer (one copy, shared by every viewer of the frame). */
export function encodeFrameMessage(header: FrameMessageHeader, jpeg: Uint8Array): Uint8Array<ArrayBuffer> {
  const message = new Uint8Array(FRAME_MESSAGE_HEADER_BYTES + jpeg.byteLength);
  const view = new DataView(message.buffer);
  view.setUint8(VERSION_OFFSET, FRAME_MESSAGE_VERSION);
  view.setUint32(FRAME_NUMBER_OFFSET, header.frameNumber >>> 0);
  view.setFloat64(CAPTURE_TIME_OFFSET, header.captureTime);
  view.setUint16(WIDTH_OFFSET, header.width);
  view.setUint16(HEIGHT_OFFSET, header.height);
  message.set(jpeg, FRAME_MESSAGE_HEADER_BYTES);
  return message;
}

/** The header and a view of the JPEG, or a reason the message is not one of ours. */
export function decodeFrameMessage(
  message: Uint8Array,
): { header: FrameMessageHeader; jpeg: Uint8Array } | { error: string } {
  if (message.byteLength < FRAME_MESSAGE_HEADER_BYTES)
    return { error: `a frame message has at least ${FRAME_MESSAGE_HEADER_BYTES} bytes, got ${message.byteLength}` };
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const version = view.getUint8(VERSION_OFFSET);
  if (version !== FRAME_MESSAGE_VERSION)
    return { error: `frame message version ${version}, expected ${FRAME_MESSAGE_VERSION}` };
  return {
    header: {
      frameNumber: view.getUint32(FRAME_NUMBER_OFFSET),
      captureTime: view.getFloat64(CAPTURE_TIME_OFFSET),
      width: view.getUint16(WIDTH_OFFSET),
      height: view.getUint16(HEIGHT_OFFSET),
    },
    jpeg: message.subarray(FRAME_MESSAGE_HEADER_BYTES),
  };
}
