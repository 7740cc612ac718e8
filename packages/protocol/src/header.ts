// Over 300 lines on purpose: the v1 header in one place (its bit diagram, field checks, encode and
// decode), so that a field changes in one file; the diagram and field docs are a third of it.
import { codecFromWire, CODEC_WIRE, isCodec, type Codec } from "./codec.js";
import { ProtocolError, ProtocolErrorCode } from "./errors.js";
import { chunkCount, chunkLength, layoutProblem } from "./slots.js";

/**
 * The v1 datagram: a 44-byte header, a 16-byte salt when flag E is set, the chunk's bytes (encrypted when
 * E is set), then an optional tag. All fields are big-endian (network order).
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | magic 'U' 0x55| magic 'C' 0x43|  version (1)  |R R R R R W E A|  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           stream id                           |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          frame number                         |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        frame bytes (N)                        | 12
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          chunk index          |      data chunk count (K)     | 16
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        chunk bytes (P)        |      FEC group count (G)      | 20
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | parity/group m|     codec     | tag bytes (T) |  reserved (0) | 24
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |             width             |             height            | 28
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     frame rate (milli-fps)                    | 32
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        capture time (us since the epoch), high 32 bits        | 36
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         capture time (us since the epoch), low 32 bits        | 40
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | salt (16 bytes, only when flag E is set): random per sender    | 44
 * | run, sent in the clear; with the key it gives the run's subkey |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | window sequence number (4 bytes, only when flag W is set)     | 44 (60 with E)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | payload: data chunk i (chunk length(i) bytes)                 | 44 (+16 E, +4 W)
 * |          or parity chunk (P bytes) ...; ciphertext with E     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | tag (T bytes, only when flag A is set): covers bytes 0 to the |
 * | end of the payload; with E, the AEAD tag (header + salt are   |
 * | its associated data)                                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Flags: A (the least significant bit, 0x01) = a tag follows the payload. E (0x02) = the payload is
 * encrypted and the salt follows the header; E requires A (see encryption.ts). W (0x04) = the stream is
 * protected by window FEC (window-fec.ts): a 32-bit sequence number, +1 per datagram of the stream,
 * follows the header (and salt), and repair datagrams (their own layout) travel with it.
 * R = reserved, zero in v1.
 * Chunk index < K: data chunk; K <= index < K + G*m: parity chunk index - K (see slots.ts).
 */
export interface DatagramHeader {
  /** Random per sender run: a restarted or second sender never mixes with the first. */
  readonly streamId: number;
  /** u32, +1 per frame, wraps (compare with serial.ts). */
  readonly frameNumber: number;
  /** N: bytes of the whole frame (>= 1). */
  readonly frameBytes: number;
  /** Data chunk (< chunkCount) or parity chunk (>= chunkCount). */
  readonly chunkIndex: number;
  /** K = ceil(N / P): data chunks of the frame. */
  readonly chunkCount: number;
  /** P: bytes of every data chunk but the last, and of every parity chunk. */
  readonly chunkBytes: number;
  /** G: FEC groups (1 when there is no parity). */
  readonly fecGroups: number;
  /** m: parity chunks per FEC group (0 = no FEC). */
  readonly fecParityPerGroup: number;
  readonly codec: Codec;
  readonly width: number;
  readonly height: number;
  /** Frames per second (the wire carries milli-fps; 0 = unknown). */
  readonly fps: number;
  /** Capture time in ms since the Unix epoch, microsecond resolution (the wire carries µs). */
  readonly timestampMs: number;
  /** Bytes of the tag after the payload; 0 = untagged (flag A clear). */
  readonly tagBytes: number;
  /** Flag E: a salt follows the header and the payload is encrypted (needs tagBytes > 0). Default false. */
  readonly encrypted?: boolean;
  /** With window FEC (flag W): the datagram's place in its stream, u32, +1 per datagram, wraps. */
  readonly windowSequence?: number | undefined;
}

