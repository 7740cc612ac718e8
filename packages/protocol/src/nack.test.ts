import { describe, expect, it } from "vitest";
import { ProtocolErrorCode } from "./errors.js";
import { FLAG_WINDOW, isDecodeFailure, tryDecodeDatagram } from "./header.js";
import { encodeNack, isNackFailure, looksLikeNack, MAX_NACK_ENTRIES, tryDecodeNack, type NackEntry } from "./nack.js";
import { toyAuthenticator } from "./testing/fuzz.js";
import { hex } from "./testing/random.js";
import { looksLikeRepair } from "./window-fec.js";

const STREAM = 0x1234_5678;

/** Byte vectors, each checked four ways: encode, decode, and both round trips. */
const VECTORS: { name: string; entries: NackEntry[]; bytes: string }[] = [
  {
    name: "one chunk",
    entries: [{ frameNumber: 7, firstChunk: 3, chunkCount: 1 }],
    bytes: "55430108" + "12345678" + "0001" + "00" + "00" + "00000007" + "0003" + "0001",
  },
  {
    name: "a range and a whole frame, the frame number wrapping",
    entries: [
      { frameNumber: 0xffff_ffff, firstChunk: 10, chunkCount: 5 },
      { frameNumber: 0, firstChunk: 0, chunkCount: 0xffff },
    ],
    bytes: "55430108" + "12345678" + "0002" + "00" + "00" + "ffffffff" + "000a" + "0005" + "00000000" + "0000" + "ffff",
  },
];

describe("NACK encode/decode", () => {
  it.each(VECTORS)("$name: encodes to the vector, decodes from it, round trips both ways", ({ entries, bytes }) => {
    const encoded = encodeNack(STREAM, entries);
    expect(hex(encoded)).toBe(bytes);
    const decoded = tryDecodeNack(Uint8Array.from(Buffer.from(bytes, "hex")));
    if (isNackFailure(decoded)) throw new Error(decoded.message);
    expect(decoded.streamId).toBe(STREAM);
    expect(decoded.entries).toEqual(entries);
    expect(decoded.tag).toBeUndefined();
    expect(hex(encodeNack(decoded.streamId, decoded.entries))).toBe(bytes);
  });

  it("a tagged NACK: flag A, the tag over everything before it, verified by the same authenticator", () => {
    const auth = toyAuthenticator(42);
    const bytes = encodeNack(STREAM, [{ frameNumber: 1, firstChunk: 0, chunkCount: 2 }], auth);
    expect(bytes[3]).toBe(0x09);
    expect(bytes[10]).toBe(auth.tagBytes);
    const decoded = tryDecodeNack(bytes);
    if (isNackFailure(decoded)) throw new Error(decoded.message);
    expect(auth.verify(decoded.signed, decoded.tag!)).toBe(true);
    expect(toyAuthenticator(43).verify(decoded.signed, decoded.tag!)).toBe(false);
    bytes[13] = bytes[13]! ^ 1;
    const changed = tryDecodeNack(bytes);
    if (isNackFailure(changed)) throw new Error(changed.message);
    expect(auth.verify(changed.signed, changed.tag!)).toBe(false);
  });

  it("fits one 1,472-byte datagram with the most entries and the largest tag", () => {
    const entries = Array.from({ length: MAX_NACK_ENTRIES }, (_, i) => ({
      frameNumber: i,
      firstChunk: 0,
      chunkCount: 1,
    }));
    const big = { tagBytes: 255, sign: () => new Uint8Array(255), verify: () => true };
    expect(encodeNack(STREAM, entries, big).length).toBeLessThanOrEqual(1472);
  });

  it("no video decoder takes a NACK for a datagram: the v1 decoder refuses flag N, and it is no repair", () => {
    const bytes = encodeNack(STREAM, [{ frameNumber: 1, firstChunk: 0, chunkCount: 1 }]);
    const padded = new Uint8Array(64);
    padded.set(bytes);
    const decoded = tryDecodeDatagram(padded);
    expect(isDecodeFailure(decoded) && decoded.code).toBe(ProtocolErrorCode.ReservedBits);
    expect(looksLikeRepair(padded)).toBe(false);
    padded[3] = FLAG_WINDOW;
    expect(looksLikeNack(padded)).toBe(false);
    expect(looksLikeNack(bytes)).toBe(true);
  });

  it("encode names the field out of range", () => {
    expect(() => encodeNack(-1, [{ frameNumber: 0, firstChunk: 0, chunkCount: 1 }])).toThrow(/streamId/);
    expect(() => encodeNack(STREAM, [])).toThrow(/entries.length/);
    expect(() => encodeNack(STREAM, [{ frameNumber: 0, firstChunk: 0, chunkCount: 0 }])).toThrow(
      /entries\[0\].chunkCount/,
    );
    expect(() => encodeNack(STREAM, [{ frameNumber: 2 ** 32, firstChunk: 0, chunkCount: 1 }])).toThrow(
      /entries\[0\].frameNumber/,
    );
    const many = Array.from({ length: MAX_NACK_ENTRIES + 1 }, () => ({ frameNumber: 0, firstChunk: 0, chunkCount: 1 }));
    expect(() => encodeNack(STREAM, many)).toThrow(/entries.length/);
  });

  const good = VECTORS[0]!.bytes;
  const patch = (at: number, byteHex: string): string => good.slice(0, at * 2) + byteHex + good.slice(at * 2 + 2);
  it.each([
    { name: "shorter than the header", bytes: good.slice(0, 22), code: ProtocolErrorCode.Truncated },
    { name: "bad magic", bytes: patch(0, "56"), code: ProtocolErrorCode.BadMagic },
    { name: "version 2", bytes: patch(2, "02"), code: ProtocolErrorCode.UnsupportedVersion },
    { name: "no flag N", bytes: patch(3, "00"), code: ProtocolErrorCode.ReservedBits },
    { name: "flag W with N", bytes: patch(3, "0c"), code: ProtocolErrorCode.ReservedBits },
    { name: "reserved byte set", bytes: patch(11, "01"), code: ProtocolErrorCode.ReservedBits },
    { name: "flag A without a tag", bytes: patch(3, "09"), code: ProtocolErrorCode.OutOfRange },
    { name: "tag bytes without flag A", bytes: patch(10, "10"), code: ProtocolErrorCode.OutOfRange },
    { name: "zero entries", bytes: patch(9, "00"), code: ProtocolErrorCode.OutOfRange },
    { name: "151 entries", bytes: patch(9, "97"), code: ProtocolErrorCode.OutOfRange },
    { name: "two entries announced, one present", bytes: patch(9, "02"), code: ProtocolErrorCode.Truncated },
    { name: "a trailing byte", bytes: good + "00", code: ProtocolErrorCode.TrailingBytes },
    { name: "an entry asking for 0 chunks", bytes: good.slice(0, -4) + "0000", code: ProtocolErrorCode.OutOfRange },
  ])("refuses $name ($code)", ({ bytes, code }) => {
    const result = tryDecodeNack(Uint8Array.from(Buffer.from(bytes, "hex")));
    expect(isNackFailure(result) && result.code).toBe(code);
  });

  it("decodes or fails as data on random bytes shaped like a NACK, never throws", () => {
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0);
    for (let run = 0; run < 5000; run++) {
      const bytes = new Uint8Array(next() % 80);
      for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
      if (bytes.length > 3) bytes.set([0x55, 0x43, 1, 0x08 | (next() & 1)]);
      expect(() => tryDecodeNack(bytes)).not.toThrow();
    }
  });
});
