import { checkAuthenticator, type Authenticator } from "./auth.js";
import { ProtocolErrorCode, PROTOCOL_ERROR_CODES } from "./errors.js";
import { recoverData } from "./fec.js";
import type { FrameMetadata } from "./frame.js";
import { isDecodeFailure, tryDecodeDatagram, type DatagramHeader } from "./header.js";
import { LEGACY_DATAGRAM_BYTES, LEGACY_CHUNK_COUNT } from "./legacy.js";
import { serialDiff, serialOlderOrEqual } from "./serial.js";
import { chunkLength, chunkOffset, groupDataCount } from "./slots.js";

export interface ReassemblerOptions {
  /** Larger frames are refused (TOO_LARGE) before any allocation. Default 64 MiB. */
  readonly maxFrameBytes?: number;
  /** Incomplete frames kept per stream; past it the oldest is dropped ("overflow"). Default 16. */
  readonly maxFramesInFlight?: number;
  /** Streams tracked at once; a new one evicts the least recently active. Default 8. */
  readonly maxStreams?: number;
  /**
   * Bytes held by all incomplete frames together: the chunks that arrived (not the sizes announced)
   * and their bookkeeping. Past it the frame that started longest ago (any stream) is dropped
   * ("overflow"); a frame announcing more than this is refused. Default 256 MiB.
   */
  readonly maxBufferedBytes?: number;
  /** `expire` drops frames whose first datagram is older than this. Default 1000 ms. */
  readonly frameTimeoutMs?: number;
  /** `expire` forgets streams with no datagram for this long (their replay guard is kept). Default 10,000 ms. */
  readonly streamTimeoutMs?: number;
  /** When set, only datagrams with a valid tag are accepted. */
  readonly authenticator?: Authenticator;
}

/** A complete frame: every data chunk arrived or was rebuilt from parity. */
export interface FrameEvent extends FrameMetadata {
  readonly type: "frame";
  /** Exactly the frame's bytes, in a buffer of its own (the reassembler keeps no reference). */
  readonly payload: Uint8Array;
  /** True when FEC rebuilt at least one data chunk. */
  readonly recovered: boolean;
  /** `now` of the push that brought the frame's first datagram. */
  readonly firstArrivalMs: number;
}

/**
 * Why a frame was given up:
 * - superseded: a newer frame of its stream was emitted first, so it can never be shown;
 * - timeout: incomplete after `frameTimeoutMs` (see `expire`);
 * - overflow: too many frames in flight, or too many bytes buffered;
 * - evicted: its stream was forgotten (idle, or pushed out by a new stream).
 */
export type DropReason = "superseded" | "timeout" | "overflow" | "evicted";

export interface DroppedEvent {
  readonly type: "dropped";
  readonly streamId: number;
  readonly frameNumber: number;
  readonly reason: DropReason;
  /** Data and parity chunks that had arrived. */
  readonly chunksReceived: number;
  /** Data chunks the frame has (K). */
  readonly chunkCount: number;
}

/** A stream id seen for the first time (or again after it was forgotten). */
export interface StreamStartedEvent {
  readonly type: "stream-started";
  readonly streamId: number;
}

/** A stream forgotten: idle past `streamTimeoutMs`, or evicted to make room for a new one. */
export interface StreamEndedEvent {
  readonly type: "stream-ended";
  readonly streamId: number;
  readonly reason: "idle" | "evicted";
}

export type ReassemblyEvent = FrameEvent | DroppedEvent | StreamStartedEvent | StreamEndedEvent;

