// Over 300 lines on purpose (400 once formatted): the per-packet path and the memory it holds (streams, frames in
// flight, the byte budget) are one state machine; splitting them would pass most of it around.
import { ProtocolErrorCode, PROTOCOL_ERROR_CODES } from "./errors.js";
import { quantTablesBytes } from "./jfif.js";
import { QUANT_TABLE_BYTES, scaledQuantTables } from "./jpeg-tables.js";
import { positiveInteger } from "./reassembler.js";
import type {
  DropReason,
  DroppedEvent,
  FrameEvent,
  StreamEndedEvent,
  StreamStartedEvent,
} from "./reassembly-events.js";
import {
  assembleJfif,
  createRtpJpegFrame,
  isComplete,
  placeFragment,
  sameRtpJpegLayout,
  type RtpJpegFrame,
} from "./rtp-jpeg-frame.js";
import {
  isRtpDecodeFailure,
  RTP_JPEG_CLOCK_HZ,
  RTP_JPEG_MAX_SCAN_BYTES,
  RTP_JPEG_PAYLOAD_TYPE,
  tryDecodeRtpJpeg,
  type RtpJpegPacket,
} from "./rtp-jpeg-header.js";
import { serial16Diff, serialDiff } from "./serial.js";
import { admissionLimits, admitStream, type RefusalCause } from "./stream-admission.js";

/**
 * RTP/JPEG in, whole JPEG files out. Each SSRC is a stream (its id); a frame is the packets
 * sharing a timestamp, placed by fragment offset whatever order they arrive in, and emitted only
 * when every byte from 0 to the marker packet's end arrived, with the JFIF headers rebuilt from
 * the JPEG header and the tables. Like the v1 reassembler: synchronous, no sockets or timers,
 * bounded memory, every packet counted in exactly one counter.
 */
export interface RtpJpegReassemblerOptions {
  /** The payload type accepted; others are refused (PAYLOAD_TYPE). Default 26. */
  readonly payloadType?: number;
  /** Frames whose scan would pass this are refused (TOO_LARGE). Default 16 MiB (the 24-bit offset's reach). */
  readonly maxFrameBytes?: number;
  /** Incomplete frames per stream; past it the oldest is dropped ("overflow"). Default 8. */
  readonly maxFramesInFlight?: number;
  /**
   * SSRCs tracked at once; a new one replaces one that has not completed a frame, or is refused
   * (`datagramsOverStreamCap`): see stream-admission.ts. Default 8.
   */
  readonly maxStreams?: number;
  /** SSRCs tracked at once per source address (the `source` given to `push`). Default (and at most): maxStreams. */
  readonly maxStreamsPerSource?: number;
  /** Bytes held by all incomplete frames; past it the oldest frame is dropped ("overflow"). Default 64 MiB. */
  readonly maxBufferedBytes?: number;
  /** `expire` drops frames whose first packet is older than this. Default 1000 ms. */
  readonly frameTimeoutMs?: number;
  /** `expire` forgets streams silent this long. Default 10,000 ms. */
  readonly streamTimeoutMs?: number;
  /** Packets further behind the newest sequence number of their stream are late. Default 1024. */
  readonly reorderWindow?: number;
}

/** A rebuilt frame, with the RTP timestamp it carried (`timestampMs` is that timestamp in ms, on the sender's media clock). */
export interface RtpJpegFrameEvent extends FrameEvent {
  readonly rtpTimestamp: number;
}

export type RtpJpegEvent = RtpJpegFrameEvent | DroppedEvent | StreamStartedEvent | StreamEndedEvent;

/** Plain data; packet counters add up: every pushed packet lands in exactly one. */
export interface RtpJpegCounters {
  /** Placed in a frame. */
  readonly datagramsAccepted: number;
  /** A fragment already held, or one of a frame already emitted. */
  readonly datagramsDuplicate: number;
  /** Refused (see `malformedByCode`): bad version, payload type, type, sizes, tables missing, offsets past the end... */
  readonly datagramsMalformed: number;
  readonly malformedByCode: Readonly<Record<ProtocolErrorCode, number>>;
  /** For a frame already given up or behind the last emitted, or outside the reorder window. */
  readonly datagramsLate: number;
  /** Of a new SSRC from a source at `maxStreamsPerSource`, none of whose streams may be replaced. */
  readonly datagramsOverSourceCap: number;
  /** Of a new SSRC while `maxStreams` are tracked and none may be replaced. */
  readonly datagramsOverStreamCap: number;
  readonly framesComplete: number;
  readonly framesDropped: number;
  /** Frames first seen after a newer frame of their stream was emitted. */
  readonly framesLate: number;
  readonly bytesReceived: number;
  readonly bytesEmitted: number;
  readonly streams: number;
  readonly framesInFlight: number;
  readonly bufferedBytes: number;
}

