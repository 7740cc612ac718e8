import {
  checkAuthenticator,
  checkCipher,
  verifyTag,
  type Authenticator,
  type PayloadCipher,
  type Protection,
  type TagVerdict,
} from "./auth.js";
import { ProtocolErrorCode } from "./errors.js";
import { parityCoefficient } from "./fec.js";
import { mulAdd } from "./gf256.js";
import {
  FLAG_ENCRYPTED,
  FLAG_TAGGED,
  FLAG_WINDOW,
  HEADER_BYTES,
  MAGIC_0,
  MAGIC_1,
  MAX_DATAGRAM_BYTES,
  Offset,
  SALT_BYTES,
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
 * | magic 'U' 0x55| magic 'C' 0x43|  version (1)  |R R R R R 1 E A|  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           stream id                           |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        window end: sequence number of the last source         |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        repair number R        | window length | tag bytes (T) | 12
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      symbol bytes (S)         |         0 (repair mark)       | 16
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | salt (16 bytes, only when flag E is set): the salt of source E | 20
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | repair symbol (S bytes) ...                                   | 20 (36 with E)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | tag (T bytes, only when flag A is set): covers bytes 0 to the |
 * | end of the symbol; with E, a MAC under the repair key of the  |
 * | salt (`PayloadCipher.signRepair`), never the AEAD             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * E requires A, as for sources. An encrypted stream's sources are ciphertext with their header, salt
 * and AEAD tag: a repair is a linear combination of bytes that are all on the wire already, so it
 * needs no confidentiality of its own, only authentication (docs/protocol.md 1.8).
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
/**
 * Bytes before a repair's symbol: the header, and the salt with flag E. A source datagram leaves room
 * for them (and the tag) so that the repair carrying it as a symbol fits the datagram size.
 */
export function repairPrefixBytes(encrypted: boolean): number {
  return REPAIR_HEADER_BYTES + (encrypted ? SALT_BYTES : 0);
}

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
  /** Flag E: the repair belongs to an encrypted stream and carries the salt of its newest source. */
  readonly encrypted: boolean;
  /** Flag E: the salt (a view), else undefined. */
  readonly salt: Uint8Array | undefined;
  readonly symbol: Uint8Array;
  readonly tag: Uint8Array | undefined;
  /** Header, salt and symbol: the bytes the tag covers. */
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
  if (flags & ~(FLAG_WINDOW | FLAG_TAGGED | FLAG_ENCRYPTED) & 0xff)
    return { code: ProtocolErrorCode.ReservedBits, message: `repair flags 0x${flags.toString(16)}` };
  const tagBytes = view.getUint8(RepairOffset.tagBytes);
  if (((flags & FLAG_TAGGED) !== 0) !== tagBytes > 0)
    return { code: ProtocolErrorCode.OutOfRange, message: `repair tag bytes ${tagBytes} against the tag flag` };
  const encrypted = (flags & FLAG_ENCRYPTED) !== 0;
  if (encrypted && tagBytes === 0)
    return { code: ProtocolErrorCode.OutOfRange, message: "an encrypted stream's repair (flag E) must be tagged" };
  const windowLength = view.getUint8(RepairOffset.windowLength);
  if (windowLength < 1 || windowLength > MAX_WINDOW_SOURCES)
    return { code: ProtocolErrorCode.OutOfRange, message: `repair window length ${windowLength}, must be 1..128` };
  const symbolBytes = view.getUint16(RepairOffset.symbolBytes);
  if (symbolBytes < HEADER_BYTES)
    return { code: ProtocolErrorCode.OutOfRange, message: `repair symbol of ${symbolBytes} bytes, under a header` };
  const prefix = repairPrefixBytes(encrypted);
  const expected = prefix + symbolBytes + tagBytes;
  if (bytes.length < expected)
    return { code: ProtocolErrorCode.Truncated, message: `${bytes.length} bytes, the repair needs ${expected}` };
  if (bytes.length > expected)
    return { code: ProtocolErrorCode.TrailingBytes, message: `${bytes.length - expected} bytes after the repair` };
  const end = prefix + symbolBytes;
  return {
    streamId: view.getUint32(Offset.streamId),
    windowEnd: view.getUint32(RepairOffset.end),
    windowLength,
    repairNumber: view.getUint16(RepairOffset.repairNumber),
    tagBytes,
    encrypted,
    salt: encrypted ? bytes.subarray(REPAIR_HEADER_BYTES, prefix) : undefined,
    symbol: bytes.subarray(prefix, end),
    tag: tagBytes > 0 ? bytes.subarray(end) : undefined,
    signed: bytes.subarray(0, end),
  };
}