/** Plain-data counters. Datagram counters add up: every pushed datagram lands in exactly one. */
export interface ReassemblerCounters {
  /** Stored as a new data or parity chunk. */
  readonly datagramsAccepted: number;
  /** A chunk already held for its frame. */
  readonly datagramsDuplicate: number;
  /** Refused by decode or a limit (see `malformedByCode`). */
  readonly datagramsMalformed: number;
  readonly malformedByCode: Readonly<Record<ProtocolErrorCode, number>>;
  /** Of the malformed ones, how many look like legacy (seed) datagrams: the sender may use --protocol legacy. */
  readonly datagramsLegacyLike: number;
  /** For a frame older than the last emitted of its stream, or one already dropped (replays land here too). */
  readonly datagramsLate: number;
  /** For a frame already emitted: parity that was not needed, or a replay. */
  readonly datagramsSurplus: number;
  /** Tagged, but the tag is wrong (or of the wrong length) for the configured key. */
  readonly datagramsUnauthenticated: number;
  /** A key is configured but the datagram has no tag. */
  readonly datagramsUntagged: number;
  /** No key is configured but the datagram is tagged: the sender uses a key. */
  readonly datagramsAuthRequired: number;
  /** Frames emitted (including recovered ones). */
  readonly framesComplete: number;
  /** Frames emitted with at least one chunk rebuilt by FEC. */
  readonly framesRecovered: number;
  /** Data chunks rebuilt by FEC. */
  readonly chunksRecovered: number;
  /** Frames given up (a `dropped` event each). */
  readonly framesDropped: number;
  /** Frames first seen after a newer frame of their stream was emitted: never started, not counted as dropped. */
  readonly framesLate: number;
  /** Bytes of every datagram pushed. */
  readonly bytesReceived: number;
  /** Bytes of the frames emitted. */
  readonly bytesEmitted: number;
  /** Gauges: streams tracked, frames in flight and the bytes they hold, now. */
  readonly streams: number;
  readonly framesInFlight: number;
  readonly bufferedBytes: number;
}

export interface Reassembler {
  /** Takes one datagram (not kept: its bytes are copied where they belong) and returns what it completed or dropped. */
  push(datagram: Uint8Array, nowMs: number): ReassemblyEvent[];
  /** Drops frames past `frameTimeoutMs` and forgets streams past `streamTimeoutMs`. Call it a few times a second. */
  expire(nowMs: number): ReassemblyEvent[];
  /** A snapshot of the counters. */
  readonly counters: ReassemblerCounters;
}

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_FRAMES_IN_FLIGHT = 16;
export const DEFAULT_MAX_STREAMS = 8;
export const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024 * 1024;
export const DEFAULT_FRAME_TIMEOUT_MS = 1000;
export const DEFAULT_STREAM_TIMEOUT_MS = 10_000;
/** Frame outcomes remembered per stream, to tell surplus from late datagrams. */
const REMEMBERED_FRAMES = 64;
/** Forgotten streams whose last emitted frame is remembered, so a replay cannot re-emit old frames. */
const REMEMBERED_STREAMS = 256;
/** Counted per incomplete frame for its objects (state, header copy, block list). */
const FRAME_OVERHEAD_BYTES = 512;
/** Counted per block for its objects and its entry in the list. */
const BLOCK_OVERHEAD_BYTES = 128;
/**
 * Blocks of finished frames are kept for reuse, at most this many and this many bytes in all:
 * steady traffic then allocates little more than each frame's payload.
 */
const SPARE_BLOCKS = 64;
const SPARE_BLOCK_BYTES = 4 * 1024 * 1024;

/**
 * Chunks of an incomplete frame, copied back to back in arrival order. A frame's blocks grow with
 * what arrives (each about as large as all the chunks before it), so memory follows the bytes
 * received, not the size a datagram announces.
 */
interface Block {
  /** Its bytes; a reused block's bytes past `fill` are stale. */
  readonly bytes: Uint8Array;
  /** The chunk index of each chunk in `bytes`, in order; as many slots as `bytes` can hold chunks. */
  readonly chunks: Uint16Array;
  count: number;
  /** Bytes of `bytes` used. */
  fill: number;
}

/** Counted against maxBufferedBytes for a block. */
function blockBytes(block: Block): number {
  return block.bytes.length + block.chunks.byteLength + BLOCK_OVERHEAD_BYTES;
}

/** An incomplete frame. Its first datagram fixed its layout; later ones must agree. */
interface FrameState {
  /** The first datagram's header fields (copied: the datagram itself is not kept). */
  readonly first: DatagramHeader;
  readonly firstArrivalMs: number;
  /** Bit i set when chunk i (data or parity) is held. */
  readonly have: Uint8Array;
  /** Chunks (data + parity) held per FEC group. */
  readonly groupHave: Uint16Array;
  readonly blocks: Block[];
  /** Bytes of the chunks held. */
  heldBytes: number;
  dataReceived: number;
  received: number;
  /** Groups holding at least as many chunks as they have data chunks. */
  groupsReady: number;
  /** What the frame holds, counted against maxBufferedBytes: its blocks and bookkeeping. */
  bytes: number;
}