export interface RtpJpegReassembler {
  /** `source` names where the packet came from (an address) for `maxStreamsPerSource`. */
  push(datagram: Uint8Array, nowMs: number, source?: string): RtpJpegEvent[];
  expire(nowMs: number): RtpJpegEvent[];
  readonly counters: RtpJpegCounters;
  /** The gauges `counters.framesInFlight` and `counters.streams` without a snapshot (see the v1 `Reassembler`'s). */
  readonly framesInFlight: number;
  readonly streams: number;
  /** When `expire` may next have work (see the v1 `Reassembler`'s): a frame or stream times out just after it. */
  readonly nextExpiryMs: number;
}

export const DEFAULT_RTP_MAX_FRAMES_IN_FLIGHT = 8;
export const DEFAULT_RTP_MAX_STREAMS = 8;
export const DEFAULT_RTP_MAX_BUFFERED_BYTES = 64 << 20;
export const DEFAULT_RTP_REORDER_WINDOW = 1024;
/** Bookkeeping charged per fragment held, on top of its bytes: a flood of 1-byte fragments is bounded too. */
const FRAGMENT_OVERHEAD_BYTES = 64;
/** Outcomes remembered per stream, to tell a late packet from a duplicate. */
const REMEMBERED_FRAMES = 64;
/** A timestamp this far behind the last emitted is a restarted clock, not a late frame: 5 s at 90 kHz. */
const CLOCK_RESTART_TICKS = 5 * RTP_JPEG_CLOCK_HZ;

interface Stream {
  readonly ssrc: number;
  readonly frames: Map<number, RtpJpegFrame>;
  readonly finished: Map<number, boolean>;
  /** Tables by Q (128-255) as last received in-band: for frames that send them once only. */
  readonly tablesByQ: Map<number, NonNullable<RtpJpegFrame["tables"]>>;
  lastEmitted: number | undefined;
  highestSequence: number | undefined;
  nextFrameNumber: number;
  lastActivityMs: number;
  readonly source: string | undefined;
  readonly firstSeenMs: number;
  /** Whether it has emitted a frame: then a newcomer cannot replace it. */
  proven: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function createRtpJpegReassembler(options: RtpJpegReassemblerOptions = {}): RtpJpegReassembler {
  const payloadType = options.payloadType ?? RTP_JPEG_PAYLOAD_TYPE;
  if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127)
    throw new RangeError(`payloadType must be an integer from 0 to 127, got ${String(payloadType)}`);
  const maxFrameBytes = positiveInteger("maxFrameBytes", options.maxFrameBytes, RTP_JPEG_MAX_SCAN_BYTES + 1);
  const maxFramesInFlight = positiveInteger(
    "maxFramesInFlight",
    options.maxFramesInFlight,
    DEFAULT_RTP_MAX_FRAMES_IN_FLIGHT,
  );
  const admission = admissionLimits(
    positiveInteger("maxStreams", options.maxStreams, DEFAULT_RTP_MAX_STREAMS),
    options.maxStreamsPerSource,
  );
  const maxBufferedBytes = positiveInteger(
    "maxBufferedBytes",
    options.maxBufferedBytes,
    DEFAULT_RTP_MAX_BUFFERED_BYTES,
  );
  const frameTimeoutMs = positiveInteger("frameTimeoutMs", options.frameTimeoutMs, 1000);
  const streamTimeoutMs = positiveInteger("streamTimeoutMs", options.streamTimeoutMs, 10_000);
  const reorderWindow = positiveInteger("reorderWindow", options.reorderWindow, DEFAULT_RTP_REORDER_WINDOW);
  if (reorderWindow > 0x7fff) throw new RangeError(`reorderWindow must be at most 32767, got ${reorderWindow}`);

