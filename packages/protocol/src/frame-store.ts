import { blockBytes, createBlockPool } from "./block-pool.js";
import {
  announcedBytes,
  bookkeepingBytes,
  holdChunk,
  lastBlockWithRoom,
  nextBlockSize,
  storeChunk,
  viewBytes,
  writeChunk,
  type FrameState,
} from "./frame-state.js";
import type { DropReason, FrameEvent, ReassemblyEvent } from "./reassembly-events.js";
import { serialDiff, serialOlderOrEqual } from "./serial.js";
import { admitStream, type AdmissionLimits, type RefusalCause } from "./stream-admission.js";

/**
 * The reassembler's memory: the streams it tracks, their frames in flight, the limits on both
 * (evicting what must go), and what became of recent frames. It drops and emits frames (with
 * their events) but never reads a datagram: the per-datagram path in reassembler.ts does.
 */

/** Frame outcomes remembered per stream, to tell surplus from late datagrams. */
const REMEMBERED_FRAMES = 64;
/** Forgotten streams whose last emitted frame is remembered, so a replay cannot re-emit old frames. */
const REMEMBERED_STREAMS = 256;

export interface StreamState {
  readonly streamId: number;
  readonly frames: Map<number, FrameState>;
  /** Recent finished frames: true = emitted, false = dropped. */
  readonly finished: Map<number, boolean>;
  lastEmitted: number | undefined;
  lastActivityMs: number;
  /** The source address of its first datagram (see stream-admission.ts). */
  readonly source: string | undefined;
  readonly firstSeenMs: number;
  /** Whether it has emitted a frame since it was started: then newcomers cannot evict it. */
  proven: boolean;
  /**
   * In order within a latency budget (set for window FEC streams): a complete frame waits, parked,
   * while an older frame of its stream is still in flight, until that one completes or is dropped
   * at `latencyMs` after its first datagram; frames are never superseded.
   */
  ordered: boolean;
  /** Complete frames waiting for older ones, oldest first. */
  readonly parked: FrameEvent[];
}

export interface FrameStoreLimits extends AdmissionLimits {
  readonly maxFramesInFlight: number;
  readonly maxBufferedBytes: number;
  readonly frameTimeoutMs: number;
  readonly streamTimeoutMs: number;
  /** Ordered streams: an incomplete frame is dropped this long after its first datagram. */
  readonly latencyMs: number;
  /** Every stream ordered from its first datagram (retransmission on request), not only window FEC ones. */
  readonly ordered?: boolean;
}

/**
 * What became of a frame not in flight: emitted or dropped (remembered), behind (older than the
 * last emitted of its stream, never seen: it can never be shown), or undefined (a new frame).
 */
export type FrameOutcome = "emitted" | "dropped" | "behind" | undefined;