interface StreamState {
  readonly streamId: number;
  readonly frames: Map<number, FrameState>;
  /** Recent finished frames: true = emitted, false = dropped. */
  readonly finished: Map<number, boolean>;
  lastEmitted: number | undefined;
  lastActivityMs: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${String(v)}`);
  return v;
}

function headerOf(d: DatagramHeader): DatagramHeader {
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
  };
}

function sameLayout(a: DatagramHeader, b: DatagramHeader): boolean {
  return (
    a.frameBytes === b.frameBytes &&
    a.chunkCount === b.chunkCount &&
    a.chunkBytes === b.chunkBytes &&
    a.fecGroups === b.fecGroups &&
    a.fecParityPerGroup === b.fecParityPerGroup &&
    a.codec === b.codec &&
    a.width === b.width &&
    a.height === b.height &&
    a.fps === b.fps &&
    a.timestampMs === b.timestampMs
  );
}

/** A v1 reassembler: datagrams in, frames out. Synchronous; no sockets, no timers. */
export function createReassembler(options: ReassemblerOptions = {}): Reassembler {
  const maxFrameBytes = positiveInteger("maxFrameBytes", options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
  const maxFramesInFlight = positiveInteger("maxFramesInFlight", options.maxFramesInFlight, DEFAULT_MAX_FRAMES_IN_FLIGHT);
  const maxStreams = positiveInteger("maxStreams", options.maxStreams, DEFAULT_MAX_STREAMS);
  const maxBufferedBytes = positiveInteger("maxBufferedBytes", options.maxBufferedBytes, DEFAULT_MAX_BUFFERED_BYTES);
  const frameTimeoutMs = positiveInteger("frameTimeoutMs", options.frameTimeoutMs, DEFAULT_FRAME_TIMEOUT_MS);
  const streamTimeoutMs = positiveInteger("streamTimeoutMs", options.streamTimeoutMs, DEFAULT_STREAM_TIMEOUT_MS);
  const authenticator = options.authenticator;
  checkAuthenticator(authenticator, "authenticator");

  const streams = new Map<number, StreamState>();
  /** streamId -> last emitted frame, for streams forgotten. */
  const retired = new Map<number, number>();
  let bufferedBytes = 0;
  const spare: Block[] = [];
  let spareBytes = 0;
  let framesInFlight = 0;
  const malformedByCode = Object.fromEntries(PROTOCOL_ERROR_CODES.map((code) => [code, 0])) as Record<ProtocolErrorCode, number>;
  const c: Mutable<Omit<ReassemblerCounters, "malformedByCode" | "streams" | "framesInFlight" | "bufferedBytes">> = {
    datagramsAccepted: 0,
    datagramsDuplicate: 0,
    datagramsMalformed: 0,
    datagramsLegacyLike: 0,
    datagramsLate: 0,
    datagramsSurplus: 0,
    datagramsUnauthenticated: 0,
    datagramsUntagged: 0,
    datagramsAuthRequired: 0,
    framesComplete: 0,
    framesRecovered: 0,
    chunksRecovered: 0,
    framesDropped: 0,
    framesLate: 0,
    bytesReceived: 0,
    bytesEmitted: 0,
  };

  function malformed(code: ProtocolErrorCode): ReassemblyEvent[] {
    c.datagramsMalformed++;
    malformedByCode[code]++;
    return [];
  }

  function remember(stream: StreamState, frameNumber: number, emitted: boolean): void {
    stream.finished.set(frameNumber, emitted);
    if (stream.finished.size > REMEMBERED_FRAMES) stream.finished.delete(stream.finished.keys().next().value!);
  }

  function release(stream: StreamState, frameNumber: number, frame: FrameState): void {
    stream.frames.delete(frameNumber);
    bufferedBytes -= frame.bytes;
    framesInFlight--;
    for (const block of frame.blocks) {
      if (spare.length === SPARE_BLOCKS || spareBytes + block.bytes.length > SPARE_BLOCK_BYTES) break;
      spareBytes += block.bytes.length;
      spare.push(block);
    }
  }

  /** A spare block holding `size` to `2 * size` bytes and at least `slots` chunks, or a new one. */
  function newBlock(size: number, slots: number): Block {
    for (let i = spare.length - 1; i >= 0; i--) {
      const block = spare[i]!;
      if (block.bytes.length >= size && block.bytes.length <= 2 * size && block.chunks.length >= slots) {
        spare[i] = spare[spare.length - 1]!;
        spare.pop();
        spareBytes -= block.bytes.length;
        block.count = 0;
        block.fill = 0;
        return block;
      }
    }
    return { bytes: new Uint8Array(size), chunks: new Uint16Array(slots), count: 0, fill: 0 };
  }

  function drop(stream: StreamState, frameNumber: number, frame: FrameState, reason: DropReason, events: ReassemblyEvent[]): void {
    release(stream, frameNumber, frame);
    remember(stream, frameNumber, false);
    c.framesDropped++;
    events.push({ type: "dropped", streamId: stream.streamId, frameNumber, reason, chunksReceived: frame.received, chunkCount: frame.first.chunkCount });
  }

  function oldestFrame(stream: StreamState): number | undefined {
    let oldest: number | undefined;
    for (const n of stream.frames.keys()) if (oldest === undefined || serialDiff(n, oldest) < 0) oldest = n;
    return oldest;
  }

  function forget(stream: StreamState, reason: "idle" | "evicted", events: ReassemblyEvent[]): void {
    for (const [n, frame] of [...stream.frames]) drop(stream, n, frame, "evicted", events);
    streams.delete(stream.streamId);
    if (stream.lastEmitted !== undefined) {
      retired.delete(stream.streamId);
      retired.set(stream.streamId, stream.lastEmitted);
      if (retired.size > REMEMBERED_STREAMS) retired.delete(retired.keys().next().value!);
    }
    events.push({ type: "stream-ended", streamId: stream.streamId, reason });
  }

  function streamFor(streamId: number, nowMs: number, events: ReassemblyEvent[]): StreamState {
    let stream = streams.get(streamId);
    if (stream) return stream;
    if (streams.size >= maxStreams) {
      let idlest: StreamState | undefined;
      for (const s of streams.values()) if (idlest === undefined || s.lastActivityMs < idlest.lastActivityMs) idlest = s;
      forget(idlest!, "evicted", events);
    }
    stream = { streamId, frames: new Map(), finished: new Map(), lastEmitted: retired.get(streamId), lastActivityMs: nowMs };
    retired.delete(streamId);
    streams.set(streamId, stream);
    events.push({ type: "stream-started", streamId });
    return stream;
  }

  /**
   * Makes room for a new frame of `stream`; false when it cannot (the frame is refused). Past
   * maxFramesInFlight the stream's own oldest frame goes, unless the new frame is older than all.
   */
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
   * false when it cannot. Past the budget the frame that started longest ago in any stream goes
   * (never `frame` itself), so one stream (or a forger without a key) cannot hold the budget
   * against the others for longer than their frames live anyway. Frames hold what has arrived,
   * not what they announce, so the budget fills at the rate bytes arrive.
   */
  function budget(frame: FrameState, bytes: number, events: ReassemblyEvent[]): boolean {
    while (bufferedBytes + bytes > maxBufferedBytes) {
      let victim: [StreamState, number, FrameState] | undefined;
      for (const s of streams.values()) {
        for (const [n, f] of s.frames) if (f !== frame && (victim === undefined || f.firstArrivalMs < victim[2].firstArrivalMs)) victim = [s, n, f];
      }
      if (victim === undefined) return false;
      drop(victim[0], victim[1], victim[2], "overflow", events);
    }
    frame.bytes += bytes;
    bufferedBytes += bytes;
    return true;
  }

  /**
   * Copies a chunk into the frame's last block, or a new one about as large as all the chunks held
   * (at most what the frame can still receive). False when the budget has no room for the block.
   */
  function store(frame: FrameState, index: number, chunk: Uint8Array, events: ReassemblyEvent[]): boolean {
    let block = frame.blocks[frame.blocks.length - 1];
    if (block === undefined || block.fill + chunk.length > block.bytes.length || block.count === block.chunks.length) {
      const d = frame.first;
      const remaining = d.frameBytes + d.fecGroups * d.fecParityPerGroup * d.chunkBytes - frame.heldBytes;
      const size = Math.max(chunk.length, Math.min(remaining, frame.heldBytes));
      // Every chunk but the last data chunk is chunkBytes long, so `size` bytes hold at most this many.
      const fresh = newBlock(size, Math.ceil(size / d.chunkBytes));
      if (!budget(frame, blockBytes(fresh), events)) return false;
      block = fresh;
      frame.blocks.push(block);
    }
    block.bytes.set(chunk, block.fill);
    block.fill += chunk.length;
    block.chunks[block.count++] = index;
    frame.heldBytes += chunk.length;
    return true;
  }

  function complete(stream: StreamState, frameNumber: number, frame: FrameState, events: ReassemblyEvent[]): void {
    const d = frame.first;
    const payload = new Uint8Array(d.frameBytes);
    const parity = assemble(frame, payload);
    let recovered = false;
    if (frame.dataReceived < d.chunkCount) {
      recovered = true;
      c.chunksRecovered += rebuild(frame, payload, parity);
    }
    release(stream, frameNumber, frame);
    remember(stream, frameNumber, true);
    stream.lastEmitted = frameNumber;
    c.framesComplete++;
    if (recovered) c.framesRecovered++;
    c.bytesEmitted += d.frameBytes;
    events.push({
      type: "frame",
      streamId: stream.streamId,
      frameNumber,
      codec: d.codec,
      width: d.width,
      height: d.height,
      fps: d.fps,
      timestampMs: d.timestampMs,
      payload,
      recovered,
      firstArrivalMs: frame.firstArrivalMs,
    });
    for (const [n, older] of [...stream.frames]) if (serialDiff(n, frameNumber) < 0) drop(stream, n, older, "superseded", events);
  }

  function push(datagram: Uint8Array, nowMs: number): ReassemblyEvent[] {
    c.bytesReceived += datagram.length;
    const d = tryDecodeDatagram(datagram);
    if (isDecodeFailure(d)) {
      if (d.code === ProtocolErrorCode.BadMagic && datagram.length === LEGACY_DATAGRAM_BYTES && datagram[0]! < LEGACY_CHUNK_COUNT) c.datagramsLegacyLike++;
      return malformed(d.code);
    }
    if (authenticator === undefined) {
      if (d.tag !== undefined) {
        c.datagramsAuthRequired++;
        return [];
      }
    } else if (d.tag === undefined) {
      c.datagramsUntagged++;
      return [];
    } else if (d.tagBytes !== authenticator.tagBytes || !authenticator.verify(d.signed, d.tag)) {
      c.datagramsUnauthenticated++;
      return [];
    }
    if (d.frameBytes > maxFrameBytes) return malformed(ProtocolErrorCode.TooLarge);

    const events: ReassemblyEvent[] = [];
    const stream = streamFor(d.streamId, nowMs, events);
    stream.lastActivityMs = nowMs;
    const n = d.frameNumber;
    let frame = stream.frames.get(n);
    if (frame === undefined) {
      const outcome = stream.finished.get(n);
      if (outcome !== undefined) {
        if (outcome) c.datagramsSurplus++;
        else c.datagramsLate++;
        return events;
      }
      if (stream.lastEmitted !== undefined && serialOlderOrEqual(n, stream.lastEmitted)) {
        c.datagramsLate++;
        c.framesLate++;
        remember(stream, n, false);
        return events;
      }
      const parityTotal = d.fecGroups * d.fecParityPerGroup;
      frame = {
        first: headerOf(d),
        firstArrivalMs: nowMs,
        have: new Uint8Array((d.chunkCount + parityTotal + 7) >> 3),
        groupHave: new Uint16Array(d.fecGroups),
        blocks: [],
        heldBytes: 0,
        dataReceived: 0,
        received: 0,
        groupsReady: 0,
        bytes: 0,
      };
      // Refused: a frame that could not fit in the budget even once complete, one older than all
      // of a full stream's frames, or no room for its bookkeeping (under 8 KB of bits, 2 bytes per group).
      if (
        d.frameBytes + parityTotal * d.chunkBytes > maxBufferedBytes ||
        !makeRoom(stream, n, events) ||
        !budget(frame, FRAME_OVERHEAD_BYTES + frame.have.length + frame.groupHave.byteLength, events)
      ) {
        c.framesDropped++;
        c.datagramsLate++;
        remember(stream, n, false);
        events.push({ type: "dropped", streamId: stream.streamId, frameNumber: n, reason: "overflow", chunksReceived: 1, chunkCount: d.chunkCount });
        return events;
      }
      stream.frames.set(n, frame);
      framesInFlight++;
    } else if (!sameLayout(frame.first, d)) {
      return malformed(ProtocolErrorCode.Inconsistent);
    }

    const index = d.chunkIndex;
    const bit = 1 << (index & 7);
    if ((frame.have[index >> 3]! & bit) !== 0) {
      c.datagramsDuplicate++;
      return events;
    }
    if (!store(frame, index, d.payload, events)) {
      // No room for this frame to grow, even with every other frame dropped.
      drop(stream, n, frame, "overflow", events);
      c.datagramsLate++;
      return events;
    }
    frame.have[index >> 3]! |= bit;
    frame.received++;
    c.datagramsAccepted++;
    const k = d.chunkCount;
    const groups = d.fecGroups;
    let group: number;
    if (index < k) {
      frame.dataReceived++;
      group = index % groups;
    } else {
      group = (index - k) % groups;
    }
    if (d.fecParityPerGroup > 0) {
      const held = ++frame.groupHave[group]!;
      if (held === groupDataCount(group, k, groups)) frame.groupsReady++;
    }
    if (frame.dataReceived === k || frame.groupsReady === groups) complete(stream, n, frame, events);
    return events;
  }

  function expire(nowMs: number): ReassemblyEvent[] {
    const events: ReassemblyEvent[] = [];
    for (const stream of [...streams.values()]) {
      if (nowMs - stream.lastActivityMs >= streamTimeoutMs) {
        forget(stream, "idle", events);
        continue;
      }
      for (const [n, frame] of [...stream.frames]) if (nowMs - frame.firstArrivalMs >= frameTimeoutMs) drop(stream, n, frame, "timeout", events);
    }
    return events;
  }

  return {
    push,
    expire,
    get counters(): ReassemblerCounters {
      return { ...c, malformedByCode: { ...malformedByCode }, streams: streams.size, framesInFlight, bufferedBytes };
    },
  };
}

/**
 * Copies the frame's data chunks from its blocks into `payload` (chunks adjacent in both are copied
 * in one go: in-order arrival makes each block one copy). When data chunks are missing, returns
 * the parity chunks held, by parity index (views into the blocks), for `rebuild`.
 */
function assemble(frame: FrameState, payload: Uint8Array): (Uint8Array | undefined)[] {
  const { chunkCount: k, chunkBytes: p, frameBytes: n, fecGroups: groups, fecParityPerGroup: m } = frame.first;
  const parity = new Array<Uint8Array | undefined>(frame.dataReceived < k ? groups * m : 0);
  for (const block of frame.blocks) {
    // The run of bytes [start, end) of the block goes to payload offset `at`.
    let start = 0;
    let end = 0;
    let at = 0;
    for (let j = 0; j < block.count; j++) {
      const index = block.chunks[j]!;
      if (index >= k) {
        // Parity (P bytes): ends the run.
        if (parity.length > 0) parity[index - k] = block.bytes.subarray(end, end + p);
        if (end > start) payload.set(block.bytes.subarray(start, end), at);
        start = end = end + p;
        continue;
      }
      const offset = chunkOffset(index, p);
      if (offset !== at + (end - start)) {
        if (end > start) payload.set(block.bytes.subarray(start, end), at);
        start = end;
        at = offset;
      }
      end += chunkLength(index, n, p);
    }
    if (end > start) payload.set(block.bytes.subarray(start, end), at);
  }
  return parity;
}

/** Rebuilds the frame's missing data chunks from parity, straight into `payload`. Returns how many. */
function rebuild(frame: FrameState, payload: Uint8Array, held: readonly (Uint8Array | undefined)[]): number {
  const d = frame.first;
  const { chunkCount: k, chunkBytes: p, frameBytes: n, fecGroups: groups, fecParityPerGroup: m } = d;
  const view = (i: number): Uint8Array => payload.subarray(i * p, i * p + chunkLength(i, n, p));
  let rebuilt = 0;
  for (let g = 0; g < groups; g++) {
    const data: (Uint8Array | undefined)[] = [];
    let missing = 0;
    for (let i = g; i < k; i += groups) {
      if ((frame.have[i >> 3]! & (1 << (i & 7))) !== 0) data.push(view(i));
      else {
        data.push(undefined);
        missing++;
      }
    }
    if (missing === 0) continue;
    const parity: (Uint8Array | undefined)[] = [];
    for (let r = 0; r < m; r++) parity.push(held[r * groups + g]);
    const count = recoverData(data, parity, (position) => view(g + position * groups));
    if (count < 0) throw new Error("rebuild: group not ready (a bug)");
    rebuilt += count;
  }
  return rebuilt;
}