  const streams = new Map<number, Stream>();
  const scaled = new Map<number, NonNullable<RtpJpegFrame["tables"]>>();
  const malformedByCode = Object.fromEntries(PROTOCOL_ERROR_CODES.map((code) => [code, 0])) as Record<
    ProtocolErrorCode,
    number
  >;
  const c: Mutable<Omit<RtpJpegCounters, "malformedByCode" | "streams" | "framesInFlight" | "bufferedBytes">> = {
    datagramsAccepted: 0,
    datagramsDuplicate: 0,
    datagramsMalformed: 0,
    datagramsLate: 0,
    datagramsOverSourceCap: 0,
    datagramsOverStreamCap: 0,
    framesComplete: 0,
    framesDropped: 0,
    framesLate: 0,
    bytesReceived: 0,
    bytesEmitted: 0,
  };
  let bufferedBytes = 0;
  let framesInFlight = 0;
  // Lowered as frames and streams start, set exactly by expire (see `nextExpiryMs`).
  let nextExpiryMs = Number.POSITIVE_INFINITY;

  function malformed(code: ProtocolErrorCode, events: RtpJpegEvent[] = []): RtpJpegEvent[] {
    c.datagramsMalformed++;
    malformedByCode[code]++;
    return events;
  }

  function remember(stream: Stream, timestamp: number, emitted: boolean): void {
    stream.finished.set(timestamp, emitted);
    if (stream.finished.size > REMEMBERED_FRAMES) stream.finished.delete(stream.finished.keys().next().value!);
  }

  function release(stream: Stream, frame: RtpJpegFrame): void {
    stream.frames.delete(frame.timestamp);
    bufferedBytes -= frame.charged;
    framesInFlight--;
  }

  function drop(stream: Stream, frame: RtpJpegFrame, reason: DropReason, events: RtpJpegEvent[]): void {
    release(stream, frame);
    remember(stream, frame.timestamp, false);
    c.framesDropped++;
    events.push({
      type: "dropped",
      streamId: stream.ssrc,
      frameNumber: frame.frameNumber,
      reason,
      chunksReceived: frame.fragments.length,
      chunkCount: 0,
    });
  }

  function forget(stream: Stream, reason: "idle" | "evicted", events: RtpJpegEvent[]): void {
    for (const frame of [...stream.frames.values()]) drop(stream, frame, "evicted", events);
    streams.delete(stream.ssrc);
    events.push({ type: "stream-ended", streamId: stream.ssrc, reason });
  }

  /** The stream of `ssrc`, started when new (see stream-admission.ts), or why it was refused. */
  function streamOf(
    ssrc: number,
    nowMs: number,
    source: string | undefined,
    events: RtpJpegEvent[],
  ): Stream | RefusalCause {
    let stream = streams.get(ssrc);
    if (stream === undefined) {
      const admitted = admitStream(streams, source, admission);
      if (admitted.kind === "refuse") return admitted.cause;
      if (admitted.evict !== undefined) forget(admitted.evict, "evicted", events);
      stream = {
        ssrc,
        frames: new Map(),
        finished: new Map(),
        tablesByQ: new Map(),
        lastEmitted: undefined,
        highestSequence: undefined,
        nextFrameNumber: 0,
        lastActivityMs: nowMs,
        source,
        firstSeenMs: nowMs,
        proven: false,
      };
      streams.set(ssrc, stream);
      events.push({ type: "stream-started", streamId: ssrc });
    }
    stream.lastActivityMs = nowMs;
    // A no-op but for a stream's first packet (or a clock that went back).
    if (nowMs + streamTimeoutMs < nextExpiryMs) nextExpiryMs = nowMs + streamTimeoutMs;
    return stream;
  }

  /** The oldest frame but `keep` of the stream that holds the most bytes: who pays when the budget is full. */
  function victimFrame(keep: RtpJpegFrame | undefined): [Stream, RtpJpegFrame] | undefined {
    let found: [Stream, RtpJpegFrame] | undefined;
    let foundHolds = -1;
    for (const s of streams.values()) {
      let holds = 0;
      let oldest: RtpJpegFrame | undefined;
      for (const f of s.frames.values()) {
        holds += f.charged;
        if (f !== keep && (oldest === undefined || f.firstArrivalMs < oldest.firstArrivalMs)) oldest = f;
      }
      if (oldest !== undefined && holds > foundHolds) {
        found = [s, oldest];
        foundHolds = holds;
      }
    }
    return found;
  }