/** A decoded v1 datagram. Views share memory with the bytes given to `decodeDatagram`. */
export interface Datagram extends DatagramHeader {
  /** The chunk: `subarray` of the datagram. */
  readonly payload: Uint8Array;
  readonly encrypted: boolean;
  /** The tag (`tagBytes` long), or undefined when untagged. */
  readonly tag: Uint8Array | undefined;
  /** Header, salt and payload: the bytes the tag covers. */
  readonly signed: Uint8Array;
  /** Flag E: the salt (SALT_BYTES, a view), else undefined. */
  readonly salt: Uint8Array | undefined;
  /** Flag E: the header and salt, the AEAD's associated data (a view). */
  readonly aad: Uint8Array;
}

export const MAGIC_0 = 0x55; // 'U'
export const MAGIC_1 = 0x43; // 'C'
export const VERSION = 1;
export const FLAG_TAGGED = 0x01;
export const FLAG_ENCRYPTED = 0x02;
/** Window FEC: a sequence number follows the header (and salt); repair datagrams cross frames (window-fec.ts). */
export const FLAG_WINDOW = 0x04;
export const RESERVED_FLAGS = 0xf8;
/** Bytes of the window sequence number after the header (and salt) when flag W is set. */
export const WINDOW_SEQUENCE_BYTES = 4;
/** Bytes of the salt after the header when flag E is set. */
export const SALT_BYTES = 16;

/** Byte offsets of the header's fields. */
export const Offset = {
  magic: 0,
  version: 2,
  flags: 3,
  streamId: 4,
  frameNumber: 8,
  frameBytes: 12,
  chunkIndex: 16,
  chunkCount: 18,
  chunkBytes: 20,
  fecGroups: 22,
  fecParityPerGroup: 24,
  codec: 25,
  tagBytes: 26,
  reserved: 27,
  width: 28,
  height: 30,
  fps: 32,
  timestampHigh: 36,
  timestampLow: 40,
} as const;

export const HEADER_BYTES = 44;

/** Where each header field starts, for error offsets. */
const FIELD_OFFSET: Readonly<Record<keyof DatagramHeader, number>> = {
  ...Offset,
  timestampMs: Offset.timestampHigh,
  encrypted: Offset.flags,
  windowSequence: HEADER_BYTES,
};

/** Largest UDP payload over IPv4: 65,535 - 8 (UDP) - 20 (IP). */
export const MAX_DATAGRAM_BYTES = 65_507;
/** Largest datagram that fits a 1500-byte Ethernet MTU without IP fragmentation: 1500 - 20 - 8. */
export const DEFAULT_MAX_DATAGRAM_BYTES = 1472;
/** Largest timestamp in µs that a double holds exactly (2^53 - 1): year 2255. */
const MAX_TIMESTAMP_US = Number.MAX_SAFE_INTEGER;
const TWO_32 = 0x1_0000_0000;
const MAX_MILLI_FPS = 0xffff_ffff;

type FieldName = keyof DatagramHeader;

/** One field outside its range: name and what is wrong, for RangeError and ProtocolError alike. */
interface Problem {
  readonly field: FieldName;
  readonly message: string;
}

function uint(field: FieldName, value: number, min: number, max: number): Problem | undefined {
  if (!Number.isInteger(value) || value < min || value > max)
    return { field, message: `${field} must be an integer from ${min} to ${max}, got ${String(value)}` };
  return undefined;
}

/**
 * Checks every header field and the relations between them. Used when encoding (the fields'
 * API values) and decoding (values as read).
 */
