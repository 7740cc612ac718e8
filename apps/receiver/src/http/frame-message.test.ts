import { describe, expect, it } from "vitest";
import { FRAME_MESSAGE_HEADER_BYTES, decodeFrameMessage, encodeFrameMessage } from "./frame-message.js";

describe("frame message", () => {
  const header = { frameNumber: 0xfedcba98, captureTime: 1_764_620_000_123.456, width: 1280, height: 720 };
  const jpeg = new Uint8Array([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);

  it("lays out version, frame number, capture time, width, height, then the JPEG (big-endian)", () => {
    const message = encodeFrameMessage(header, jpeg);
    expect(message.byteLength).toBe(FRAME_MESSAGE_HEADER_BYTES + jpeg.byteLength);
    expect([...message.subarray(0, 5)]).toEqual([1, 0xfe, 0xdc, 0xba, 0x98]);
    expect(new DataView(message.buffer).getFloat64(5)).toBe(header.captureTime);
    expect([...message.subarray(13, 17)]).toEqual([0x05, 0x00, 0x02, 0xd0]);
    expect([...message.subarray(17)]).toEqual([...jpeg]);
  });

  it("decodes what it encodes, also from a view into a larger buffer", () => {
    const message = encodeFrameMessage(header, jpeg);
    const padded = new Uint8Array(message.byteLength + 8);
    padded.set(message, 4);
    for (const bytes of [message, padded.subarray(4, 4 + message.byteLength)]) {
      const decoded = decodeFrameMessage(bytes);
      expect(decoded).toMatchObject({ header });
      expect("jpeg" in decoded && [...decoded.jpeg]).toEqual([...jpeg]);
    }
  });

  it.each([
    { name: "too short", bytes: new Uint8Array(16), error: /at least 17 bytes, got 16/ },
    { name: "another version", bytes: Object.assign(new Uint8Array(20), { 0: 2 }), error: /version 2/ },
  ])("refuses a message $name", ({ bytes, error }) => {
    const decoded = decodeFrameMessage(bytes);
    expect("error" in decoded && decoded.error).toMatch(error);
  });
});
