import { describe, expect, it } from "vitest";
import { ProtocolError, type ProtocolErrorCode } from "./errors.js";
import { decodeDatagram, encodeDatagram, HEADER_BYTES, type Datagram, type DatagramHeader } from "./header.js";
import { fromHex, hex, thrown } from "./testing/random.js";

interface Vector {
  readonly name: string;
  readonly header: DatagramHeader;
  readonly payload: string;
  readonly tag?: string;
  readonly salt?: string;
  readonly bytes: string;
}

/** Written out by hand from the diagram in header.ts, not produced by the encoder. */
const VECTORS: readonly Vector[] = [
  {
    name: "a whole JPEG in one untagged chunk",
    header: {
      streamId: 0x01020304,
      frameNumber: 5,
      frameBytes: 10,
      chunkIndex: 0,
      chunkCount: 1,
      chunkBytes: 100,
      fecGroups: 1,
      fecParityPerGroup: 0,
      codec: "jpeg",
      width: 2,
      height: 3,
      fps: 25,
      timestampMs: 1_700_000_000_000,
      tagBytes: 0,
      encrypted: false,
    },
    payload: "00010203040506070809",
    bytes: `5543 0100 01020304 00000005 0000000a 0000 0001 0064 0001 00 01 00 00 0002 0003 000061a8 00060a24 181e4000
            00010203040506070809`,
  },
  {
    name: "a tagged parity chunk at the last frame number before the wrap",
    header: {
      streamId: 0xffffffff,
      frameNumber: 0xffffffff,
      frameBytes: 12,
      chunkIndex: 4,
      chunkCount: 3,
      chunkBytes: 5,
      fecGroups: 1,
      fecParityPerGroup: 2,
      codec: "raw-bgr24",
      width: 2,
      height: 2,
      fps: 29.97,
      timestampMs: 1_700_000_000_123.456,
      tagBytes: 4,
      encrypted: false,
    },
    payload: "aabbccddee",
    tag: "deadbeef",
    bytes: `5543 0101 ffffffff ffffffff 0000000c 0004 0003 0005 0001 02 00 04 00 0002 0002 00007512 00060a24 18202240
            aabbccddee deadbeef`,
  },
  {
    name: "the short last data chunk",
    header: {
      streamId: 7,
      frameNumber: 0,
      frameBytes: 12,
      chunkIndex: 2,
      chunkCount: 3,
      chunkBytes: 5,
      fecGroups: 1,
      fecParityPerGroup: 0,
      codec: "raw-bgr24",
      width: 2,
      height: 2,
      fps: 0,
      timestampMs: 0,
      tagBytes: 0,
      encrypted: false,
    },
    payload: "0102",
    bytes: `5543 0100 00000007 00000000 0000000c 0002 0003 0005 0001 00 00 00 00 0002 0002 00000000 00000000 00000000
            0102`,
  },
  {
    name: "an encrypted chunk (flags E and A): the salt after the header, the AEAD tag after the ciphertext",
    header: {
      streamId: 9,
      frameNumber: 1,
      frameBytes: 3,
      chunkIndex: 0,
      chunkCount: 1,
      chunkBytes: 1000,
      fecGroups: 1,
      fecParityPerGroup: 0,
      codec: "jpeg",
      width: 1,
      height: 1,
      fps: 25,
      timestampMs: 0,
      tagBytes: 16,
      encrypted: true,
    },
    salt: "000102030405060708090a0b0c0d0e0f",
    payload: "c1c2c3",
    tag: "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
    bytes: `5543 0103 00000009 00000001 00000003 0000 0001 03e8 0001 00 01 10 00 0001 0001 000061a8 00000000 00000000
            000102030405060708090a0b0c0d0e0f c1c2c3 f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff`,
  },
];

