import { describe, expect, it } from "vitest";
import { ProtocolError } from "./errors.js";
import { decodeRtpJpeg, encodeRtpJpeg, tryDecodeRtpJpeg, type RtpJpegPacket } from "./rtp-jpeg-header.js";
import { fromHex, hex, thrown } from "./testing/random.js";

const BASE: RtpJpegPacket = {
  payloadType: 26,
  marker: false,
  sequence: 0xfffe,
  timestamp: 0x01020304,
  ssrc: 0xdeadbeef,
  typeSpecific: 0,
  fragmentOffset: 0x000102,
  type: 1,
  q: 80,
  width: 640,
  height: 480,
  restartInterval: 0,
  restart: undefined,
  tablePrecision: 0,
  tables: undefined,
  payload: Uint8Array.of(0xaa, 0xbb),
};

/** Each vector checked four ways: encode, decode, and both round trips. */
const VECTORS: { name: string; packet: RtpJpegPacket; bytes: string }[] = [
  {
    name: "a middle fragment, type 1, Q 80",
    packet: BASE,
    bytes: "80 1a fffe 01020304 deadbeef  00 000102 01 50 50 3c  aabb",
  },
  {
    name: "the last fragment (marker), type 0",
    packet: { ...BASE, marker: true, type: 0, sequence: 0, fragmentOffset: 0xffffff },
    bytes: "80 9a 0000 01020304 deadbeef  00 ffffff 00 50 50 3c  aabb",
  },
  {
    name: "a first fragment with in-band tables (Q 255)",
    packet: { ...BASE, q: 255, fragmentOffset: 0, tables: Uint8Array.of(1, 2, 3), width: 16, height: 2040 },
    bytes: "80 1a fffe 01020304 deadbeef  00 000000 01 ff 02 ff  00 00 0003 010203  aabb",
  },
  {
    name: "a restart type (65) with its restart marker header",
    packet: { ...BASE, type: 65, restartInterval: 0x0102, restart: { first: true, last: false, count: 5 } },
    bytes: "80 1a fffe 01020304 deadbeef  00 000102 41 50 50 3c  0102 8005  aabb",
  },
];

describe("RTP/JPEG byte vectors", () => {
  it.each(VECTORS)("$name", ({ packet, bytes }) => {
    const wire = fromHex(bytes);
    expect(hex(encodeRtpJpeg(packet))).toBe(hex(wire));
    const decoded = decodeRtpJpeg(wire);
    expect({ ...decoded, payload: hex(decoded.payload), tables: decoded.tables && hex(decoded.tables) }).toEqual({
      ...packet,
      payload: hex(packet.payload),
      tables: packet.tables && hex(packet.tables),
    });
    expect(hex(encodeRtpJpeg(decoded))).toBe(hex(wire));
    expect(decodeRtpJpeg(encodeRtpJpeg(packet)).payload).toEqual(packet.payload);
  });

  it("skips CSRCs and a header extension, and strips padding", () => {
    const wire = fromHex(
      "b1 1a 0001 00000002 00000003  11111111  beef 0001 22222222  00 000000 01 50 02 02  aabb  000003",
    );
    const p = decodeRtpJpeg(wire);
    expect(hex(p.payload)).toBe("aabb");
    expect(p.width).toBe(16);
  });
});

const BAD: { name: string; bytes: string; code: string }[] = [
  { name: "empty", bytes: "", code: "TRUNCATED" },
  { name: "RTP version 1", bytes: "40 1a 0000 00000000 00000000 00 000000 01 50 02 02", code: "UNSUPPORTED_VERSION" },
  {
    name: "a udpcam v1 datagram ('U' = 0x55 reads as RTP version 1)",
    bytes: "5543 01 00 00000000 00000000 00000000",
    code: "UNSUPPORTED_VERSION",
  },
  { name: "shorter than the RTP header", bytes: "80 1a 0000 00000000 0000", code: "TRUNCATED" },
  { name: "shorter than the JPEG header", bytes: "80 1a 0000 00000000 00000000 00 0000", code: "TRUNCATED" },
  { name: "type 2", bytes: "80 1a 0000 00000000 00000000 00 000000 02 50 02 02", code: "UNSUPPORTED_TYPE" },
  { name: "type 128", bytes: "80 1a 0000 00000000 00000000 00 000000 80 50 02 02", code: "UNSUPPORTED_TYPE" },
  { name: "Q 0", bytes: "80 1a 0000 00000000 00000000 00 000000 01 00 02 02", code: "OUT_OF_RANGE" },
  { name: "Q 100 (reserved)", bytes: "80 1a 0000 00000000 00000000 00 000000 01 64 02 02", code: "OUT_OF_RANGE" },
  { name: "width 0", bytes: "80 1a 0000 00000000 00000000 00 000000 01 50 00 02", code: "OUT_OF_RANGE" },
  {
    name: "padding longer than the packet",
    bytes: "a0 1a 0000 00000000 00000000 00 000000 01 50 02 02 ff",
    code: "OUT_OF_RANGE",
  },
  { name: "CSRCs past the end", bytes: "8f 1a 0000 00000000 00000000 00 000000 01 50 02 02", code: "TRUNCATED" },
  { name: "restart header cut", bytes: "80 1a 0000 00000000 00000000 00 000000 40 50 02 02 00", code: "TRUNCATED" },
  { name: "table header cut", bytes: "80 1a 0000 00000000 00000000 00 000000 01 ff 02 02 00 00", code: "TRUNCATED" },
  {
    name: "tables longer than the packet",
    bytes: "80 1a 0000 00000000 00000000 00 000000 01 ff 02 02 00 00 0080 0102",
    code: "TRUNCATED",
  },
];

describe("RTP/JPEG packets that must fail", () => {
  for (const { name, bytes, code } of BAD) {
    it(`${name}: ${code}`, () => {
      const wire = fromHex(bytes);
      const result = tryDecodeRtpJpeg(wire);
      expect("code" in result && result.code).toBe(code);
      const error = thrown(() => decodeRtpJpeg(wire));
      expect(ProtocolError.isInstance(error) && error.code).toBe(code);
    });
  }

  it("encode names the field out of range", () => {
    expect(() => encodeRtpJpeg({ ...BASE, width: 2048 })).toThrow(/width must be an integer from 8 to 2040/);
    expect(() => encodeRtpJpeg({ ...BASE, width: 20 })).toThrow(/multiples of 8/);
    expect(() => encodeRtpJpeg({ ...BASE, sequence: 65_536 })).toThrow(/sequence/);
    expect(() => encodeRtpJpeg({ ...BASE, fragmentOffset: 1 << 24 })).toThrow(/fragmentOffset/);
    expect(() => encodeRtpJpeg({ ...BASE, q: 255, fragmentOffset: 0 })).toThrow(/tables must be given/);
  });
});
