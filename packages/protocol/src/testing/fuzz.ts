import { expect } from "vitest";
import type { Authenticator } from "../auth.js";
import { PROTOCOL_ERROR_CODES, ProtocolError } from "../errors.js";
import { decodeDatagram, isDecodeFailure, tryDecodeDatagram } from "../header.js";
import { packetizeFrame } from "../packetize.js";
import { createReassembler } from "../reassembler.js";
import { firstDifference, prng, randomBytes } from "./random.js";

/**
 * A keyed 64-bit checksum, cheap enough for a million datagrams (tests only: not cryptographic).
 * The shifts after each multiply carry every input bit into the low bits too; without them a
 * flipped high bit only ever changes high bits and collides often (the fuzz run found one).
 */
export function toyAuthenticator(key: number): Authenticator {
  const mix = (a: number, word: number): number => {
    let x = Math.imul(a ^ word, 0x85ebca6b);
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35);
    return (x ^ (x >>> 16)) >>> 0;
  };
  const sign = (bytes: Uint8Array): Uint8Array => {
    let a = key >>> 0;
    let b = 0x9e3779b9;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const words = bytes.length >>> 2;
    for (let i = 0; i < words; i++) {
      a = mix(a, view.getUint32(i * 4));
      b = (b + a) >>> 0;
    }
    for (let i = words * 4; i < bytes.length; i++) {
      a = mix(a, bytes[i]!);
      b = (b + a) >>> 0;
    }
    a = mix(a, bytes.length);
    b = mix(b, a);
    return Uint8Array.of(a >>> 24, a >>> 16, a >>> 8, a, b >>> 24, b >>> 16, b >>> 8, b);
  };
  return { tagBytes: 8, sign, verify: (bytes, tag) => firstDifference(sign(bytes), tag) === -1 };
}

/**
 * The fuzz contract, over `count` datagrams: real datagrams of a few streams, mutated (bit flips,
 * byte writes, cuts, extensions, header fields set to extremes) or not, mixed with random bytes.
 * - decode returns or throws ProtocolError, nothing else;
 * - the reassembler never throws, stays inside its limits, and (with a key) emits only frames
 *   byte-identical to what was sent;
 * - afterwards it still reassembles a clean frame.
 */
export function fuzzReassembler(count: number, seed: number): { emitted: number; malformed: number } {
  const random = prng(seed);
  const key = toyAuthenticator(seed);
  const limits = {
    maxFramesInFlight: 8,
    maxStreams: 4,
    maxBufferedBytes: 8 << 20,
    maxFrameBytes: 4 << 20,
    authenticator: key,
  };
  const r = createReassembler(limits);
  const sent = new Map<string, Uint8Array>();
  let pool: Uint8Array[] = [];
  let frameNumber = 0;
  let emitted = 0;
  const refill = (): void => {
    const streamId = (random() * 3) | 0;
    const payload = randomBytes(random, 1 + ((random() * 4000) | 0));
    const n = frameNumber++;
    sent.set(`${streamId}/${n}`, payload);
    pool = packetizeFrame(
      { streamId, frameNumber: n, codec: "jpeg", width: 320, height: 240, fps: 25, timestampMs: n, payload },
      { maxDatagramBytes: 200 + ((random() * 1300) | 0), fecOverhead: random() * 0.5, authenticator: key },
    );
  };
  for (let i = 0; i < count; i++) {
    if (pool.length === 0) refill();
    const pick = (random() * pool.length) | 0;
    const original = pool[pick]!;
    let datagram: Uint8Array;
    const kind = random();
    if (kind < 0.4) {
      datagram = original;
      pool.splice(pick, 1);
    } else if (kind < 0.9) {
      datagram = mutate(random, original);
    } else {
      datagram = randomBytes(random, (random() * 300) | 0);
      if (random() < 0.5 && datagram.length >= 3) datagram.set([0x55, 0x43, 1]);
    }
    const result = tryDecodeDatagram(datagram);
    checkDecoders(
      isDecodeFailure(result) ? result.code : undefined,
      i % 10 === 0 ? () => decodeDatagram(datagram) : undefined,
    );
    for (const event of r.push(datagram, i)) {
      if (event.type !== "frame") continue;
      emitted++;
      // Plain checks: expect() per frame costs more than the frame.
      const expected = sent.get(`${event.streamId}/${event.frameNumber}`);
      if (expected === undefined || firstDifference(event.payload, expected) !== -1) {
        throw new Error(
          `emitted a frame that was not sent: stream ${event.streamId} frame ${event.frameNumber} at ${i}: known ${expected !== undefined}, length ${event.payload.length} vs ${expected?.length}, first difference ${expected ? firstDifference(event.payload, expected) : -2}, recovered ${event.recovered}`,
        );
      }
    }
    if (i % 1000 === 0) {
      r.expire(i);
      const c = r.counters;
      expect(c.framesInFlight).toBeLessThanOrEqual(limits.maxFramesInFlight * limits.maxStreams);
      expect(c.bufferedBytes).toBeLessThanOrEqual(limits.maxBufferedBytes);
      expect(c.streams).toBeLessThanOrEqual(limits.maxStreams);
    }
  }
  // Still usable: a clean frame from a new stream comes through whole.
  const payload = randomBytes(random, 5000);
  const events = packetizeFrame(
    { streamId: 99, frameNumber: 0, codec: "jpeg", width: 1, height: 1, fps: 1, timestampMs: 0, payload },
    { authenticator: key },
  ).flatMap((d) => r.push(d, count));
  const last = events.find((e) => e.type === "frame");
  expect(last && last.type === "frame" && firstDifference(last.payload, payload)).toBe(-1);
  return { emitted, malformed: r.counters.datagramsMalformed + r.counters.datagramsUnauthenticated };
}

const EXTREMES = [0, 1, 0x7f, 0x80, 0xff];
const CODES = new Set<string>(PROTOCOL_ERROR_CODES);

/**
 * What fuzzing asks of a pair of decoders: the non-throwing one's failure `code` is one of ours,
 * and `decode` (the throwing one, given for one input in ten: an Error with its stack costs more
 * than all the rest of a fuzz loop) throws nothing but a ProtocolError.
 */
export function checkDecoders(code: string | undefined, decode: (() => unknown) | undefined): void {
  if (code !== undefined && !CODES.has(code)) throw new Error(`unknown code ${code}`);
  try {
    decode?.();
  } catch (error) {
    if (!ProtocolError.isInstance(error)) throw error;
  }
}

/**
 * A copy of `original` cut, extended, or with one to three bytes flipped, set to an extreme or
 * random; the bytes edited are within the first `headerBytes` most of the time.
 */
export function mutate(
  random: () => number,
  original: Uint8Array,
  headerBytes = 44,
  extremes: readonly number[] = EXTREMES,
): Uint8Array {
  const kind = (random() * 5) | 0;
  if (kind === 0) return original.slice(0, (random() * original.length) | 0);
  if (kind === 1) {
    const longer = new Uint8Array(original.length + 1 + ((random() * 40) | 0));
    longer.set(original);
    return longer;
  }
  const copy = original.slice();
  const edits = 1 + ((random() * 3) | 0);
  for (let e = 0; e < edits; e++) {
    // Header bytes most of the time: that is where the checks are.
    const at = random() < 0.7 ? (random() * Math.min(headerBytes, copy.length)) | 0 : (random() * copy.length) | 0;
    if (kind === 2) copy[at]! ^= 1 << ((random() * 8) | 0);
    else if (kind === 3) copy[at] = extremes[(random() * extremes.length) | 0]!;
    else copy[at] = (random() * 256) | 0;
  }
  return copy;
}