export function headerProblem(h: DatagramHeader): Problem | undefined {
  const simple =
    uint("streamId", h.streamId, 0, 0xffff_ffff) ??
    uint("frameNumber", h.frameNumber, 0, 0xffff_ffff) ??
    uint("frameBytes", h.frameBytes, 1, 0xffff_ffff) ??
    uint("chunkBytes", h.chunkBytes, 1, MAX_DATAGRAM_BYTES - HEADER_BYTES) ??
    uint("chunkCount", h.chunkCount, 1, 0xffff) ??
    uint("fecGroups", h.fecGroups, 1, 0xffff) ??
    uint("fecParityPerGroup", h.fecParityPerGroup, 0, 0xff) ??
    uint("chunkIndex", h.chunkIndex, 0, 0xffff) ??
    uint("tagBytes", h.tagBytes, 0, 0xff) ??
    uint("width", h.width, 1, 0xffff) ??
    uint("height", h.height, 1, 0xffff) ??
    (h.windowSequence === undefined ? undefined : uint("windowSequence", h.windowSequence, 0, 0xffff_ffff));
  if (simple) return simple;
  if (!isCodec(h.codec))
    return { field: "codec", message: `codec must be one of raw-bgr24, jpeg, got ${String(h.codec)}` };
  if (!(h.fps >= 0 && Math.round(h.fps * 1000) <= MAX_MILLI_FPS))
    return { field: "fps", message: `fps must be from 0 to ${MAX_MILLI_FPS / 1000}, got ${String(h.fps)}` };
  if (!(h.timestampMs >= 0 && Math.round(h.timestampMs * 1000) <= MAX_TIMESTAMP_US)) {
    return {
      field: "timestampMs",
      message: `timestampMs must be from 0 to ${MAX_TIMESTAMP_US / 1000}, got ${String(h.timestampMs)}`,
    };
  }
  const k = chunkCount(h.frameBytes, h.chunkBytes);
  if (h.chunkCount !== k)
    return {
      field: "chunkCount",
      message: `chunkCount must be ceil(frameBytes ${h.frameBytes} / chunkBytes ${h.chunkBytes}) = ${k}, got ${h.chunkCount}`,
    };
  const layout = layoutProblem(h.chunkCount, { groups: h.fecGroups, parityPerGroup: h.fecParityPerGroup });
  if (layout) return { field: "fecGroups", message: layout };
  const total = h.chunkCount + h.fecGroups * h.fecParityPerGroup;
  if (h.chunkIndex >= total)
    return {
      field: "chunkIndex",
      message: `chunkIndex must be below ${total} (data + parity chunks), got ${h.chunkIndex}`,
    };
  if (h.encrypted === true && h.tagBytes === 0)
    return {
      field: "tagBytes",
      message: "an encrypted datagram (flag E) carries its AEAD tag: tagBytes must be 1 to 255, got 0",
    };
  if (h.codec === "raw-bgr24" && h.frameBytes !== h.width * h.height * 3) {
    return {
      field: "frameBytes",
      message: `a raw-bgr24 frame of ${h.width}x${h.height} is ${h.width * h.height * 3} bytes, frameBytes is ${h.frameBytes}`,
    };
  }
  return undefined;
}

/** Bytes of the payload of the chunk the header describes. */
export function payloadLength(
  h: Pick<DatagramHeader, "chunkIndex" | "chunkCount" | "frameBytes" | "chunkBytes">,
): number {
  return h.chunkIndex < h.chunkCount ? chunkLength(h.chunkIndex, h.frameBytes, h.chunkBytes) : h.chunkBytes;
}

/**
 * Writes a header that `headerProblem` accepted at `view`'s byte 0. The hot path of the packetizer:
 * no checks here.
 */
export function writeHeader(view: DataView, h: DatagramHeader): void {
  view.setUint8(Offset.magic, MAGIC_0);
  view.setUint8(Offset.magic + 1, MAGIC_1);
  view.setUint8(Offset.version, VERSION);
  view.setUint8(
    Offset.flags,
    (h.tagBytes > 0 ? FLAG_TAGGED : 0) |
      (h.encrypted === true ? FLAG_ENCRYPTED : 0) |
      (h.windowSequence === undefined ? 0 : FLAG_WINDOW),
  );
  view.setUint32(Offset.streamId, h.streamId);
  view.setUint32(Offset.frameNumber, h.frameNumber);
  view.setUint32(Offset.frameBytes, h.frameBytes);
  view.setUint16(Offset.chunkIndex, h.chunkIndex);
  view.setUint16(Offset.chunkCount, h.chunkCount);
  view.setUint16(Offset.chunkBytes, h.chunkBytes);
  view.setUint16(Offset.fecGroups, h.fecGroups);
  view.setUint8(Offset.fecParityPerGroup, h.fecParityPerGroup);
  view.setUint8(Offset.codec, CODEC_WIRE[h.codec]);
  view.setUint8(Offset.tagBytes, h.tagBytes);
  view.setUint8(Offset.reserved, 0);
  view.setUint16(Offset.width, h.width);
  view.setUint16(Offset.height, h.height);
  view.setUint32(Offset.fps, Math.round(h.fps * 1000));
  const us = Math.round(h.timestampMs * 1000);
  view.setUint32(Offset.timestampHigh, Math.floor(us / TWO_32));
  view.setUint32(Offset.timestampLow, us % TWO_32);
  if (h.windowSequence !== undefined && view.byteLength >= HEADER_BYTES + saltLength(h) + WINDOW_SEQUENCE_BYTES)
    view.setUint32(HEADER_BYTES + saltLength(h), h.windowSequence);
}

