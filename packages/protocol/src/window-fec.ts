import { checkAuthenticator, type Authenticator } from "./auth.js";
import { ProtocolErrorCode } from "./errors.js";
import { parityCoefficient } from "./fec.js";
import { mulAdd } from "./gf256.js";
import {
  FLAG_TAGGED,
  FLAG_WINDOW,
  HEADER_BYTES,
  MAGIC_0,
  MAGIC_1,
  MAX_DATAGRAM_BYTES,
  Offset,
  VERSION,
} from "./header.js";

/**
 * Window FEC: repair datagrams computed over the last L source datagrams of a stream, whatever
 * frames they belong to (a sliding-window erasure code in the manner of RFC 8681), so a burst of
 * losses that would beat any one frame's parity is spread over many repair equations.
 *
 * A source datagram is an ordinary v1 datagram with flag W and a 32-bit window sequence number
 * (header.ts). Its whole wire bytes, header and tag included, are the "symbol" the repairs cover
 * (zero-padded to the repair's symbol length), so a rebuilt datagram is exactly what was sent and
 * goes through the same decode and authentication as one that arrived.
 *
 * The repair datagram:
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | magic 'U' 0x55| magic 'C' 0x43|  version (1)  |R R R R R 1 R A|  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           stream id                           |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        window end: sequence number of the last source         |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        repair number R        | window length | tag bytes (T) | 12
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      symbol bytes (S)         |         0 (repair mark)       | 16
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | repair symbol (S bytes) ...                                   | 20
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | tag (T bytes, only when flag A is set): covers bytes 0 to the |
 * | end of the symbol                                             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Bytes 18-19 sit where a source datagram has its data chunk count, which is never 0: that is how
 * the two are told apart. The window is the L (1..128) sources with sequence numbers E - L + 1 .. E.
 *
 *     repair symbol = sum over s in the window of C[R mod 128][s mod 128] * symbol(s)     (GF(2^8))
 *
 * with C the Cauchy table of fec.ts (row 0 all ones). Within one window the columns are distinct,
 * so the repairs of one window together form a Cauchy (MDS) code over it.
 */

export const REPAIR_HEADER_BYTES = 20;
/** Most sources one repair covers: the Cauchy table's columns. */
export const MAX_WINDOW_SOURCES = 128;
/** A source datagram must leave room for the repair header (and tag) that carries it as a symbol. */
export const WINDOW_SOURCE_ROOM = REPAIR_HEADER_BYTES;

const RepairOffset = {
  end: 8,
  repairNumber: 12,
  windowLength: 14,
  tagBytes: 15,
  symbolBytes: 16,
  mark: 18,
} as const;

export interface RepairDatagram {
  readonly streamId: number;
  /** Sequence number of the newest source covered. */
  readonly windowEnd: number;
  readonly windowLength: number;
  /** u16, +1 per repair of the stream; picks the coefficient row. */
  readonly repairNumber: number;
  readonly tagBytes: number;
  readonly symbol: Uint8Array;
  readonly tag: Uint8Array | undefined;
  readonly signed: Uint8Array;
}

/** True when the bytes are shaped like a repair datagram: magic, version, flag W and the repair mark. */
export function looksLikeRepair(bytes: Uint8Array): boolean {
  return (
    bytes.length >= REPAIR_HEADER_BYTES &&
    bytes[0] === MAGIC_0 &&
    bytes[1] === MAGIC_1 &&
    bytes[2] === VERSION &&
    (bytes[Offset.flags]! & FLAG_WINDOW) !== 0 &&
    bytes[RepairOffset.mark] === 0 &&
    bytes[RepairOffset.mark + 1] === 0
  );
}

export interface RepairFailure {
  readonly code: ProtocolErrorCode;
  readonly message: string;
}

/** Decodes a datagram that `looksLikeRepair`; views, not copies. */
export function tryDecodeRepair(bytes: Uint8Array): RepairDatagram | RepairFailure {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const flags = bytes[Offset.flags]!;
  if (flags & ~(FLAG_WINDOW | FLAG_TAGGED) & 0xff)
    return { code: ProtocolErrorCode.ReservedBits, message: `repair flags 0x${flags.toString(16)}` };
  const tagBytes = view.getUint8(RepairOffset.tagBytes);
  if (((flags & FLAG_TAGGED) !== 0) !== tagBytes > 0)
    return { code: ProtocolErrorCode.OutOfRange, message: `repair tag bytes ${tagBytes} against the tag flag` };
  const windowLength = view.getUint8(RepairOffset.windowLength);
  if (windowLength < 1 || windowLength > MAX_WINDOW_SOURCES)
    return { code: ProtocolErrorCode.OutOfRange, message: `repair window length ${windowLength}, must be 1..128` };
  const symbolBytes = view.getUint16(RepairOffset.symbolBytes);
  if (symbolBytes < HEADER_BYTES)
    return { code: ProtocolErrorCode.OutOfRange, message: `repair symbol of ${symbolBytes} bytes, under a header` };
  const expected = REPAIR_HEADER_BYTES + symbolBytes + tagBytes;
  if (bytes.length < expected)
    return { code: ProtocolErrorCode.Truncated, message: `${bytes.length} bytes, the repair needs ${expected}` };
  if (bytes.length > expected)
    return { code: ProtocolErrorCode.TrailingBytes, message: `${bytes.length - expected} bytes after the repair` };
  const end = REPAIR_HEADER_BYTES + symbolBytes;
  return {
    streamId: view.getUint32(Offset.streamId),
    windowEnd: view.getUint32(RepairOffset.end),
    windowLength,
    repairNumber: view.getUint16(RepairOffset.repairNumber),
    tagBytes,
    symbol: bytes.subarray(REPAIR_HEADER_BYTES, end),
    tag: tagBytes > 0 ? bytes.subarray(end) : undefined,
    signed: bytes.subarray(0, end),
  };
}