describe("v1 datagram byte vectors, four ways", () => {
  for (const v of VECTORS) {
    const bytes = fromHex(v.bytes);
    const payload = fromHex(v.payload);
    const tag = v.tag === undefined ? undefined : fromHex(v.tag);
    const salt = v.salt === undefined ? undefined : fromHex(v.salt);
    const fields = (d: Datagram) => {
      const { payload: p, tag: t, signed: _signed, salt: s, aad: _aad, ...header } = d;
      return {
        header,
        payload: hex(p),
        tag: t === undefined ? undefined : hex(t),
        salt: s === undefined ? undefined : hex(s),
      };
    };
    const expected = { header: v.header, payload: v.payload, tag: v.tag, salt: v.salt };

    it(`${v.name}: encode`, () => {
      expect(hex(encodeDatagram(v.header, payload, tag, salt))).toBe(hex(bytes));
    });
    it(`${v.name}: decode`, () => {
      const d = decodeDatagram(bytes);
      expect(fields(d)).toEqual(expected);
      expect(d.signed.length).toBe(bytes.length - (tag?.length ?? 0));
      expect(d.aad.length).toBe(HEADER_BYTES + (salt?.length ?? 0));
      // Views, not copies.
      expect(d.payload.buffer).toBe(bytes.buffer);
      expect(d.payload.byteOffset).toBe(HEADER_BYTES + (salt?.length ?? 0));
    });
    it(`${v.name}: decode(encode(fields))`, () => {
      expect(fields(decodeDatagram(encodeDatagram(v.header, payload, tag, salt)))).toEqual(expected);
    });
    it(`${v.name}: encode(decode(bytes))`, () => {
      const d = decodeDatagram(bytes);
      expect(hex(encodeDatagram(d, d.payload, d.tag, d.salt))).toBe(hex(bytes));
    });
  }

  it("reads only the bytes it is given (a view into a larger buffer)", () => {
    const bytes = fromHex(VECTORS[0]!.bytes);
    const big = new Uint8Array(bytes.length + 20).fill(0xee);
    big.set(bytes, 7);
    const d = decodeDatagram(big.subarray(7, 7 + bytes.length));
    expect(d.frameNumber).toBe(5);
    expect(hex(d.payload)).toBe(VECTORS[0]!.payload);
  });
});

function patched(offset: number, ...values: number[]): Uint8Array {
  const bytes = fromHex(VECTORS[0]!.bytes);
  bytes.set(values, offset);
  return bytes;
}

const base = fromHex(VECTORS[0]!.bytes);
const tagged = fromHex(VECTORS[1]!.bytes);
const encrypted = fromHex(VECTORS[3]!.bytes);