export function isRepairFailure(r: RepairDatagram | RepairFailure): r is RepairFailure {
  return (r as Partial<RepairDatagram>).symbol === undefined;
}

/**
 * What a receiver makes of a repair's tag, as `openDatagram` does of a source's: an encrypted stream's
 * repair (flag E) is checked by the cipher's repair MAC (`verifyRepair`, under the key of its salt),
 * an authenticated one's (flag A alone) by the authenticator; a receiver that accepts only encrypted
 * datagrams (a cipher, no authenticator) refuses the second kind as `unencrypted`.
 */
export function repairVerdict(
  r: Pick<RepairDatagram, "encrypted" | "salt" | "tag" | "tagBytes" | "signed">,
  protection: Protection,
): TagVerdict {
  const { authenticator, cipher } = protection;
  if (r.encrypted) {
    if (authenticator === undefined && cipher === undefined) return "auth-required";
    if (cipher === undefined || r.tag === undefined || r.salt === undefined || r.tagBytes !== cipher.tagBytes)
      return "unauthenticated";
    return cipher.verifyRepair(r.salt, r.signed, r.tag) ? "accepted" : "unauthenticated";
  }
  if (authenticator === undefined && cipher !== undefined) return r.tag === undefined ? "untagged" : "unencrypted";
  return verifyTag(r, authenticator);
}

/** The coefficient of source `sequence` in repair `repairNumber`: never 0. */
export function windowCoefficient(repairNumber: number, sequence: number): number {
  return parityCoefficient(repairNumber % MAX_WINDOW_SOURCES, (sequence >>> 0) % MAX_WINDOW_SOURCES);
}

export interface WindowFecEncoderOptions {
  readonly streamId: number;
  /**
   * Repair datagrams per source datagram, 0 < overhead <= 1: a credit, spent at the end of each frame
   * (rounded up, the rest carried to the next frame, so the long-run share is exactly this).
   */
  readonly overhead: number;
  /** Most sources a repair covers, 1..128. Default 128. */
  readonly maxWindow?: number;
  /** Sources older than this (by the `nowMs` they were protected at) leave the window. */
  readonly windowMs: number;
  /** Tags repairs (flag A), as the sources are: give the one `packetizeFrame` got. */
  readonly authenticator?: Authenticator;
  /**
   * For an encrypted stream (its sources packetized with this cipher): repairs carry flags E and A,
   * the salt of their newest source, and a tag from `cipher.signRepair` (no AEAD nonce is spent on
   * them). Not with `authenticator`.
   */
  readonly cipher?: PayloadCipher;
  /** The first sequence number; default 0. */
  readonly firstSequence?: number;
}

export interface WindowFecEncoder {
  /** The sequence number the next source datagram must carry (give it to `packetizeFrame`). */
  readonly nextSequence: number;
  /**
   * Takes a frame's source datagrams (from `packetizeFrame` with `windowSequence: nextSequence`,
   * already tagged) and returns them followed by the frame's repair datagrams (a frame of more than
   * `maxWindow` sources: repairs after each run of `maxWindow`). Give one frame per call: the repairs
   * are placed at its end. Keeps views of the sources for the window: do not reuse their memory.
   */
  protect(sources: readonly Uint8Array[], nowMs: number): Uint8Array[];
  /** Repair datagrams made so far. */
  readonly repairs: number;
}

/** Below this, credit is rounding error of the sum of overheads, not a repair owed. */
const CREDIT_EPSILON = 1e-9;

interface Sent {
  readonly sequence: number;
  readonly bytes: Uint8Array;
  readonly atMs: number;
}