/** Bytes between the header and the window sequence number (or payload): the salt when flag E is set. */
export function saltLength(h: Pick<DatagramHeader, "encrypted">): number {
  return h.encrypted === true ? SALT_BYTES : 0;
}

/** Bytes before the payload: the header, the salt (E) and the window sequence number (W). */
export function payloadOffset(h: Pick<DatagramHeader, "encrypted" | "windowSequence">): number {
  return HEADER_BYTES + saltLength(h) + (h.windowSequence === undefined ? 0 : WINDOW_SEQUENCE_BYTES);
}

/** Where flag W's sequence number sits, from the flags byte alone. */
export function windowSequenceOffset(flags: number): number {
  return HEADER_BYTES + ((flags & FLAG_ENCRYPTED) !== 0 ? SALT_BYTES : 0);
}

/**
 * Encodes one datagram from its header, payload and (when `header.tagBytes` > 0) tag, and (when
 * `header.encrypted`) salt; the payload and tag are written as given (encrypting is packetizeFrame's).
 * Throws RangeError naming the field when a value is out of range.
 */
export function encodeDatagram(
  header: DatagramHeader,
  payload: Uint8Array,
  tag?: Uint8Array,
  salt?: Uint8Array,
): Uint8Array {
  const problem = headerProblem(header);
  if (problem) throw new RangeError(problem.message);
  const expected = payloadLength(header);
  if (payload.length !== expected)
    throw new RangeError(`payload must be ${expected} bytes for chunk ${header.chunkIndex}, got ${payload.length}`);
  const tagLength = tag?.length ?? 0;
  if (tagLength !== header.tagBytes)
    throw new RangeError(`tag must be tagBytes = ${header.tagBytes} bytes, got ${tagLength}`);
  const saltBytes = saltLength(header);
  if ((salt?.length ?? 0) !== saltBytes)
    throw new RangeError(
      `salt must be ${saltBytes} bytes (flag E ${saltBytes > 0 ? "set" : "clear"}), got ${salt?.length ?? 0}`,
    );
  const start = payloadOffset(header);
  const out = new Uint8Array(start + expected + tagLength);
  writeHeader(new DataView(out.buffer, out.byteOffset, out.byteLength), header);
  if (salt) out.set(salt, HEADER_BYTES);
  out.set(payload, start);
  if (tag) out.set(tag, start + expected);
  return out;
}

/** Why bytes are not a datagram: what ProtocolError carries, without the cost of an Error. */
export interface DecodeFailure {
  readonly code: ProtocolErrorCode;
  readonly offset: number;
  readonly message: string;
}

function failure(code: ProtocolErrorCode, offset: number, message: string): DecodeFailure {
  return { code, offset, message };
}

/** True when the bytes start like a v1 datagram (magic and version), whatever follows. */
export function looksLikeV1(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === MAGIC_0 && bytes[1] === MAGIC_1 && bytes[2] === VERSION;
}

/**
 * Decodes one v1 datagram, or throws ProtocolError. Reads only `bytes` (exactly
 * them); the returned payload, tag and signed bytes are views, not copies. Does not check the tag:
 * the reassembler does, with its authenticator.
 */
export function decodeDatagram(bytes: Uint8Array): Datagram {
  const result = tryDecodeDatagram(bytes);
  if (isDecodeFailure(result)) throw new ProtocolError(result.code, result.offset, result.message);
  return result;
}

export function isDecodeFailure(result: Datagram | DecodeFailure): result is DecodeFailure {
  return (result as Partial<Datagram>).payload === undefined;
}

