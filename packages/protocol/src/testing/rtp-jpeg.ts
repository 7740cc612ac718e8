import { expect } from "vitest";
import { parseRtpJpegSource } from "../jpeg-parse.js";
import { decodeRtpJpeg, tryDecodeRtpJpeg } from "../rtp-jpeg-header.js";
import { packetizeRtpJpeg } from "../rtp-jpeg-packetize.js";
import { createRtpJpegReassembler } from "../rtp-jpeg-reassembler.js";
import { JPEG_YUV420 } from "./jpeg-fixtures.js";
import { checkDecoders, mutate } from "./fuzz.js";
import { firstDifference, prng, randomBytes } from "./random.js";

/** A JPEG with OpenCV's headers (16x16 4:2:0) and `scan` as its scan: any size of frame, cheaply. */
export function syntheticJpeg(scan: Uint8Array): Uint8Array {
  const headers = JPEG_YUV420.subarray(0, JPEG_YUV420.length - 2 - parseRtpJpegSource(JPEG_YUV420).scan.length);
  const out = new Uint8Array(headers.length + scan.length + 2);
  out.set(headers);
  out.set(scan, headers.length);
  out.set([0xff, 0xd9], headers.length + scan.length);
  return out;
}

/** Random scan bytes that cannot end like EOI (a 0xff last byte would make the tail look like one). */
export function randomScan(random: () => number, length: number): Uint8Array {
  const scan = randomBytes(random, length);
  if (scan.length > 0) scan[scan.length - 1] = 0x00;
  return scan;
}

/** Mutated packets go to SSRCs from here. */
const DIRTY_SSRC = 1000;
/** RTP 12, JPEG 8, table header 4 + 128: where the checks are. */
const RTP_HEADERS_BYTES = 152;
const EXTREMES = [0, 1, 0x3f, 0x40, 0x41, 0x7f, 0x80, 0xfe, 0xff];

/**
 * The fuzz contract for RTP/JPEG, over `count` packets: real packets of three SSRCs, mutated (bit
 * flips, extreme bytes, cuts, extensions) or not, mixed with random bytes.
 * - decode returns or throws ProtocolError with a known code, nothing else;
 * - the reassembler never throws and stays inside its limits;
 * - RTP carries no check of its own, so a mutated packet is given another SSRC (a "dirty" stream):
 *   every frame of a clean stream carries a scan that was sent, byte for byte, and every frame of
 *   any stream is a JPEG file (SOI ... EOI);
 * - afterwards it still rebuilds a clean frame.
 */
export function fuzzRtpJpegReassembler(count: number, seed: number): { emitted: number; malformed: number } {
  const random = prng(seed);
  const limits = { maxFramesInFlight: 4, maxStreams: 4, maxBufferedBytes: 1 << 20, maxFrameBytes: 1 << 18 };
  const r = createRtpJpegReassembler(limits);
  const sent = new Set<string>();
  const key = (ssrc: number, scan: Uint8Array): string =>
    `${ssrc}/${scan.length}/${Array.from(scan.subarray(0, 16)).join(",")}/${Array.from(scan.subarray(-16)).join(",")}`;
  const scans = new Map<string, Uint8Array>();
  let pool: Uint8Array[] = [];
  let timestamp = (random() * 0x1_0000_0000) >>> 0;
  let sequence = (random() * 0x1_0000) | 0;
  let emitted = 0;
  const refill = (): void => {
    const ssrc = (random() * 3) | 0;
    const scan = randomScan(random, 1 + ((random() * 6000) | 0));
    timestamp = (timestamp + 3600) >>> 0;
    pool = packetizeRtpJpeg(
      { ssrc, sequence, timestamp, jpeg: syntheticJpeg(scan) },
      { maxDatagramBytes: 200 + ((random() * 1300) | 0) },
    );
    sequence = (sequence + pool.length) & 0xffff;
    sent.add(key(ssrc, scan));
    scans.set(key(ssrc, scan), scan);
  };
  for (let i = 0; i < count; i++) {
    if (pool.length === 0) refill();
    // Mostly in order, sometimes not: the reassembler places by offset.
    const pick = random() < 0.8 ? 0 : (random() * pool.length) | 0;
    const original = pool[pick]!;
    let packet: Uint8Array;
    const kind = random();
    if (kind < 0.5) {
      packet = original;
      pool.splice(pick, 1);
    } else if (kind < 0.9) {
      packet = mutate(random, original, RTP_HEADERS_BYTES, EXTREMES);
    } else {
      packet = randomBytes(random, (random() * 200) | 0);
      if (random() < 0.7 && packet.length > 0) packet[0] = 0x80;
    }
    if (packet !== original && packet.length >= 12)
      new DataView(packet.buffer, packet.byteOffset).setUint32(8, DIRTY_SSRC + ((random() * 2) | 0));
    const result = tryDecodeRtpJpeg(packet);
    checkDecoders("code" in result ? result.code : undefined, i % 10 === 0 ? () => decodeRtpJpeg(packet) : undefined);
    for (const event of r.push(packet, i)) {
      if (event.type !== "frame") continue;
      emitted++;
      const p = event.payload;
      if (event.streamId >= DIRTY_SSRC) {
        if (
          p[0] !== 0xff ||
          p[1] !== 0xd8 ||
          p[p.length - 2] !== 0xff ||
          p[p.length - 1] !== 0xd9 ||
          event.width > 2040
        )
          throw new Error(`a dirty stream's frame is not a JPEG file at packet ${i}`);
        continue;
      }
      const scan = parseRtpJpegSource(p).scan;
      if (!sent.has(key(event.streamId, scan)) || firstDifference(scans.get(key(event.streamId, scan))!, scan) !== -1) {
        throw new Error(
          `emitted a frame that was not sent: stream ${event.streamId}, ${scan.length} scan bytes, at packet ${i}`,
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
  const scan = randomScan(random, 5000);
  // The streams that completed frames keep their places until idle for the stream timeout (10 s).
  const later = count + 10_000;
  r.expire(later);
  const events = packetizeRtpJpeg({ ssrc: 99, sequence: 0, timestamp: 0, jpeg: syntheticJpeg(scan) }).flatMap((p) =>
    r.push(p, later),
  );
  const last = events.find((e) => e.type === "frame");
  expect(last?.type === "frame" && firstDifference(parseRtpJpegSource(last.payload).scan, scan)).toBe(-1);
  return { emitted, malformed: r.counters.datagramsMalformed };
}
