import { ProtocolError, ProtocolErrorCode, PROTOCOL_ERROR_CODES } from "./errors.js";
import { looksLikeV1, type DecodeFailure } from "./header.js";

/**
 * The seed's format: a 640x480 BGR frame (921,600 bytes) as 20 datagrams, each one byte of chunk
 * index (0..19) followed by 46,080 bytes of the frame. Nothing else: no frame id, no size, no check.
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | index (0..19) |  bytes [index * 46080, (index + 1) * 46080)    |
 * +-+-+-+-+-+-+-+-+  of the frame ... (46,080 bytes)               |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */
export const LEGACY_FRAME_WIDTH = 640;
export const LEGACY_FRAME_HEIGHT = 480;
export const LEGACY_FRAME_BYTES = LEGACY_FRAME_WIDTH * LEGACY_FRAME_HEIGHT * 3;
export const LEGACY_CHUNK_COUNT = 20;
export const LEGACY_CHUNK_BYTES = LEGACY_FRAME_BYTES / LEGACY_CHUNK_COUNT;
export const LEGACY_DATAGRAM_BYTES = 1 + LEGACY_CHUNK_BYTES;
/** The byte the seed's server fills its slots with before the first datagram. */
export const LEGACY_INITIAL_FILL = 0xff;

export interface LegacyDatagram {
  /** 0..19 */
  readonly index: number;
  /** The 46,080 bytes: a `subarray` of the datagram. */
  readonly payload: Uint8Array;
}

/**
 * True when the bytes could be a seed datagram: exactly 46,081 bytes, starting with a chunk index
 * 0..19. For a v1 receiver to say that the sender may use `--protocol legacy` (v1 datagrams of
 * that length can match too: check `looksLikeV1` first).
 */
export function looksLikeLegacyDatagram(bytes: Uint8Array): boolean {
  return bytes.length === LEGACY_DATAGRAM_BYTES && bytes[0]! < LEGACY_CHUNK_COUNT;
}

/** Decodes one seed datagram or throws ProtocolError (TRUNCATED, TRAILING_BYTES, OUT_OF_RANGE). */
export function decodeLegacyDatagram(bytes: Uint8Array): LegacyDatagram {
  const result = tryDecodeLegacyDatagram(bytes);
  if ("code" in result) throw new ProtocolError(result.code, result.offset, result.message);
  return result;
}

/** `decodeLegacyDatagram` returning the failure as data instead of throwing. */
export function tryDecodeLegacyDatagram(bytes: Uint8Array): LegacyDatagram | DecodeFailure {
  if (bytes.length < LEGACY_DATAGRAM_BYTES)
    return {
      code: ProtocolErrorCode.Truncated,
      offset: bytes.length,
      message: `${bytes.length} bytes, a legacy datagram is ${LEGACY_DATAGRAM_BYTES}`,
    };
  if (bytes.length > LEGACY_DATAGRAM_BYTES) {
    return {
      code: ProtocolErrorCode.TrailingBytes,
      offset: LEGACY_DATAGRAM_BYTES,
      message: `${bytes.length - LEGACY_DATAGRAM_BYTES} bytes after the ${LEGACY_DATAGRAM_BYTES} of a legacy datagram`,
    };
  }
  const index = bytes[0]!;
  if (index >= LEGACY_CHUNK_COUNT)
    return {
      code: ProtocolErrorCode.OutOfRange,
      offset: 0,
      message: `chunk index ${index}, legacy frames have ${LEGACY_CHUNK_COUNT} chunks (0..19)`,
    };
  return { index, payload: bytes.subarray(1) };
}

/** One seed datagram: `index` then `chunk` (exactly 46,080 bytes). */
export function encodeLegacyDatagram(index: number, chunk: Uint8Array): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index >= LEGACY_CHUNK_COUNT)
    throw new RangeError(`index must be an integer from 0 to ${LEGACY_CHUNK_COUNT - 1}, got ${String(index)}`);
  if (chunk.length !== LEGACY_CHUNK_BYTES)
    throw new RangeError(`chunk must be ${LEGACY_CHUNK_BYTES} bytes, got ${chunk.length}`);
  const out = new Uint8Array(LEGACY_DATAGRAM_BYTES);
  out[0] = index;
  out.set(chunk, 1);
  return out;
}

/** The seed client's 20 datagrams for one 640x480 BGR frame (921,600 bytes). */
export function packetizeLegacyFrame(bgr: Uint8Array): Uint8Array[] {
  if (bgr.length !== LEGACY_FRAME_BYTES)
    throw new RangeError(`bgr must be ${LEGACY_FRAME_BYTES} bytes (640x480x3), got ${bgr.length}`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < LEGACY_CHUNK_COUNT; i++)
    out.push(encodeLegacyDatagram(i, bgr.subarray(i * LEGACY_CHUNK_BYTES, (i + 1) * LEGACY_CHUNK_BYTES)));
  return out;
}

/**
 * - strict: a frame is emitted at index 19 only when all 20 slots were written since the previous
 *   frame ended, and an index lower than the one before it ends the frame in progress (it can no
 *   longer be whole). Nothing torn is ever emitted; a frame with a lost chunk is dropped.
 * - seed: the seed server's behaviour: at index 19, emit whatever the slots hold (0xFF before the
 *   first write), torn or not.
 */