export interface FrameStore {
  /**
   * The stream of `streamId`, marked active at `nowMs`; started when new, replacing a stream as
   * stream-admission.ts decides, or refused (why, as a string) when nothing may be replaced.
   */
  stream(
    streamId: number,
    nowMs: number,
    source: string | undefined,
    events: ReassemblyEvent[],
  ): StreamState | RefusalCause;
  outcome(stream: StreamState, frameNumber: number): FrameOutcome;
  /** Remembers a frame that arrived behind as given up, so its other datagrams are late too. */
  rememberBehind(stream: StreamState, frameNumber: number): void;
  /**
   * Puts a new frame in flight, making room for it. False, with a `dropped` ("overflow") event,
   * when it is refused: it could not fit in maxBufferedBytes even once complete, it is older than
   * all of a full stream's frames, or there is no room for its bookkeeping (and, for a frame that
   * takes its payload early, its whole payload: `bookkeepingBytes`).
   */
  open(stream: StreamState, frameNumber: number, frame: FrameState, events: ReassemblyEvent[]): boolean;
  /**
   * Copies a chunk into the frame's last block, or a new one (see `nextBlockSize`). False when the
   * budget has no room for the block, even with every other frame dropped.
   */
  place(frame: FrameState, index: number, chunk: Uint8Array, events: ReassemblyEvent[]): boolean;
  /**
   * Copies data chunk `index` into its place in the frame's payload, taken when its first datagram came (counted
   * then, whole, by `open`): nothing more to count, always room.
   */
  write(frame: FrameState, index: number, chunk: Uint8Array): void;
  /**
   * Keeps `view` itself as the chunk (no copy; its bytes must not change while the frame is in flight), counting
   * the whole buffer it keeps alive (`viewBytes`). False when the budget has no room for it, as `place`.
   */
  hold(frame: FrameState, index: number, view: Uint8Array, events: ReassemblyEvent[]): boolean;
  drop(
    stream: StreamState,
    frameNumber: number,
    frame: FrameState,
    reason: DropReason,
    events: ReassemblyEvent[],
  ): void;
  /**
   * Ends a completed frame: releases it, appends `event`, then drops the stream's older frames
   * ("superseded"); in an ordered stream it parks the event instead while older frames are in flight.
   */
  emit(stream: StreamState, frameNumber: number, frame: FrameState, event: FrameEvent, events: ReassemblyEvent[]): void;
  /**
   * Drops frames (the oldest of the stream that holds the most, as past the budget) until the frames
   * and the bytes held outside the store (`outsideBytes`) fit maxBufferedBytes again, or no frame is left.
   */
  fit(events: ReassemblyEvent[]): void;
  /**
   * Marks a stream ordered (a window FEC datagram came): its frames in flight then time out at `latencyMs` too,
   * and `nextExpiryMs` moves to the earliest of theirs.
   */
  order(stream: StreamState): void;
  /** Drops frames past frameTimeoutMs and forgets streams past streamTimeoutMs. */
  expire(nowMs: number): ReassemblyEvent[];
  /**
   * When `expire` may next have something to do: never later than the first frame's timeout or stream's idle
   * timeout, possibly earlier (a frame finished since or a stream active since: `expire` then finds nothing and
   * sets it again, exactly); `Infinity` with no stream tracked. `expire` before it returns nothing.
   */
  readonly nextExpiryMs: number;
  readonly streams: number;
  readonly framesInFlight: number;
  readonly bufferedBytes: number;
}

/**
 * Frames the store drops are counted in `counts.framesDropped` (one `dropped` event each). `outsideBytes`:
 * what the caller holds for the streams besides their frames (window FEC state), counted in the same budget.
 * `releasePayload` gets back the payload of each frame dropped that had taken one (`takePayload`), never
 * delivered: its bytes are a torn frame's, for the allocator to hand out again (and overwrite).
 */
