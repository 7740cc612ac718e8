/**
 * Stable codes for every way a datagram can be refused. A receiver counts them by code;
 * tests assert them. Adding a code is a minor change, renaming one is a major change.
 */
export const ProtocolErrorCode = {
  /** Fewer bytes than the header, or than the header says the payload needs. */
  Truncated: "TRUNCATED",
  /** The first two bytes are not "UC". */
  BadMagic: "BAD_MAGIC",
  /** A version this library does not speak. */
  UnsupportedVersion: "UNSUPPORTED_VERSION",
  /** A flag or reserved bit that v1 leaves at zero is set. */
  ReservedBits: "RESERVED_BITS",
  /** A codec number this library does not know. */
  UnknownCodec: "UNKNOWN_CODEC",
  /** A field holds a value outside its range, or fields contradict each other. */
  OutOfRange: "OUT_OF_RANGE",
  /** More bytes than the header says the datagram holds. */
  TrailingBytes: "TRAILING_BYTES",
  /** A datagram disagrees with earlier datagrams of the same frame (size, codec, FEC layout...). */
  Inconsistent: "INCONSISTENT",
  /** The frame is larger than the receiver accepts (`maxFrameBytes`). */
  TooLarge: "TOO_LARGE",
  /** RTP: a payload type other than the one expected (26, JPEG, unless configured). */
  PayloadType: "PAYLOAD_TYPE",
  /** RTP/JPEG: a JPEG type this library does not rebuild (RFC 2435 types 0, 1, 64 and 65 are). */
  UnsupportedType: "UNSUPPORTED_TYPE",
  /** RTP/JPEG: Q 128-255 with no in-band tables, and none received earlier for that Q. */
  TablesMissing: "TABLES_MISSING",
  /** RTP/JPEG: a fragment past the end of its frame (as the marker packet sets it). */
  OffsetPastEnd: "OFFSET_PAST_END",
} as const;
export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

/** Every code, in a stable order (for counters and docs). */
export const PROTOCOL_ERROR_CODES: readonly ProtocolErrorCode[] = Object.values(ProtocolErrorCode);

const MARKER = Symbol.for("@udpcam/protocol.ProtocolError");

/**
 * The one error this package throws for bad input bytes. `code` is stable, `offset` is the
 * byte offset of the offending field in the datagram.
 */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  readonly code: ProtocolErrorCode;
  readonly offset: number;
  /** Marks instances across two installed copies of this package (see `isInstance`). */
  readonly [MARKER] = true;

  constructor(code: ProtocolErrorCode, offset: number, message: string) {
    super(`${code} at offset ${offset}: ${message}`);
    this.code = code;
    this.offset = offset;
  }

  /** True for a ProtocolError from any copy of this package (`instanceof` is not, across copies). */
  static isInstance(value: unknown): value is ProtocolError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}