export function createWindowFecEncoder(options: WindowFecEncoderOptions): WindowFecEncoder {
  const { streamId, overhead, windowMs, authenticator, cipher } = options;
  const maxWindow = options.maxWindow ?? MAX_WINDOW_SOURCES;
  if (!(overhead > 0 && overhead <= 1)) throw new RangeError(`overhead must be above 0 and at most 1, got ${overhead}`);
  if (!Number.isInteger(maxWindow) || maxWindow < 1 || maxWindow > MAX_WINDOW_SOURCES)
    throw new RangeError(`maxWindow must be an integer from 1 to ${MAX_WINDOW_SOURCES}, got ${maxWindow}`);
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be above 0, got ${windowMs}`);
  checkAuthenticator(authenticator, "authenticator");
  checkCipher(cipher, "cipher");
  if (authenticator !== undefined && cipher !== undefined)
    throw new RangeError("authenticator and cipher: give one (the cipher tags an encrypted stream's repairs)");
  const tagBytes = cipher?.tagBytes ?? authenticator?.tagBytes ?? 0;
  const encrypted = cipher !== undefined;
  const prefix = repairPrefixBytes(encrypted);
  let next = (options.firstSequence ?? 0) >>> 0;
  let repairNumber = 0;
  let repairs = 0;
  let credit = 0;
  const window: Sent[] = [];

  function repair(): Uint8Array {
    let symbolBytes = 0;
    for (const s of window) symbolBytes = Math.max(symbolBytes, s.bytes.length);
    const total = prefix + symbolBytes + tagBytes;
    if (total > MAX_DATAGRAM_BYTES) throw new RangeError(`a repair of ${total} bytes: sources too large`);
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    out[0] = MAGIC_0;
    out[1] = MAGIC_1;
    out[2] = VERSION;
    out[Offset.flags] = FLAG_WINDOW | (tagBytes > 0 ? FLAG_TAGGED : 0) | (encrypted ? FLAG_ENCRYPTED : 0);
    view.setUint32(Offset.streamId, streamId);
    view.setUint32(RepairOffset.end, window[window.length - 1]!.sequence);
    view.setUint16(RepairOffset.repairNumber, repairNumber);
    view.setUint8(RepairOffset.windowLength, window.length);
    view.setUint8(RepairOffset.tagBytes, tagBytes);
    view.setUint16(RepairOffset.symbolBytes, symbolBytes);
    const symbol = out.subarray(prefix, prefix + symbolBytes);
    for (const s of window) mulAdd(symbol, s.bytes, windowCoefficient(repairNumber, s.sequence));
    const signed = out.subarray(0, prefix + symbolBytes);
    let tag: Uint8Array | undefined;
    if (cipher) {
      // The newest source's salt: the run's, which binds the repair to it (a receiver matches it).
      const salt = window[window.length - 1]!.bytes.subarray(HEADER_BYTES, HEADER_BYTES + SALT_BYTES);
      out.set(salt, REPAIR_HEADER_BYTES);
      tag = cipher.signRepair(salt, signed);
    } else if (authenticator) tag = authenticator.sign(signed);
    if (tag !== undefined) {
      if (tag.length !== tagBytes)
        throw new RangeError(`the repair tag is ${tag.length} bytes, tagBytes is ${tagBytes}`);
      out.set(tag, total - tagBytes);
    }
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
      let run = 0;
      for (const [i, bytes] of sources.entries()) {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
        if (
          bytes.length < HEADER_BYTES + (encrypted ? SALT_BYTES : 0) + 4 ||
          (bytes[Offset.flags]! & FLAG_WINDOW) === 0
        )
          throw new RangeError("protect: a source datagram without flag W (packetize with windowSequence)");
        if (((bytes[Offset.flags]! & FLAG_ENCRYPTED) !== 0) !== encrypted)
          throw new RangeError(
            encrypted
              ? "protect: a source datagram without flag E, but the encoder has a cipher (packetize with it)"
              : "protect: an encrypted source datagram (flag E): give the encoder the cipher",
          );
        const sequence = view.getUint32(HEADER_BYTES + (encrypted ? SALT_BYTES : 0));
        if (sequence !== next) throw new RangeError(`protect: source sequence ${sequence}, expected ${next}`);
        next = (next + 1) >>> 0;
        out.push(bytes);
        window.push({ sequence, bytes, atMs: nowMs });
        if (window.length > maxWindow) window.shift();
        credit += overhead;
        // The frame's repairs go out after its last source (and after each run of maxWindow sources of a
        // larger frame), when every one of them is in the window: a loss anywhere in the frame, its tail
        // included, is rebuilt from repairs that arrive with the frame, not with the next one.
        if (++run === maxWindow || i === sources.length - 1) {
          const due = credit > CREDIT_EPSILON ? Math.ceil(credit - CREDIT_EPSILON) : 0;
          credit -= due;
          for (let r = 0; r < due; r++) out.push(repair());
          run = 0;
        }
      }
      return out;
    },
  };
}
