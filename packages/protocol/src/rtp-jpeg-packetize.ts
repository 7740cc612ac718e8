import { DEFAULT_MAX_DATAGRAM_BYTES, MAX_DATAGRAM_BYTES } from "./header.js";
import { parseRtpJpegSource } from "./jpeg-parse.js";
import {
  RTP_HEADER_BYTES,
  RTP_JPEG_HEADER_BYTES,
  RTP_JPEG_MAX_SCAN_BYTES,
  RTP_JPEG_PAYLOAD_TYPE,
  RTP_QUANT_HEADER_BYTES,
  RTP_RESTART_HEADER_BYTES,
  writeRtpJpegHeader,
} from "./rtp-jpeg-header.js";
import { serial16Add } from "./serial.js";

/** One JPEG frame to send as RTP/JPEG. */
export interface RtpJpegFrameToSend {
  readonly ssrc: number;
  /** The sequence number of the frame's first packet; the next frame's is `serial16Add(sequence, packets.length)`. */
  readonly sequence: number;
  /** 90 kHz, u32 (see `rtpTimestamp`). */
  readonly timestamp: number;
  /** A baseline JPEG file (see `parseRtpJpegSource` for what RFC 2435 carries). Not modified, not kept. */
  readonly jpeg: Uint8Array;
}

export interface RtpPacketizeOptions {
  /** Largest datagram, RTP header included. Default 1472. */
  readonly maxDatagramBytes?: number;
  /** Default 26 (JPEG). */
  readonly payloadType?: number;
}

/** Q 255: the tables travel in the first packet of every frame, so any JPEG quality decodes and a late joiner needs nothing sent before. */
export const RTP_JPEG_SENT_Q = 255;
/** The first packet's headers: RTP, JPEG, restart, quantisation header and two 8-bit tables, plus one scan byte. */
export const MIN_RTP_DATAGRAM_BYTES =
  RTP_HEADER_BYTES + RTP_JPEG_HEADER_BYTES + RTP_RESTART_HEADER_BYTES + RTP_QUANT_HEADER_BYTES + 128 + 1;

/** A capture time (ms since the epoch) on a 90 kHz clock that starts at `base` (random per run), wrapped to u32. */
export function rtpTimestamp(captureTimeMs: number, base: number): number {
  return ((base + Math.round(captureTimeMs * 90)) % 0x1_0000_0000) >>> 0;
}

/**
 * Cuts a JPEG into RTP/JPEG packets: Q 255 with its tables in the first, the marker bit on the
 * last, sequence numbers from `frame.sequence` (wrapping). Each packet is at most
 * `maxDatagramBytes`. Throws RangeError for an option out of range or a JPEG that RFC 2435 cannot
 * carry (the message names the limit).
 */
export function packetizeRtpJpeg(frame: RtpJpegFrameToSend, options: RtpPacketizeOptions = {}): Uint8Array[] {
  const maxDatagramBytes = options.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES;
  const payloadType = options.payloadType ?? RTP_JPEG_PAYLOAD_TYPE;
  if (
    !Number.isInteger(maxDatagramBytes) ||
    maxDatagramBytes < MIN_RTP_DATAGRAM_BYTES ||
    maxDatagramBytes > MAX_DATAGRAM_BYTES
  ) {
    throw new RangeError(
      `maxDatagramBytes must be an integer from ${MIN_RTP_DATAGRAM_BYTES} to ${MAX_DATAGRAM_BYTES}, got ${String(maxDatagramBytes)}`,
    );
  }
  if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127)
    throw new RangeError(`payloadType must be an integer from 0 to 127, got ${String(payloadType)}`);
  for (const [name, value, max] of [
    ["ssrc", frame.ssrc, 0xffff_ffff],
    ["sequence", frame.sequence, 0xffff],
    ["timestamp", frame.timestamp, 0xffff_ffff],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > max)
      throw new RangeError(`${name} must be an integer from 0 to ${max}, got ${String(value)}`);
  }
  const source = parseRtpJpegSource(frame.jpeg);
  const { scan, tables } = source;
  if (scan.length > RTP_JPEG_MAX_SCAN_BYTES)
    throw new RangeError(
      `jpeg: a scan of ${scan.length} bytes; RTP/JPEG's 24-bit fragment offset carries ${RTP_JPEG_MAX_SCAN_BYTES}`,
    );
  const restarts = source.type >= 64;
  const fixed = RTP_HEADER_BYTES + RTP_JPEG_HEADER_BYTES + (restarts ? RTP_RESTART_HEADER_BYTES : 0);
  const tableHeader = RTP_QUANT_HEADER_BYTES + tables.length;
  const header = {
    payloadType,
    timestamp: frame.timestamp,
    ssrc: frame.ssrc,
    typeSpecific: 0,
    type: source.type,
    q: RTP_JPEG_SENT_Q,
    width: source.width,
    height: source.height,
  };
  const packets: Uint8Array[] = [];
  let offset = 0;
  let sequence = frame.sequence;
  do {
    const first = offset === 0;
    const room = maxDatagramBytes - fixed - (first ? tableHeader : 0);
    const length = Math.min(room, scan.length - offset);
    const last = offset + length >= scan.length;
    const headers = fixed + (first ? tableHeader : 0);
    const packet = new Uint8Array(headers + length);
    const view = new DataView(packet.buffer);
    writeRtpJpegHeader(view, { ...header, sequence, fragmentOffset: offset }, last);
    let at = RTP_HEADER_BYTES + RTP_JPEG_HEADER_BYTES;
    if (restarts) {
      // F = L = 1 and count 0x3fff: fragments are not cut at restart intervals (RFC 2435 3.1.7).
      view.setUint16(at, source.restartInterval);
      view.setUint16(at + 2, 0xffff);
      at += RTP_RESTART_HEADER_BYTES;
    }
    if (first) {
      view.setUint16(at + 2, tables.length);
      packet.set(tables, at + RTP_QUANT_HEADER_BYTES);
      at += tableHeader;
    }
    packet.set(scan.subarray(offset, offset + length), at);
    packets.push(packet);
    offset += length;
    sequence = serial16Add(sequence, 1);
  } while (offset < scan.length);
  return packets;
}
