// Over 300 lines on purpose: the RTP/JPEG packet in one place (its bit diagram, decode with every
// check, encode), as header.ts does for v1; the diagram and field docs are a third of it.
import { ProtocolError, ProtocolErrorCode } from "./errors.js";
import type { DecodeFailure } from "./header.js";

/**
 * An RTP/JPEG packet (RFC 3550 + RFC 2435): the RTP fixed header, the JPEG header, a restart
 * marker header for types 64-127, a quantisation table header in a frame's first packet (fragment
 * offset 0) when Q is 128-255, then the fragment of the JPEG's entropy-coded scan.
 * All fields big-endian.
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |        sequence number        |  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                timestamp (90 kHz, capture time)               |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                             SSRC                              |  8
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |   CC x CSRC (4 bytes each), then a header extension if X      |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * | type-specific |              fragment offset                  |  J+0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     type      |       Q       |   width / 8   |  height / 8   |  J+4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       restart interval        |F|L|       restart count       |  types 64-127
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      MBZ      |   precision   |            length             |  offset 0, Q >= 128
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     quantisation tables (length bytes, zig-zag order) ...     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     scan data: bytes [offset, offset + n) of the frame ...    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  padding (when P: the last byte counts the padding bytes)     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * M (marker) is set on a frame's last packet. Type 0 is YUV 4:2:2 (Y 2x1), type 1 is 4:2:0
 * (Y 2x2); 64 and 65 are the same with restart markers. Precision bit i set = table i is 16-bit.
 */
export interface RtpJpegPacket {
  readonly payloadType: number;
  readonly marker: boolean;
  /** u16, +1 per packet, wraps (serial16 in serial.ts). */
  readonly sequence: number;
  /** u32, 90 kHz; every packet of a frame carries the same. */
  readonly timestamp: number;
  readonly ssrc: number;
  readonly typeSpecific: number;
  /** u24: where this fragment's scan bytes start in the frame's scan. */
  readonly fragmentOffset: number;
  /** 0, 1 (no restart markers), 64, 65 (with). */
  readonly type: number;
  /** 1..99: the standard tables scaled; 128..255: tables in-band (or sent earlier for this Q). */
  readonly q: number;
  /** Pixels: 8..2040, a multiple of 8. */
  readonly width: number;
  readonly height: number;
  /** MCUs between restart markers (types 64-127), else 0. */
  readonly restartInterval: number;
  /** Types 64-127: F, L and count as sent (RFC 2435 3.1.7), else undefined. */
  readonly restart: { readonly first: boolean; readonly last: boolean; readonly count: number } | undefined;
  /** Offset 0 with Q >= 128: the precision bits. */
  readonly tablePrecision: number;
  /** Offset 0 with Q >= 128: the table bytes (a view; length 0 = "the tables sent before for this Q"). Else undefined. */
  readonly tables: Uint8Array | undefined;
  /** The scan bytes (a view of the datagram). */
  readonly payload: Uint8Array;
}

export const RTP_VERSION = 2;
/** RFC 3551's static payload type for JPEG. */
export const RTP_JPEG_PAYLOAD_TYPE = 26;
/** RTP/JPEG's clock. */
export const RTP_JPEG_CLOCK_HZ = 90_000;
export const RTP_HEADER_BYTES = 12;
export const RTP_JPEG_HEADER_BYTES = 8;
export const RTP_RESTART_HEADER_BYTES = 4;
export const RTP_QUANT_HEADER_BYTES = 4;
/** Width and height travel as multiples of 8 in one byte. */
export const RTP_JPEG_MAX_SIDE = 255 * 8;
/** The fragment offset is 24 bits: a frame's scan is at most this long. */
export const RTP_JPEG_MAX_SCAN_BYTES = 0xff_ffff;

/** Byte offsets in the RTP fixed header, and in the JPEG header (from its start, J). */
export const RtpOffset = { flags: 0, markerPayloadType: 1, sequence: 2, timestamp: 4, ssrc: 8, csrc: 12 } as const;
export const RtpJpegOffset = { typeSpecific: 0, fragmentOffset: 1, type: 4, q: 5, width: 6, height: 7 } as const;

/** Types this library rebuilds (the rest are refused as UNSUPPORTED_TYPE). */
export function isSupportedRtpJpegType(type: number): boolean {
  return type === 0 || type === 1 || type === 64 || type === 65;
}

function failure(code: ProtocolErrorCode, offset: number, message: string): DecodeFailure {
  return { code, offset, message };
}

export function isRtpDecodeFailure(result: RtpJpegPacket | DecodeFailure): result is DecodeFailure {
  return (result as Partial<RtpJpegPacket>).payload === undefined;
}

