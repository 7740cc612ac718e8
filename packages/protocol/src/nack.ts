import { checkAuthenticator, type Authenticator } from "./auth.js";
import { ProtocolErrorCode } from "./errors.js";
import { FLAG_TAGGED, MAGIC_0, MAGIC_1, Offset, VERSION } from "./header.js";

/**
 * A NACK: the receiver's request, on the return path, for the datagrams of a stream it still
 * lacks. It travels from the receiver's socket to the address and port the stream came from.
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | magic 'U' 0x55| magic 'C' 0x43|  version (1)  |R R R R 1 R R A|  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           stream id                           |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       entry count (n)         | tag bytes (T) |  reserved (0) |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 entry 1: frame number                         | 12
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  entry 1: first chunk index   |   entry 1: chunk count (c)    | 16
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 ... entries 2 .. n (8 bytes each) ...         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | tag (T bytes, only when flag A is set): HMAC over bytes 0 to  |
 * | the end of the last entry, with the stream's key              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Flag N (0x08) marks a NACK: a video decoder refuses it (`RESERVED_BITS`, receivers older than
 * NACK included), and a window FEC repair needs flag W, which a NACK never sets. An entry asks for
 * the chunks `first .. first + c - 1` of frame `frame number` (c >= 1; the sender sends what it
 * still holds of them); `first` 0 with c = 65,535 asks for a whole frame of unknown size.
 */
export interface NackEntry {
  readonly frameNumber: number;
  readonly firstChunk: number;
  /** Chunks asked for, from `firstChunk` on: 1..65,535. */
  readonly chunkCount: number;
}

export interface Nack {
  readonly streamId: number;
  readonly entries: readonly NackEntry[];
  /** The tag (`tagBytes` long) or undefined; a view. */
  readonly tag: Uint8Array | undefined;
  readonly tagBytes: number;
  /** The bytes the tag covers: a view. */
  readonly signed: Uint8Array;
}

/** Flag N of byte 3: the datagram is a NACK (receiver to sender). */
export const FLAG_NACK = 0x08;
export const NACK_HEADER_BYTES = 12;
export const NACK_ENTRY_BYTES = 8;
/** Most entries in one NACK: with the largest tag (255 bytes) it still fits 1,472 bytes. */
export const MAX_NACK_ENTRIES = 150;
/** `chunkCount` of an entry that asks for a whole frame (from chunk 0): every chunk the sender holds. */
export const WHOLE_FRAME = 0xffff;

const NackOffset = { entryCount: 8, tagBytes: 10, reserved: 11 } as const;

/** True when the bytes start like a NACK: magic, version and flag N (whatever follows). */
export function looksLikeNack(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === MAGIC_0 &&
    bytes[1] === MAGIC_1 &&
    bytes[2] === VERSION &&
    (bytes[Offset.flags]! & FLAG_NACK) !== 0
  );
}

function u(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
}

/**
 * Encodes a NACK for `streamId` asking for `entries` (1..MAX_NACK_ENTRIES), tagged with
 * `authenticator` when given. Throws RangeError naming the field that is out of range.
 */
export function encodeNack(streamId: number, entries: readonly NackEntry[], authenticator?: Authenticator): Uint8Array {
  u("streamId", streamId, 0, 0xffff_ffff);
  u("entries.length", entries.length, 1, MAX_NACK_ENTRIES);
  checkAuthenticator(authenticator, "authenticator");
  const tagBytes = authenticator?.tagBytes ?? 0;
  const end = NACK_HEADER_BYTES + NACK_ENTRY_BYTES * entries.length;
  const out = new Uint8Array(end + tagBytes);
  const view = new DataView(out.buffer);
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = VERSION;
  out[Offset.flags] = FLAG_NACK | (tagBytes > 0 ? FLAG_TAGGED : 0);
  view.setUint32(Offset.streamId, streamId);
  view.setUint16(NackOffset.entryCount, entries.length);
  view.setUint8(NackOffset.tagBytes, tagBytes);
  entries.forEach((entry, i) => {
    const at = NACK_HEADER_BYTES + i * NACK_ENTRY_BYTES;
    u(`entries[${i}].frameNumber`, entry.frameNumber, 0, 0xffff_ffff);
    u(`entries[${i}].firstChunk`, entry.firstChunk, 0, 0xffff);
    u(`entries[${i}].chunkCount`, entry.chunkCount, 1, 0xffff);
    view.setUint32(at, entry.frameNumber);
    view.setUint16(at + 4, entry.firstChunk);
    view.setUint16(at + 6, entry.chunkCount);
  });
  if (authenticator) out.set(authenticator.sign(out.subarray(0, end)), end);
  return out;
}