export type LegacyMode = "strict" | "seed";

export interface LegacyReassemblerOptions {
  /** Default "strict". */
  readonly mode?: LegacyMode;
}

export interface LegacyFrameEvent {
  readonly type: "frame";
  /** Frames ended so far (emitted or dropped) before this one: gaps show drops. */
  readonly frameNumber: number;
  /** 921,600 bytes of BGR, a buffer of its own. */
  readonly payload: Uint8Array;
  /** seed mode: not every slot was written since the previous frame (always false in strict mode). */
  readonly torn: boolean;
}

export interface LegacyDroppedEvent {
  readonly type: "dropped";
  readonly frameNumber: number;
  readonly reason: "incomplete";
  /** Slots written for this frame before it ended. */
  readonly chunksReceived: number;
}

export type LegacyEvent = LegacyFrameEvent | LegacyDroppedEvent;

export interface LegacyCounters {
  readonly datagramsAccepted: number;
  /** strict: the same index twice in a row (ignored); seed: a slot written twice in one frame. */
  readonly datagramsDuplicate: number;
  readonly datagramsMalformed: number;
  readonly malformedByCode: Readonly<Record<ProtocolErrorCode, number>>;
  /** Of the malformed ones, how many start like v1 datagrams ("UC", version 1): the sender may use --protocol v1. */
  readonly datagramsV1Like: number;
  readonly framesComplete: number;
  /** seed mode: frames emitted torn. */
  readonly framesTorn: number;
  readonly framesDropped: number;
  readonly bytesReceived: number;
  readonly bytesEmitted: number;
}

export interface LegacyReassembler {
  push(datagram: Uint8Array, nowMs?: number): LegacyEvent[];
  readonly mode: LegacyMode;
  readonly counters: LegacyCounters;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function createLegacyReassembler(options: LegacyReassemblerOptions = {}): LegacyReassembler {
  const mode = options.mode ?? "strict";
  if (mode !== "strict" && mode !== "seed")
    throw new RangeError(`mode must be "strict" or "seed", got ${String(mode)}`);
  let buffer = new Uint8Array(LEGACY_FRAME_BYTES);
  if (mode === "seed") buffer.fill(LEGACY_INITIAL_FILL);
  const filled = new Uint8Array(LEGACY_CHUNK_COUNT);
  let filledCount = 0;
  let previous = -1;
  let frameNumber = 0;
  const malformedByCode = Object.fromEntries(PROTOCOL_ERROR_CODES.map((code) => [code, 0])) as Record<
    ProtocolErrorCode,
    number
  >;
  const c: Mutable<Omit<LegacyCounters, "malformedByCode">> = {
    datagramsAccepted: 0,
    datagramsDuplicate: 0,
    datagramsMalformed: 0,
    datagramsV1Like: 0,
    framesComplete: 0,
    framesTorn: 0,
    framesDropped: 0,
    bytesReceived: 0,
    bytesEmitted: 0,
  };

  /** Starts the next frame. `previous` stays: a repeat of the last index is still a duplicate. */
  function endFrame(): void {
    filled.fill(0);
    filledCount = 0;
    frameNumber++;
  }

  function dropped(events: LegacyEvent[]): void {
    c.framesDropped++;
    events.push({ type: "dropped", frameNumber, reason: "incomplete", chunksReceived: filledCount });
    endFrame();
  }

  function emit(events: LegacyEvent[], payload: Uint8Array, torn: boolean): void {
    c.framesComplete++;
    if (torn) c.framesTorn++;
    c.bytesEmitted += payload.length;
    events.push({ type: "frame", frameNumber, payload, torn });
    endFrame();
  }

  function push(datagram: Uint8Array): LegacyEvent[] {
    c.bytesReceived += datagram.length;
    const d = tryDecodeLegacyDatagram(datagram);
    if ("code" in d) {
      c.datagramsMalformed++;
      malformedByCode[d.code]++;
      if (looksLikeV1(datagram)) c.datagramsV1Like++;
      return [];
    }
    const events: LegacyEvent[] = [];
    const index = d.index;
    if (mode === "strict") {
      if (index === previous) {
        c.datagramsDuplicate++;
        return events;
      }
      if (index < previous && filledCount > 0) dropped(events);
    } else if (filled[index] === 1) {
      c.datagramsDuplicate++;
    }
    c.datagramsAccepted++;
    buffer.set(d.payload, index * LEGACY_CHUNK_BYTES);
    if (filled[index] === 0) {
      filled[index] = 1;
      filledCount++;
    }
    previous = index;
    if (index === LEGACY_CHUNK_COUNT - 1) {
      if (mode === "seed") emit(events, buffer.slice(), filledCount < LEGACY_CHUNK_COUNT);
      else if (filledCount === LEGACY_CHUNK_COUNT) {
        const whole = buffer;
        buffer = new Uint8Array(LEGACY_FRAME_BYTES);
        emit(events, whole, false);
      } else dropped(events);
    }
    return events;
  }

  return {
    push,
    mode,
    get counters(): LegacyCounters {
      return { ...c, malformedByCode: { ...malformedByCode } };
    },
  };
}