/** Decodes one RTP/JPEG packet or throws ProtocolError. Views share the datagram's memory. */
export function decodeRtpJpeg(bytes: Uint8Array): RtpJpegPacket {
  const result = tryDecodeRtpJpeg(bytes);
  if (isRtpDecodeFailure(result)) throw new ProtocolError(result.code, result.offset, result.message);
  return result;
}

/**
 * `decodeRtpJpeg` returning the failure as data. Checks the RTP version, padding, CSRCs and
 * extension lengths, then the JPEG header (type, Q, size), before reading anything past them.
 * The payload type is not checked here: the reassembler knows which it expects.
 */
export function tryDecodeRtpJpeg(bytes: Uint8Array): RtpJpegPacket | DecodeFailure {
  let end = bytes.length;
  if (end < 1) return failure(ProtocolErrorCode.Truncated, 0, "0 bytes, an RTP header is 12");
  const flags = bytes[0]!;
  const version = flags >>> 6;
  if (version !== RTP_VERSION)
    return failure(ProtocolErrorCode.UnsupportedVersion, RtpOffset.flags, `RTP version ${version}, expected 2`);
  if (end < RTP_HEADER_BYTES)
    return failure(ProtocolErrorCode.Truncated, end, `${end} bytes, an RTP header is ${RTP_HEADER_BYTES}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, end);
  if (flags & 0x20) {
    const padding = bytes[end - 1]!;
    if (padding === 0 || padding > end - RTP_HEADER_BYTES)
      return failure(ProtocolErrorCode.OutOfRange, end - 1, `padding of ${padding} bytes in a ${end}-byte packet`);
    end -= padding;
  }
  let at = RTP_HEADER_BYTES + 4 * (flags & 0x0f);
  if (flags & 0x10) {
    if (end < at + 4)
      return failure(ProtocolErrorCode.Truncated, end, `${end} bytes, the header extension starts at ${at}`);
    at += 4 + 4 * view.getUint16(at + 2);
  }
  const j = at;
  if (end < j + RTP_JPEG_HEADER_BYTES)
    return failure(
      ProtocolErrorCode.Truncated,
      end,
      `${end} bytes, the JPEG header ends at ${j + RTP_JPEG_HEADER_BYTES}`,
    );
  const type = bytes[j + RtpJpegOffset.type]!;
  if (!isSupportedRtpJpegType(type))
    return failure(
      ProtocolErrorCode.UnsupportedType,
      j + RtpJpegOffset.type,
      `JPEG type ${type}; types 0, 1, 64 and 65 are rebuilt`,
    );
  const q = bytes[j + RtpJpegOffset.q]!;
  if (q === 0 || (q >= 100 && q < 128))
    return failure(
      ProtocolErrorCode.OutOfRange,
      j + RtpJpegOffset.q,
      `Q ${q} is reserved (1-99 and 128-255 are defined)`,
    );
  const width = bytes[j + RtpJpegOffset.width]! * 8;
  const height = bytes[j + RtpJpegOffset.height]! * 8;
  if (width === 0 || height === 0)
    return failure(
      ProtocolErrorCode.OutOfRange,
      j + (width === 0 ? RtpJpegOffset.width : RtpJpegOffset.height),
      `a side of 0 (wider than ${RTP_JPEG_MAX_SIDE} is not carried)`,
    );
  const fragmentOffset = view.getUint32(j) & 0xff_ffff;
  at = j + RTP_JPEG_HEADER_BYTES;

  let restartInterval = 0;
  let restart: RtpJpegPacket["restart"];
  if (type >= 64) {
    if (end < at + RTP_RESTART_HEADER_BYTES)
      return failure(
        ProtocolErrorCode.Truncated,
        end,
        `${end} bytes, the restart marker header ends at ${at + RTP_RESTART_HEADER_BYTES}`,
      );
    restartInterval = view.getUint16(at);
    const word = view.getUint16(at + 2);
    restart = { first: (word & 0x8000) !== 0, last: (word & 0x4000) !== 0, count: word & 0x3fff };
    at += RTP_RESTART_HEADER_BYTES;
  }

  let tablePrecision = 0;
  let tables: Uint8Array | undefined;
  if (fragmentOffset === 0 && q >= 128) {
    if (end < at + RTP_QUANT_HEADER_BYTES)
      return failure(
        ProtocolErrorCode.Truncated,
        end,
        `${end} bytes, the quantisation table header ends at ${at + RTP_QUANT_HEADER_BYTES}`,
      );
    tablePrecision = bytes[at + 1]!;
    const length = view.getUint16(at + 2);
    at += RTP_QUANT_HEADER_BYTES;
    if (end < at + length)
      return failure(
        ProtocolErrorCode.Truncated,
        end,
        `${end} bytes, ${length} bytes of quantisation tables end at ${at + length}`,
      );
    tables = bytes.subarray(at, at + length);
    at += length;
  }
  return {
    payloadType: bytes[RtpOffset.markerPayloadType]! & 0x7f,
    marker: (bytes[RtpOffset.markerPayloadType]! & 0x80) !== 0,
    sequence: view.getUint16(RtpOffset.sequence),
    timestamp: view.getUint32(RtpOffset.timestamp),
    ssrc: view.getUint32(RtpOffset.ssrc),
    typeSpecific: bytes[j]!,
    fragmentOffset,
    type,
    q,
    width,
    height,
    restartInterval,
    restart,
    tablePrecision,
    tables,
    payload: bytes.subarray(at, end),
  };
}

function uint(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
}

/**
 * Encodes one packet (no CSRCs, no extension, no padding). Throws RangeError naming the field out
 * of range. The tables are written only at offset 0 with Q >= 128, where they must be given.
 */
export function encodeRtpJpeg(
  packet: Omit<RtpJpegPacket, "restart"> & { readonly restart?: RtpJpegPacket["restart"] },
): Uint8Array {
  uint("payloadType", packet.payloadType, 0, 127);
  uint("sequence", packet.sequence, 0, 0xffff);
  uint("timestamp", packet.timestamp, 0, 0xffff_ffff);
  uint("ssrc", packet.ssrc, 0, 0xffff_ffff);
  uint("typeSpecific", packet.typeSpecific, 0, 255);
  uint("fragmentOffset", packet.fragmentOffset, 0, RTP_JPEG_MAX_SCAN_BYTES);
  uint("type", packet.type, 0, 255);
  uint("q", packet.q, 1, 255);
  uint("width", packet.width, 8, RTP_JPEG_MAX_SIDE);
  uint("height", packet.height, 8, RTP_JPEG_MAX_SIDE);
  if (packet.width % 8 !== 0 || packet.height % 8 !== 0)
    throw new RangeError(`width and height must be multiples of 8, got ${packet.width}x${packet.height}`);
  const restarts = packet.type >= 64 && packet.type < 128;
  if (restarts) uint("restartInterval", packet.restartInterval, 0, 0xffff);
  const withTables = packet.fragmentOffset === 0 && packet.q >= 128;
  if (withTables && packet.tables === undefined)
    throw new RangeError("tables must be given in the first packet (fragment offset 0) when q is 128-255");
  if (withTables) uint("tables.length", packet.tables!.length, 0, 0xffff);
  const headerBytes =
    RTP_HEADER_BYTES +
    RTP_JPEG_HEADER_BYTES +
    (restarts ? RTP_RESTART_HEADER_BYTES : 0) +
    (withTables ? RTP_QUANT_HEADER_BYTES + packet.tables!.length : 0);
  const out = new Uint8Array(headerBytes + packet.payload.length);
  const view = new DataView(out.buffer);
  writeRtpJpegHeader(view, packet, packet.marker);
  let at = RTP_HEADER_BYTES + RTP_JPEG_HEADER_BYTES;
  if (restarts) {
    const restart = packet.restart ?? { first: true, last: true, count: 0x3fff };
    view.setUint16(at, packet.restartInterval);
    view.setUint16(at + 2, (restart.first ? 0x8000 : 0) | (restart.last ? 0x4000 : 0) | (restart.count & 0x3fff));
    at += RTP_RESTART_HEADER_BYTES;
  }
  if (withTables) {
    view.setUint8(at + 1, packet.tablePrecision);
    view.setUint16(at + 2, packet.tables!.length);
    out.set(packet.tables!, at + RTP_QUANT_HEADER_BYTES);
    at += RTP_QUANT_HEADER_BYTES + packet.tables!.length;
  }
  out.set(packet.payload, at);
  return out;
}

/** Writes the RTP fixed header and the JPEG header (checked by the caller) at byte 0. */
export function writeRtpJpegHeader(
  view: DataView,
  h: Pick<
    RtpJpegPacket,
    | "payloadType"
    | "sequence"
    | "timestamp"
    | "ssrc"
    | "typeSpecific"
    | "fragmentOffset"
    | "type"
    | "q"
    | "width"
    | "height"
  >,
  marker: boolean,
): void {
  view.setUint8(RtpOffset.flags, RTP_VERSION << 6);
  view.setUint8(RtpOffset.markerPayloadType, (marker ? 0x80 : 0) | h.payloadType);
  view.setUint16(RtpOffset.sequence, h.sequence);
  view.setUint32(RtpOffset.timestamp, h.timestamp);
  view.setUint32(RtpOffset.ssrc, h.ssrc);
  const j = RTP_HEADER_BYTES;
  view.setUint32(j, ((h.typeSpecific << 24) | h.fragmentOffset) >>> 0);
  view.setUint8(j + RtpJpegOffset.type, h.type);
  view.setUint8(j + RtpJpegOffset.q, h.q);
  view.setUint8(j + RtpJpegOffset.width, h.width / 8);
  view.setUint8(j + RtpJpegOffset.height, h.height / 8);
}