  /** Tables for the frame from its first packet: scaled from Q, in-band, or sent earlier; undefined = missing or malformed (code given). */
  function tablesOf(stream: Stream, p: RtpJpegPacket): NonNullable<RtpJpegFrame["tables"]> | ProtocolErrorCode {
    if (p.q < 128) {
      let tables = scaled.get(p.q);
      if (tables === undefined) scaled.set(p.q, (tables = { bytes: scaledQuantTables(p.q), precision: 0 }));
      return tables;
    }
    const given = p.tables!;
    if (given.length === 0) return stream.tablesByQ.get(p.q) ?? ProtocolErrorCode.TablesMissing;
    const precision = p.tablePrecision & 3;
    const one = (precision & 1 ? 2 : 1) * QUANT_TABLE_BYTES;
    let bytes: Uint8Array;
    if (given.length >= quantTablesBytes(precision)) bytes = given.slice(0, quantTablesBytes(precision));
    else if (given.length === one) {
      // One table for all three components: the chrominance table is the same one.
      bytes = new Uint8Array(2 * one);
      bytes.set(given);
      bytes.set(given, one);
      const tables = { bytes, precision: precision & 1 ? 3 : 0 };
      stream.tablesByQ.set(p.q, tables);
      return tables;
    } else return ProtocolErrorCode.Truncated;
    const tables = { bytes, precision };
    stream.tablesByQ.set(p.q, tables);
    return tables;
  }

  /** The frame in flight for the packet, undefined for a new one, or why the packet is not wanted. */
  function frameOf(stream: Stream, p: RtpJpegPacket): RtpJpegFrame | "late" | "duplicate" | undefined {
    const existing = stream.frames.get(p.timestamp);
    if (existing !== undefined) return existing;
    const outcome = stream.finished.get(p.timestamp);
    if (outcome !== undefined) return outcome ? "duplicate" : "late";
    if (stream.lastEmitted !== undefined) {
      const behind = serialDiff(p.timestamp, stream.lastEmitted);
      if (behind < -CLOCK_RESTART_TICKS) stream.lastEmitted = undefined;
      else if (behind <= 0) {
        c.framesLate++;
        remember(stream, p.timestamp, false);
        return "late";
      }
    }
    return undefined;
  }

  /** Puts a new frame in flight (dropping the stream's oldest past maxFramesInFlight); undefined when it is itself the oldest of a full stream. */
  function open(stream: Stream, p: RtpJpegPacket, nowMs: number, events: RtpJpegEvent[]): RtpJpegFrame | undefined {
    if (stream.frames.size >= maxFramesInFlight) {
      let oldest: RtpJpegFrame | undefined;
      for (const f of stream.frames.values())
        if (oldest === undefined || serialDiff(f.timestamp, oldest.timestamp) < 0) oldest = f;
      if (serialDiff(p.timestamp, oldest!.timestamp) < 0) return undefined;
      drop(stream, oldest!, "overflow", events);
    }
    const frame = createRtpJpegFrame(p, stream.nextFrameNumber, nowMs);
    stream.nextFrameNumber = (stream.nextFrameNumber + 1) >>> 0;
    stream.frames.set(p.timestamp, frame);
    framesInFlight++;
    nextExpiryMs = Math.min(nextExpiryMs, nowMs + frameTimeoutMs);
    return frame;
  }

  /** Makes room for `bytes` more, dropping frames but `frame` (see `victimFrame`); false when even that is not enough. */
  function charge(frame: RtpJpegFrame, bytes: number, events: RtpJpegEvent[]): boolean {
    while (bufferedBytes + bytes > maxBufferedBytes) {
      const oldest = victimFrame(frame);
      if (oldest === undefined) return false;
      drop(oldest[0], oldest[1], "overflow", events);
    }
    bufferedBytes += bytes;
    frame.charged += bytes;
    return true;
  }