/**
 * `decodeDatagram` without the exception: returns the failure as data. A receiver flooded with
 * garbage should not pay for an Error (and its stack trace) per datagram.
 */
export function tryDecodeDatagram(bytes: Uint8Array): Datagram | DecodeFailure {
  const fields = createDatagramFields();
  return readDatagram(bytes, fields) ?? datagramViews(bytes, fields);
}

/**
 * A v1 datagram's header fields and where its parts lie, read in place by `readDatagram`: the
 * receiver's per-datagram path reads every datagram into the one object it keeps (no views, no
 * object per datagram); `datagramViews` turns it into a `Datagram` where one is needed (a key).
 */
export type DatagramFields = {
  -readonly [K in Exclude<keyof DatagramHeader, "encrypted" | "windowSequence">]: DatagramHeader[K];
} & {
  encrypted: boolean;
  windowSequence: number | undefined;
  /** Where the payload starts (after the header, salt and window sequence number)... */
  payloadStart: number;
  /** ...and ends: the tag, if any, starts here. */
  payloadEnd: number;
};

/** A `DatagramFields` to read into (every field present, so that its shape never changes). */
export function createDatagramFields(): DatagramFields {
  return {
    streamId: 0,
    frameNumber: 0,
    frameBytes: 0,
    chunkIndex: 0,
    chunkCount: 0,
    chunkBytes: 0,
    fecGroups: 0,
    fecParityPerGroup: 0,
    codec: "raw-bgr24",
    width: 0,
    height: 0,
    fps: 0,
    timestampMs: 0,
    tagBytes: 0,
    encrypted: false,
    windowSequence: undefined,
    payloadStart: 0,
    payloadEnd: 0,
  };
}

/** Big-endian reads straight off the bytes (no DataView per datagram). */
function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/**
 * Checks one v1 datagram as `tryDecodeDatagram` does, writing its fields into `into`: undefined when
 * it is a datagram (then every field of `into` is its), or why not (then `into` holds nothing useful).
 */
