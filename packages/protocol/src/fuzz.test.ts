import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError } from "./errors.js";
import { decodeDatagram } from "./header.js";
import { createLegacyReassembler, decodeLegacyDatagram } from "./legacy.js";
import { packetizeFrame } from "./packetize.js";
import { createReassembler } from "./reassembler.js";
import { decodeRtpJpeg } from "./rtp-jpeg-header.js";
import { fuzzReassembler } from "./testing/fuzz.js";
import { fuzzRtpJpegReassembler } from "./testing/rtp-jpeg.js";
import { firstDifference } from "./testing/random.js";

function decodesOrThrowsOurs(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): boolean {
  try {
    decode(bytes);
    return true;
  } catch (error) {
    return ProtocolError.isInstance(error);
  }
}

/** Bytes that often start like a v1 header, so the checks past the magic get exercised. */
const v1ish = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.uint8Array({ minLength: 41, maxLength: 200 }).map((b) => Uint8Array.of(0x55, 0x43, 1, ...b)),
);

describe("any bytes", () => {
  it("decode as v1 or throw ProtocolError", () => {
    fc.assert(
      fc.property(v1ish, (bytes) => decodesOrThrowsOurs(decodeDatagram, bytes)),
      { numRuns: 5000 },
    );
  });

  it("decode as legacy or throw ProtocolError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => decodesOrThrowsOurs(decodeLegacyDatagram, bytes)),
    );
  });

  it("leave the reassemblers usable", () => {
    fc.assert(
      fc.property(
        fc.array(v1ish, { maxLength: 30 }),
        fc.uint8Array({ minLength: 1, maxLength: 5000 }),
        (garbage, payload) => {
          const r = createReassembler();
          const legacy = createLegacyReassembler();
          for (const bytes of garbage) {
            r.push(bytes, 0);
            legacy.push(bytes);
          }
          const frame = {
            streamId: 7,
            frameNumber: 1_000_000,
            codec: "jpeg" as const,
            width: 1,
            height: 1,
            fps: 1,
            timestampMs: 0,
            payload,
          };
          const out = packetizeFrame(frame).flatMap((d) => r.push(d, 0));
          const got = out.find((e) => e.type === "frame");
          return got !== undefined && got.type === "frame" && firstDifference(got.payload, payload) === -1;
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("packetize -> shuffle -> reassemble", () => {
  it("gives back identical bytes for any frame, datagram size and FEC setting, losing up to m chunks", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 30_000 }),
        fc.integer({ min: 64, max: 3000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 128 }),
        fc.integer(),
        (payload, maxDatagramBytes, fecOverhead, fecGroupSize, seed) => {
          const frame = {
            streamId: 1,
            frameNumber: 2,
            codec: "jpeg" as const,
            width: 3,
            height: 4,
            fps: 5,
            timestampMs: 6,
            payload,
          };
          const datagrams = packetizeFrame(frame, { maxDatagramBytes, fecOverhead, fecGroupSize });
          const first = decodeDatagram(datagrams[0]!);
          // Lose one data chunk of each group that has parity.
          const lost = new Set<number>();
          if (first.fecParityPerGroup > 0) for (let g = 0; g < first.fecGroups; g++) lost.add(g);
          const shuffled = fc.sample(
            fc.shuffledSubarray(
              datagrams.filter((_, i) => !lost.has(i)),
              { minLength: datagrams.length - lost.size },
            ),
            { seed, numRuns: 1 },
          )[0]!;
          const r = createReassembler();
          const frames = shuffled.flatMap((d) => r.push(d, 0)).filter((e) => e.type === "frame");
          expect(frames).toHaveLength(1);
          const [out] = frames;
          expect(out!.type === "frame" && firstDifference(out!.payload, payload)).toBe(-1);
          expect(out!.type === "frame" && out!.recovered).toBe(lost.size > 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("fuzz (fixed budget)", () => {
  it("100,000 real, mutated and random datagrams: decode or throw ours, bounded, only true frames emitted", () => {
    const { emitted, malformed } = fuzzReassembler(100_000, 1);
    expect(emitted).toBeGreaterThan(100);
    expect(malformed).toBeGreaterThan(10_000);
  }, 60_000);
});

describe("RTP/JPEG fuzz (fixed budget)", () => {
  it("any bytes decode as RTP/JPEG or throw ProtocolError", () => {
    const rtpish = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.uint8Array({ minLength: 19, maxLength: 300 }).map((b) => Uint8Array.of(0x80, 26, ...b)),
    );
    fc.assert(
      fc.property(rtpish, (bytes) => decodesOrThrowsOurs(decodeRtpJpeg, bytes)),
      { numRuns: 5000 },
    );
  });

  it("50,000 real, mutated and random packets: decode or throw ours, bounded, clean streams emit only what was sent", () => {
    const { emitted, malformed } = fuzzRtpJpegReassembler(50_000, 3);
    expect(emitted).toBeGreaterThan(100);
    expect(malformed).toBeGreaterThan(5_000);
  }, 60_000);
});