  function emit(stream: Stream, frame: RtpJpegFrame, events: RtpJpegEvent[]): void {
    const payload = assembleJfif(frame);
    release(stream, frame);
    remember(stream, frame.timestamp, true);
    stream.lastEmitted = frame.timestamp;
    stream.proven = true;
    c.framesComplete++;
    c.bytesEmitted += payload.length;
    const { frameNumber, width, height, firstArrivalMs, timestamp } = frame;
    events.push({
      type: "frame",
      streamId: stream.ssrc,
      frameNumber,
      codec: "jpeg",
      width,
      height,
      fps: 0,
      timestampMs: timestamp / 90,
      payload,
      recovered: false,
      firstArrivalMs,
      rtpTimestamp: timestamp,
    });
    for (const older of [...stream.frames.values()])
      if (serialDiff(older.timestamp, frame.timestamp) < 0) drop(stream, older, "superseded", events);
  }

  function push(datagram: Uint8Array, nowMs: number, source?: string): RtpJpegEvent[] {
    c.bytesReceived += datagram.length;
    const p = tryDecodeRtpJpeg(datagram);
    if (isRtpDecodeFailure(p)) return malformed(p.code);
    if (p.payloadType !== payloadType) return malformed(ProtocolErrorCode.PayloadType);
    if (p.fragmentOffset + p.payload.length > maxFrameBytes) return malformed(ProtocolErrorCode.TooLarge);

    const events: RtpJpegEvent[] = [];
    const stream = streamOf(p.ssrc, nowMs, source, events);
    if (typeof stream === "string") {
      c[stream === "source" ? "datagramsOverSourceCap" : "datagramsOverStreamCap"]++;
      return events;
    }
    if (stream.highestSequence !== undefined) {
      const ahead = serial16Diff(p.sequence, stream.highestSequence);
      if (ahead < -reorderWindow) {
        c.datagramsLate++;
        return events;
      }
      if (ahead > 0) stream.highestSequence = p.sequence;
    } else stream.highestSequence = p.sequence;

    const found = frameOf(stream, p);
    if (found === "late" || found === "duplicate") {
      c[found === "late" ? "datagramsLate" : "datagramsDuplicate"]++;
      return events;
    }
    // Everything is checked before a frame opens: refused packets cannot push real frames out.
    if (found !== undefined && !sameRtpJpegLayout(found, p)) return malformed(ProtocolErrorCode.Inconsistent, events);
    let tables: RtpJpegFrame["tables"];
    if (p.fragmentOffset === 0) {
      const known = tablesOf(stream, p);
      if (typeof known === "string") return malformed(known, events);
      tables = known;
    }
    const frame = found ?? open(stream, p, nowMs, events);
    if (frame === undefined) {
      c.datagramsLate++;
      return events;
    }
    const outcome = placeFragment(frame, p.fragmentOffset, p.payload, p.marker);
    if (outcome === "duplicate") {
      c.datagramsDuplicate++;
      return events;
    }
    if (outcome !== "placed")
      return malformed(
        outcome === "past-end" ? ProtocolErrorCode.OffsetPastEnd : ProtocolErrorCode.Inconsistent,
        events,
      );
    if (!charge(frame, p.payload.length + FRAGMENT_OVERHEAD_BYTES, events)) {
      drop(stream, frame, "overflow", events);
      c.datagramsLate++;
      return events;
    }
    if (tables !== undefined) frame.tables = tables;
    c.datagramsAccepted++;
    if (isComplete(frame)) emit(stream, frame, events);
    return events;
  }

  function expire(nowMs: number): RtpJpegEvent[] {
    if (nowMs < nextExpiryMs) return [];
    const events: RtpJpegEvent[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const stream of [...streams.values()]) {
      const idleAt = stream.lastActivityMs + streamTimeoutMs;
      if (nowMs > idleAt) {
        forget(stream, "idle", events);
        continue;
      }
      next = Math.min(next, idleAt);
      for (const frame of [...stream.frames.values()]) {
        const dueAt = frame.firstArrivalMs + frameTimeoutMs;
        if (nowMs > dueAt) drop(stream, frame, "timeout", events);
        else next = Math.min(next, dueAt);
      }
    }
    nextExpiryMs = next;
    return events;
  }

  return {
    push,
    expire,
    get framesInFlight() {
      return framesInFlight;
    },
    get streams() {
      return streams.size;
    },
    get nextExpiryMs() {
      return nextExpiryMs;
    },
    get counters(): RtpJpegCounters {
      return { ...c, malformedByCode: { ...malformedByCode }, streams: streams.size, framesInFlight, bufferedBytes };
    },
  };
}