export function createFrameStore(
  limits: FrameStoreLimits,
  counts: { framesDropped: number },
  outsideBytes: () => number = () => 0,
  releasePayload: (payload: Uint8Array) => void = () => {},
): FrameStore {
  const { maxFramesInFlight, maxBufferedBytes, frameTimeoutMs, streamTimeoutMs, latencyMs } = limits;
  const streams = new Map<number, StreamState>();
  /** streamId -> last emitted frame, for streams forgotten. */
  const retired = new Map<number, number>();
  const pool = createBlockPool();
  let bufferedBytes = 0;
  let framesInFlight = 0;
  // Lowered as frames and streams start, set exactly by expire (see `nextExpiryMs`).
  let nextExpiryMs = Number.POSITIVE_INFINITY;

  /** How long a frame of `stream` may stay in flight. */
  function frameTimeout(stream: StreamState): number {
    return stream.ordered ? Math.min(latencyMs, frameTimeoutMs) : frameTimeoutMs;
  }

  function remember(stream: StreamState, frameNumber: number, emitted: boolean): void {
    stream.finished.set(frameNumber, emitted);
    if (stream.finished.size > REMEMBERED_FRAMES) stream.finished.delete(stream.finished.keys().next().value!);
  }

  function release(stream: StreamState, frameNumber: number, frame: FrameState): void {
    stream.frames.delete(frameNumber);
    bufferedBytes -= frame.bytes;
    framesInFlight--;
    pool.recycle(frame.blocks);
    // Emitted frames hand their payload out with the event (framePayload cleared it): only a dropped one has one.
    const payload = frame.payload;
    if (payload !== undefined) {
      frame.payload = undefined;
      releasePayload(payload);
    }
  }

  function drop(
    stream: StreamState,
    frameNumber: number,
    frame: FrameState,
    reason: DropReason,
    events: ReassemblyEvent[],
  ): void {
    release(stream, frameNumber, frame);
    remember(stream, frameNumber, false);
    counts.framesDropped++;
    events.push({
      type: "dropped",
      streamId: stream.streamId,
      frameNumber,
      reason,
      chunksReceived: frame.received,
      chunkCount: frame.first.chunkCount,
    });
    if (stream.ordered) flush(stream, events);
  }

  /** Emits the parked frames of an ordered stream that no older frame in flight holds back. */
  function flush(stream: StreamState, events: ReassemblyEvent[]): void {
    const parked = stream.parked;
    while (parked.length > 0) {
      const next = parked[0]!;
      const oldest = oldestFrame(stream);
      if (oldest !== undefined && serialDiff(oldest, next.frameNumber) < 0) return;
      parked.shift();
      bufferedBytes -= next.payload.length;
      stream.lastEmitted = next.frameNumber;
      events.push(next);
    }
  }

  function park(stream: StreamState, event: FrameEvent, events: ReassemblyEvent[]): void {
    const parked = stream.parked;
    let at = parked.length;
    while (at > 0 && serialDiff(parked[at - 1]!.frameNumber, event.frameNumber) > 0) at--;
    parked.splice(at, 0, event);
    bufferedBytes += event.payload.length;
    flush(stream, events);
    // Bounded: past maxFramesInFlight parked frames, the oldest frame holding them back goes.
    while (parked.length > maxFramesInFlight) {
      const oldest = oldestFrame(stream);
      if (oldest === undefined) break;
      drop(stream, oldest, stream.frames.get(oldest)!, "overflow", events);
    }
  }

  function forget(stream: StreamState, reason: "idle" | "evicted", events: ReassemblyEvent[]): void {
    for (const [n, frame] of [...stream.frames]) drop(stream, n, frame, "evicted", events);
    flush(stream, events);
    streams.delete(stream.streamId);
    if (stream.lastEmitted !== undefined) {
      retired.delete(stream.streamId);
      retired.set(stream.streamId, stream.lastEmitted);
      if (retired.size > REMEMBERED_STREAMS) retired.delete(retired.keys().next().value!);
    }
    events.push({ type: "stream-ended", streamId: stream.streamId, reason });
  }

  function oldestFrame(stream: StreamState): number | undefined {
    let oldest: number | undefined;
    for (const n of stream.frames.keys()) if (oldest === undefined || serialDiff(n, oldest) < 0) oldest = n;
    return oldest;
  }

  /** False when the stream is full and the new frame is older than all its frames; else drops its oldest past maxFramesInFlight. */
  function makeRoom(stream: StreamState, frameNumber: number, events: ReassemblyEvent[]): boolean {
    while (stream.frames.size >= maxFramesInFlight) {
      const oldest = oldestFrame(stream);
      if (oldest === undefined || serialDiff(frameNumber, oldest) < 0) return false;
      drop(stream, oldest, stream.frames.get(oldest)!, "overflow", events);
    }
    return true;
  }

  /**
   * Makes room in maxBufferedBytes for `bytes` more, held by `frame` (in flight or about to be);
   * false when it cannot. Past the budget the oldest frame of the stream that holds the most bytes
   * goes (never `frame` itself), so a stream (or a forger without a key) that fills the budget
   * pays for it with its own frames before it costs anyone else theirs. Frames hold what has
   * arrived, not what they announce, so the budget fills at the rate bytes arrive.
   */
  function grow(frame: FrameState, bytes: number, events: ReassemblyEvent[]): boolean {
    while (bufferedBytes + outsideBytes() + bytes > maxBufferedBytes) if (!dropForRoom(frame, events)) return false;
    frame.bytes += bytes;
    bufferedBytes += bytes;
    return true;
  }

  /** Drops the oldest frame (not `keep`) of the stream that holds the most bytes; false when there is none. */
  function dropForRoom(keep: FrameState | undefined, events: ReassemblyEvent[]): boolean {
    let victim: [StreamState, number, FrameState] | undefined;
    let victimHolds = -1;
    for (const s of streams.values()) {
      let holds = 0;
      let oldest: [number, FrameState] | undefined;
      for (const [n, f] of s.frames) {
        holds += f.bytes;
        if (f !== keep && (oldest === undefined || f.firstArrivalMs < oldest[1].firstArrivalMs)) oldest = [n, f];
      }
      if (oldest !== undefined && holds > victimHolds) {
        victim = [s, oldest[0], oldest[1]];
        victimHolds = holds;
      }
    }
    if (victim === undefined) return false;
    drop(victim[0], victim[1], victim[2], "overflow", events);
    return true;
  }

  return {
    stream(streamId, nowMs, source, events) {
      let stream = streams.get(streamId);
      if (stream === undefined) {
        const admission = admitStream(streams, source, limits);
        if (admission.kind === "refuse") return admission.cause;
        if (admission.evict !== undefined) forget(admission.evict, "evicted", events);
        stream = {
          streamId,
          frames: new Map(),
          finished: new Map(),
          lastEmitted: retired.get(streamId),
          lastActivityMs: nowMs,
          source,
          firstSeenMs: nowMs,
          proven: false,
          ordered: limits.ordered === true,
          parked: [],
        };
        retired.delete(streamId);
        streams.set(streamId, stream);
        events.push({ type: "stream-started", streamId });
      }
      stream.lastActivityMs = nowMs;
      // A no-op but for a stream's first datagram (or a clock that went back).
      if (nowMs + streamTimeoutMs < nextExpiryMs) nextExpiryMs = nowMs + streamTimeoutMs;
      return stream;
    },

    outcome(stream, frameNumber) {
      const finished = stream.finished.get(frameNumber);
      if (finished !== undefined) return finished ? "emitted" : "dropped";
      if (stream.lastEmitted !== undefined && serialOlderOrEqual(frameNumber, stream.lastEmitted)) return "behind";
      return undefined;
    },

    rememberBehind(stream, frameNumber) {
      remember(stream, frameNumber, false);
    },

    open(stream, frameNumber, frame, events) {
      if (
        announcedBytes(frame.first) > maxBufferedBytes ||
        !makeRoom(stream, frameNumber, events) ||
        !grow(frame, bookkeepingBytes(frame), events)
      ) {
        counts.framesDropped++;
        remember(stream, frameNumber, false);
        events.push({
          type: "dropped",
          streamId: stream.streamId,
          frameNumber,
          reason: "overflow",
          chunksReceived: 1,
          chunkCount: frame.first.chunkCount,
        });
        return false;
      }
      stream.frames.set(frameNumber, frame);
      framesInFlight++;
      nextExpiryMs = Math.min(nextExpiryMs, frame.firstArrivalMs + frameTimeout(stream));
      return true;
    },

    place(frame, index, chunk, events) {
      let block = lastBlockWithRoom(frame, chunk.length);
      if (block === undefined) {
        const { size, slots } = nextBlockSize(frame, chunk.length);
        const fresh = pool.take(size, slots);
        if (!grow(frame, blockBytes(fresh), events)) return false;
        frame.blocks.push(fresh);
        block = fresh;
      }
      storeChunk(frame, block, index, chunk);
      return true;
    },

    write: writeChunk,

    hold(frame, index, view, events) {
      if (!grow(frame, viewBytes(view), events)) return false;
      holdChunk(frame, index, view);
      return true;
    },

    drop,

    fit(events) {
      while (bufferedBytes + outsideBytes() > maxBufferedBytes) if (!dropForRoom(undefined, events)) return;
    },

    emit(stream, frameNumber, frame, event, events) {
      release(stream, frameNumber, frame);
      remember(stream, frameNumber, true);
      if (stream.ordered) {
        stream.proven = true;
        park(stream, event, events);
        return;
      }
      stream.lastEmitted = frameNumber;
      stream.proven = true;
      events.push(event);
      for (const [n, older] of [...stream.frames])
        if (serialDiff(n, frameNumber) < 0) drop(stream, n, older, "superseded", events);
    },

    order(stream) {
      if (stream.ordered) return;
      stream.ordered = true;
      const timeoutMs = frameTimeout(stream);
      for (const frame of stream.frames.values())
        nextExpiryMs = Math.min(nextExpiryMs, frame.firstArrivalMs + timeoutMs);
    },

    expire(nowMs) {
      if (nowMs < nextExpiryMs) return [];
      const events: ReassemblyEvent[] = [];
      let next = Number.POSITIVE_INFINITY;
      for (const stream of [...streams.values()]) {
        const idleAt = stream.lastActivityMs + streamTimeoutMs;
        if (nowMs >= idleAt) {
          forget(stream, "idle", events);
          continue;
        }
        next = Math.min(next, idleAt);
        const timeoutMs = frameTimeout(stream);
        for (const [n, frame] of [...stream.frames]) {
          const dueAt = frame.firstArrivalMs + timeoutMs;
          if (nowMs >= dueAt) drop(stream, n, frame, "timeout", events);
          else next = Math.min(next, dueAt);
        }
      }
      nextExpiryMs = next;
      return events;
    },

    get streams() {
      return streams.size;
    },
    get framesInFlight() {
      return framesInFlight;
    },
    get nextExpiryMs() {
      return nextExpiryMs;
    },
    get bufferedBytes() {
      return bufferedBytes;
    },
  };
}