export function readDatagram(bytes: Uint8Array, into: DatagramFields): DecodeFailure | undefined {
  const length = bytes.length;
  if (length < 2)
    return failure(ProtocolErrorCode.Truncated, length, `${length} bytes, a v1 header is ${HEADER_BYTES}`);
  if (bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) {
    return failure(ProtocolErrorCode.BadMagic, 0, `expected 0x5543 ("UC"), got 0x${hex(bytes[0]!)}${hex(bytes[1]!)}`);
  }
  if (length < 3)
    return failure(ProtocolErrorCode.Truncated, length, `${length} bytes, a v1 header is ${HEADER_BYTES}`);
  if (bytes[2] !== VERSION)
    return failure(
      ProtocolErrorCode.UnsupportedVersion,
      Offset.version,
      `version ${bytes[2]!}, this library speaks ${VERSION}`,
    );
  if (length < HEADER_BYTES)
    return failure(ProtocolErrorCode.Truncated, length, `${length} bytes, a v1 header is ${HEADER_BYTES}`);

  const flags = bytes[Offset.flags]!;
  if (flags & RESERVED_FLAGS)
    return failure(
      ProtocolErrorCode.ReservedBits,
      Offset.flags,
      `flags 0x${hex(flags)} set reserved bits 0x${hex(flags & RESERVED_FLAGS)}`,
    );
  const reserved = bytes[Offset.reserved]!;
  if (reserved !== 0)
    return failure(ProtocolErrorCode.ReservedBits, Offset.reserved, `reserved byte is 0x${hex(reserved)}, must be 0`);
  const tagBytes = bytes[Offset.tagBytes]!;
  if (((flags & FLAG_TAGGED) !== 0) !== tagBytes > 0) {
    return failure(
      ProtocolErrorCode.OutOfRange,
      Offset.tagBytes,
      `tag bytes ${tagBytes} with the tag flag ${flags & FLAG_TAGGED ? "set" : "clear"}`,
    );
  }
  const encrypted = (flags & FLAG_ENCRYPTED) !== 0;
  if (encrypted && tagBytes === 0)
    return failure(ProtocolErrorCode.OutOfRange, Offset.flags, "flag E (encrypted) without flag A: no tag to open it");
  const saltBytes = encrypted ? SALT_BYTES : 0;
  const windowed = (flags & FLAG_WINDOW) !== 0;
  const start = HEADER_BYTES + saltBytes + (windowed ? WINDOW_SEQUENCE_BYTES : 0);
  if (length < start)
    return failure(
      ProtocolErrorCode.Truncated,
      length,
      `${length} bytes, a v1 header with its salt and window sequence number is ${start}`,
    );
  const codecWire = bytes[Offset.codec]!;
  const codec = codecFromWire(codecWire);
  if (codec === undefined)
    return failure(
      ProtocolErrorCode.UnknownCodec,
      Offset.codec,
      `codec ${codecWire} is unknown (0 = raw-bgr24, 1 = jpeg)`,
    );
  const high = u32(bytes, Offset.timestampHigh);
  const us = high * TWO_32 + u32(bytes, Offset.timestampLow);
  if (us > MAX_TIMESTAMP_US)
    return failure(
      ProtocolErrorCode.OutOfRange,
      Offset.timestampHigh,
      `capture time high word 0x${high.toString(16)} is past 2^53 µs`,
    );

  const end = length - tagBytes;
  into.streamId = u32(bytes, Offset.streamId);
  into.frameNumber = u32(bytes, Offset.frameNumber);
  into.frameBytes = u32(bytes, Offset.frameBytes);
  into.chunkIndex = u16(bytes, Offset.chunkIndex);
  into.chunkCount = u16(bytes, Offset.chunkCount);
  into.chunkBytes = u16(bytes, Offset.chunkBytes);
  into.fecGroups = u16(bytes, Offset.fecGroups);
  into.fecParityPerGroup = bytes[Offset.fecParityPerGroup]!;
  into.codec = codec;
  into.width = u16(bytes, Offset.width);
  into.height = u16(bytes, Offset.height);
  into.fps = u32(bytes, Offset.fps) / 1000;
  into.timestampMs = us / 1000;
  into.tagBytes = tagBytes;
  into.encrypted = encrypted;
  into.windowSequence = windowed ? u32(bytes, HEADER_BYTES + saltBytes) : undefined;
  into.payloadStart = start;
  into.payloadEnd = Math.max(start, end);
  const problem = headerProblem(into);
  if (problem) return failure(ProtocolErrorCode.OutOfRange, FIELD_OFFSET[problem.field], problem.message);

  const expected = start + payloadLength(into) + tagBytes;
  if (length < expected)
    return failure(ProtocolErrorCode.Truncated, length, `${length} bytes, chunk ${into.chunkIndex} needs ${expected}`);
  if (length > expected)
    return failure(
      ProtocolErrorCode.TrailingBytes,
      expected,
      `${length - expected} bytes after the ${expected} that chunk ${into.chunkIndex} needs`,
    );
  return undefined;
}

/** The `Datagram` of bytes that `readDatagram` read into `d`: its fields, and views of its parts. */
export function datagramViews(bytes: Uint8Array, d: DatagramFields): Datagram {
  const { payloadStart: start, payloadEnd: end } = d;
  return {
    streamId: d.streamId,
    frameNumber: d.frameNumber,
    frameBytes: d.frameBytes,
    chunkIndex: d.chunkIndex,
    chunkCount: d.chunkCount,
    chunkBytes: d.chunkBytes,
    fecGroups: d.fecGroups,
    fecParityPerGroup: d.fecParityPerGroup,
    codec: d.codec,
    width: d.width,
    height: d.height,
    fps: d.fps,
    timestampMs: d.timestampMs,
    tagBytes: d.tagBytes,
    encrypted: d.encrypted,
    windowSequence: d.windowSequence,
    payload: bytes.subarray(start, end),
    tag: d.tagBytes > 0 ? bytes.subarray(end) : undefined,
    signed: bytes.subarray(0, end),
    salt: d.encrypted ? bytes.subarray(HEADER_BYTES, HEADER_BYTES + SALT_BYTES) : undefined,
    aad: bytes.subarray(0, start),
  };
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