export function isRepairFailure(r: RepairDatagram | RepairFailure): r is RepairFailure {
  return (r as Partial<RepairDatagram>).symbol === undefined;
}

/** The coefficient of source `sequence` in repair `repairNumber`: never 0. */
export function windowCoefficient(repairNumber: number, sequence: number): number {
  return parityCoefficient(repairNumber % MAX_WINDOW_SOURCES, (sequence >>> 0) % MAX_WINDOW_SOURCES);
}

export interface WindowFecEncoderOptions {
  readonly streamId: number;
  /** Repair datagrams per source datagram, 0 < overhead <= 1. */
  readonly overhead: number;
  /** Most sources a repair covers, 1..128. Default 128. */
  readonly maxWindow?: number;
  /** Sources older than this (by the `nowMs` they were protected at) leave the window. */
  readonly windowMs: number;
  readonly authenticator?: Authenticator;
  /** The first sequence number; default 0. */
  readonly firstSequence?: number;
}

export interface WindowFecEncoder {
  /** The sequence number the next source datagram must carry (give it to `packetizeFrame`). */
  readonly nextSequence: number;
  /**
   * Takes a frame's source datagrams (from `packetizeFrame` with `windowSequence: nextSequence`,
   * already tagged) and returns them with repair datagrams placed among them. Keeps views of the
   * sources for the window: do not reuse their memory.
   */
  protect(sources: readonly Uint8Array[], nowMs: number): Uint8Array[];
  /** Repair datagrams made so far. */
  readonly repairs: number;
}

interface Sent {
  readonly sequence: number;
  readonly bytes: Uint8Array;
  readonly atMs: number;
}

export function createWindowFecEncoder(options: WindowFecEncoderOptions): WindowFecEncoder {
  const { streamId, overhead, windowMs, authenticator } = options;
  const maxWindow = options.maxWindow ?? MAX_WINDOW_SOURCES;
  if (!(overhead > 0 && overhead <= 1)) throw new RangeError(`overhead must be above 0 and at most 1, got ${overhead}`);
  if (!Number.isInteger(maxWindow) || maxWindow < 1 || maxWindow > MAX_WINDOW_SOURCES)
    throw new RangeError(`maxWindow must be an integer from 1 to ${MAX_WINDOW_SOURCES}, got ${maxWindow}`);
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be above 0, got ${windowMs}`);
  checkAuthenticator(authenticator, "authenticator");
  const tagBytes = authenticator?.tagBytes ?? 0;
  let next = (options.firstSequence ?? 0) >>> 0;
  let repairNumber = 0;
  let repairs = 0;
  let credit = 0;
  const window: Sent[] = [];

  function repair(): Uint8Array {
    let symbolBytes = 0;
    for (const s of window) symbolBytes = Math.max(symbolBytes, s.bytes.length);
    const total = REPAIR_HEADER_BYTES + symbolBytes + tagBytes;
    if (total > MAX_DATAGRAM_BYTES) throw new RangeError(`a repair of ${total} bytes: sources too large`);
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    out[0] = MAGIC_0;
    out[1] = MAGIC_1;
    out[2] = VERSION;
    out[Offset.flags] = FLAG_WINDOW | (tagBytes > 0 ? FLAG_TAGGED : 0);
    view.setUint32(Offset.streamId, streamId);
    view.setUint32(RepairOffset.end, window[window.length - 1]!.sequence);
    view.setUint16(RepairOffset.repairNumber, repairNumber);
    view.setUint8(RepairOffset.windowLength, window.length);
    view.setUint8(RepairOffset.tagBytes, tagBytes);
    view.setUint16(RepairOffset.symbolBytes, symbolBytes);
    const symbol = out.subarray(REPAIR_HEADER_BYTES, REPAIR_HEADER_BYTES + symbolBytes);
    for (const s of window) mulAdd(symbol, s.bytes, windowCoefficient(repairNumber, s.sequence));
    if (authenticator)
      out.set(authenticator.sign(out.subarray(0, REPAIR_HEADER_BYTES + symbolBytes)), total - tagBytes);
    repairNumber = (repairNumber + 1) & 0xffff;
    repairs++;
    return out;
  }

  return {
    get nextSequence() {
      return next;
    },
    get repairs() {
      return repairs;
    },
    protect(sources, nowMs) {
      const out: Uint8Array[] = [];
      while (window.length > 0 && nowMs - window[0]!.atMs > windowMs) window.shift();
      for (const bytes of sources) {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
        if (bytes.length < HEADER_BYTES + 4 || (bytes[Offset.flags]! & FLAG_WINDOW) === 0)
          throw new RangeError("protect: a source datagram without flag W (packetize with windowSequence)");
        const sequence = view.getUint32(HEADER_BYTES);
        if (sequence !== next) throw new RangeError(`protect: source sequence ${sequence}, expected ${next}`);
        next = (next + 1) >>> 0;
        out.push(bytes);
        window.push({ sequence, bytes, atMs: nowMs });
        if (window.length > maxWindow) window.shift();
        credit += overhead;
        while (credit >= 1) {
          credit -= 1;
          out.push(repair());
        }
      }
      return out;
    },
  };
}