describe("datagrams that must fail", () => {
  const cases: [string, Uint8Array, ProtocolErrorCode, number][] = [
    ["empty", new Uint8Array(0), "TRUNCATED", 0],
    ["one byte", Uint8Array.of(0x55), "TRUNCATED", 1],
    ["wrong magic", patched(1, 0x44), "BAD_MAGIC", 0],
    ["a legacy datagram's first bytes", Uint8Array.of(3, 0, 0, 0), "BAD_MAGIC", 0],
    ["magic only", Uint8Array.of(0x55, 0x43), "TRUNCATED", 2],
    ["version 2", patched(2, 2), "UNSUPPORTED_VERSION", 2],
    ["version 0", patched(2, 0), "UNSUPPORTED_VERSION", 2],
    ["header cut at 43 bytes", base.subarray(0, 43), "TRUNCATED", 43],
    ["a reserved flag", patched(3, 0x08), "RESERVED_BITS", 3],
    ["flag W with the window sequence number missing: payload one short", patched(3, 0x04), "TRUNCATED", base.length],
    ["the highest reserved flag", patched(3, 0x80), "RESERVED_BITS", 3],
    ["encrypted (E) without a tag (A)", patched(3, 0x02), "OUT_OF_RANGE", 3],
    ["encrypted, cut inside the salt", encrypted.subarray(0, 50), "TRUNCATED", 50],
    [
      "encrypted, the tag one byte short",
      encrypted.subarray(0, encrypted.length - 1),
      "TRUNCATED",
      encrypted.length - 1,
    ],
    ["encrypted, one byte after the tag", Uint8Array.of(...encrypted, 0), "TRAILING_BYTES", encrypted.length],
    ["the reserved byte", patched(27, 1), "RESERVED_BITS", 27],
    ["tag flag without tag bytes", patched(3, 0x01), "OUT_OF_RANGE", 26],
    ["tag bytes without the flag", patched(26, 4), "OUT_OF_RANGE", 26],
    ["codec 7", patched(25, 7), "UNKNOWN_CODEC", 25],
    ["frame bytes 0", patched(12, 0, 0, 0, 0), "OUT_OF_RANGE", 12],
    ["chunk count not ceil(N/P)", patched(18, 0, 2), "OUT_OF_RANGE", 18],
    ["chunk bytes 0", patched(20, 0, 0), "OUT_OF_RANGE", 20],
    ["chunk index past the chunks", patched(16, 0, 1), "OUT_OF_RANGE", 16],
    ["two FEC groups without parity", patched(22, 0, 2), "OUT_OF_RANGE", 22],
    ["width 0", patched(28, 0, 0), "OUT_OF_RANGE", 28],
    ["height 0", patched(30, 0, 0), "OUT_OF_RANGE", 30],
    ["raw-bgr24 of the wrong size", patched(25, 0), "OUT_OF_RANGE", 12],
    ["capture time past 2^53 µs", patched(36, 0x00, 0x20, 0, 0), "OUT_OF_RANGE", 36],
    ["payload one byte short", base.subarray(0, base.length - 1), "TRUNCATED", base.length - 1],
    ["one byte after the payload", Uint8Array.of(...base, 0), "TRAILING_BYTES", base.length],
    ["tag missing", tagged.subarray(0, tagged.length - 4), "TRUNCATED", tagged.length - 4],
  ];

  it.each(cases)("%s", (_name, bytes, code, offset) => {
    const caught = thrown(() => decodeDatagram(bytes));
    expect(ProtocolError.isInstance(caught)).toBe(true);
    expect(caught).toBeInstanceOf(ProtocolError);
    expect(caught).toMatchObject({ code, offset, name: "ProtocolError" });
    expect((caught as Error).message).toContain(`${code} at offset ${offset}:`);
  });

  it("names the offending value", () => {
    expect(() => decodeDatagram(patched(25, 7))).toThrow("codec 7 is unknown");
    expect(() => decodeDatagram(patched(2, 9))).toThrow("version 9");
    expect(() => decodeDatagram(patched(0, 0xab, 0xcd))).toThrow("got 0xabcd");
  });
});

describe("encode rejects out-of-range fields by name", () => {
  const good = VECTORS[0]!.header;
  const payload = fromHex(VECTORS[0]!.payload);
  it.each<[string, Partial<Record<keyof DatagramHeader, unknown>>, string]>([
    ["negative stream id", { streamId: -1 }, "streamId"],
    ["stream id past u32", { streamId: 2 ** 32 }, "streamId"],
    ["fractional frame number", { frameNumber: 1.5 }, "frameNumber"],
    ["width 0", { width: 0 }, "width"],
    ["height past u16", { height: 70_000 }, "height"],
    ["negative fps", { fps: -1 }, "fps"],
    ["NaN fps", { fps: Number.NaN }, "fps"],
    ["negative time", { timestampMs: -1 }, "timestampMs"],
    ["unknown codec", { codec: "h264" }, "codec"],
    ["tag bytes past u8", { tagBytes: 256 }, "tagBytes"],
    ["wrong chunk count", { chunkCount: 2 }, "chunkCount"],
  ])("%s", (_name, change, field) => {
    const header = { ...good, ...change } as DatagramHeader;
    expect(() => encodeDatagram(header, payload)).toThrow(RangeError);
    expect(() => encodeDatagram(header, payload)).toThrow(field);
  });

  it("checks the payload and tag lengths", () => {
    expect(() => encodeDatagram(good, payload.subarray(1))).toThrow("payload must be 10 bytes");
    expect(() => encodeDatagram(good, payload, Uint8Array.of(1))).toThrow("tag must be tagBytes = 0 bytes");
  });
});

describe("ProtocolError", () => {
  it("is recognised across copies of the package by its Symbol.for marker", () => {
    const foreign = Object.assign(new Error("x"), {
      [Symbol.for("@udpcam/protocol.ProtocolError")]: true,
      code: "TRUNCATED",
    });
    expect(ProtocolError.isInstance(foreign)).toBe(true);
    expect(ProtocolError.isInstance(new Error("x"))).toBe(false);
    expect(ProtocolError.isInstance(null)).toBe(false);
    expect(ProtocolError.isInstance("TRUNCATED")).toBe(false);
  });
});