export interface NackFailure {
  readonly code: ProtocolErrorCode;
  readonly offset: number;
  readonly message: string;
}

export function isNackFailure(result: Nack | NackFailure): result is NackFailure {
  return (result as Partial<Nack>).entries === undefined;
}

/**
 * Decodes a NACK, or says why not (as data: a sender flooded with garbage pays no Error per
 * datagram). Does not check the tag (`verifyTag` with the sender's authenticator does).
 * Checks length, magic, version, flags, the reserved byte, then the exact length before
 * reading any entry.
 */
export function tryDecodeNack(bytes: Uint8Array): Nack | NackFailure {
  const length = bytes.length;
  if (length < NACK_HEADER_BYTES)
    return { code: ProtocolErrorCode.Truncated, offset: length, message: `${length} bytes, a NACK header is 12` };
  if (bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1)
    return { code: ProtocolErrorCode.BadMagic, offset: 0, message: 'expected 0x5543 ("UC")' };
  if (bytes[2] !== VERSION)
    return { code: ProtocolErrorCode.UnsupportedVersion, offset: 2, message: `version ${bytes[2]!}, NACKs are v1` };
  const flags = bytes[Offset.flags]!;
  if ((flags & FLAG_NACK) === 0 || (flags & ~(FLAG_NACK | FLAG_TAGGED) & 0xff) !== 0)
    return {
      code: ProtocolErrorCode.ReservedBits,
      offset: 3,
      message: `NACK flags 0x${flags.toString(16)}, must be 0x08 or 0x09`,
    };
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  if (view.getUint8(NackOffset.reserved) !== 0)
    return {
      code: ProtocolErrorCode.ReservedBits,
      offset: NackOffset.reserved,
      message: "NACK reserved byte must be 0",
    };
  const tagBytes = view.getUint8(NackOffset.tagBytes);
  if (((flags & FLAG_TAGGED) !== 0) !== tagBytes > 0)
    return {
      code: ProtocolErrorCode.OutOfRange,
      offset: NackOffset.tagBytes,
      message: `tag bytes ${tagBytes} with the tag flag ${flags & FLAG_TAGGED ? "set" : "clear"}`,
    };
  const count = view.getUint16(NackOffset.entryCount);
  if (count < 1 || count > MAX_NACK_ENTRIES)
    return {
      code: ProtocolErrorCode.OutOfRange,
      offset: NackOffset.entryCount,
      message: `entry count ${count}, must be 1 to ${MAX_NACK_ENTRIES}`,
    };
  const end = NACK_HEADER_BYTES + count * NACK_ENTRY_BYTES;
  const expected = end + tagBytes;
  if (length < expected)
    return {
      code: ProtocolErrorCode.Truncated,
      offset: length,
      message: `${length} bytes, ${count} entries need ${expected}`,
    };
  if (length > expected)
    return {
      code: ProtocolErrorCode.TrailingBytes,
      offset: expected,
      message: `${length - expected} bytes after the NACK`,
    };
  const entries: NackEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = NACK_HEADER_BYTES + i * NACK_ENTRY_BYTES;
    const chunkCount = view.getUint16(at + 6);
    if (chunkCount === 0)
      return { code: ProtocolErrorCode.OutOfRange, offset: at + 6, message: `entry ${i} asks for 0 chunks` };
    entries.push({ frameNumber: view.getUint32(at), firstChunk: view.getUint16(at + 4), chunkCount });
  }
  return {
    streamId: view.getUint32(Offset.streamId),
    entries,
    tagBytes,
    tag: tagBytes > 0 ? bytes.subarray(end) : undefined,
    signed: bytes.subarray(0, end),
  };
}
