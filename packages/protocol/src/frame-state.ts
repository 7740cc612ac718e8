import { appendToBlock, blockHasRoom, type Block } from "./block-pool.js";
import { recoverData } from "./fec.js";
import type { DatagramHeader } from "./header.js";
import { chunkLength, chunkOffset, groupDataCount } from "./slots.js";

/**
 * One incomplete frame: which chunks (data and parity) it holds, where their bytes are, and when
 * it can be completed. Its first datagram fixed its layout; later ones must agree (`sameLayout`).
 * Pure bookkeeping: the frame store decides whether the frame may grow.
 */
export interface FrameState {
  /** The first datagram's header fields (copied: the object the reassembler reads each header into is reused). */
  readonly first: DatagramHeader;
  readonly firstArrivalMs: number;
  /** Bit i set when chunk i (data or parity) is held. */
  readonly have: Uint8Array;
  /** Chunks (data + parity) held per FEC group. */
  readonly groupHave: Uint16Array;
  /**
   * The chunks held, in arrival order. Blocks grow with what arrives (each about as large as all
   * the chunks before it), so memory follows the bytes received, not the size a datagram announces.
   */
  readonly blocks: Block[];
  /**
   * Chunks held where they arrived instead (a reassembler with `retainDatagrams`, for large chunks): views of
   * their datagrams (or decrypted payloads), in arrival order, and the chunk index of each. `assemble` copies
   * each once, into the payload; a block would cost a second copy of bytes that arrive a chunk of many KB at a time.
   */
  readonly views: Uint8Array[];
  readonly viewChunks: number[];
  /**
   * Frames that take their payload early (`takesPayloadEarly`): the payload, taken when the first datagram came
   * (`takePayload`), that each data chunk is copied into, at its place, when it arrives (`writeChunk`): the one
   * copy of its bytes. Their blocks and views then hold parity only. Undefined for smaller chunks (blocks), and
   * once the frame is emitted or dropped (the payload given back).
   */
  payload: Uint8Array | undefined;
  /** Bytes of the chunks held in blocks and views (not those written into `payload`). */
  heldBytes: number;
  dataReceived: number;
  received: number;
  /** Groups holding at least as many chunks as they have data chunks. */
  groupsReady: number;
  /** What the frame holds, counted against maxBufferedBytes: its blocks, the whole buffers its views keep alive, and bookkeeping. */
  bytes: number;
}

/**
 * Frames whose chunks are at least this long (and that have at most `DIRECT_MAX_CHUNKS` data chunks) take their
 * payload at their first datagram and get each data chunk copied straight into it: one copy, and no datagram kept.
 * Below it a payload taken early would reserve a whole frame in maxBufferedBytes for each small datagram that
 * announces one (a forged 1,472 B datagram would reserve 64 MiB): docs/benchmarks/receiver.md (direct).
 */
export const DIRECT_MIN_CHUNK_BYTES = 4096;
/**
 * ...and at most this many data chunks: what a first datagram reserves is then at most 256 times its size
 * (raw 1920x1080 in 65,507 B datagrams is 95 chunks). Larger frames go into blocks, as small chunks do.
 */
export const DIRECT_MAX_CHUNKS = 256;

/** Whether a frame of this layout takes its payload at its first datagram (see `DIRECT_MIN_CHUNK_BYTES`). */
export function takesPayloadEarly(d: DatagramHeader): boolean {
  return d.chunkBytes >= DIRECT_MIN_CHUNK_BYTES && d.chunkCount <= DIRECT_MAX_CHUNKS;
}

/** Counted per incomplete frame for its objects (state, header copy, block list). */
const FRAME_OVERHEAD_BYTES = 512;

export function createFrameState(d: DatagramHeader, nowMs: number): FrameState {
  return {
    first: headerOf(d),
    firstArrivalMs: nowMs,
    have: new Uint8Array((d.chunkCount + d.fecGroups * d.fecParityPerGroup + 7) >> 3),
    groupHave: new Uint16Array(d.fecGroups),
    blocks: [],
    views: [],
    viewChunks: [],
    payload: undefined,
    heldBytes: 0,
    dataReceived: 0,
    received: 0,
    groupsReady: 0,
    bytes: 0,
  };
}

/** Bytes of the frame once every data and parity chunk is held. */
export function announcedBytes(d: DatagramHeader): number {
  return d.frameBytes + d.fecGroups * d.fecParityPerGroup * d.chunkBytes;
}

/**
 * What a new frame takes before its first chunk: its bookkeeping (under 8 KB of bits, 2 bytes per group) and, for a
 * frame that takes its payload early (`takesPayloadEarly`), the whole payload, frameBytes.
 */
export function bookkeepingBytes(frame: FrameState): number {
  const payload = takesPayloadEarly(frame.first) ? frame.first.frameBytes : 0;
  return FRAME_OVERHEAD_BYTES + frame.have.length + frame.groupHave.byteLength + payload;
}

/**
 * Takes the frame's payload from `allocate` (exactly frameBytes long; its old contents do not matter, every byte is
 * written before the frame is emitted). Call once, after the frame was admitted (its bytes counted).
 */
export function takePayload(frame: FrameState, allocate: (byteLength: number) => Uint8Array): void {
  const payload = allocate(frame.first.frameBytes);
  if (payload.length !== frame.first.frameBytes)
    throw new RangeError(`allocatePayload gave ${payload.length} bytes for a frame of ${frame.first.frameBytes}`);
  frame.payload = payload;
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

/** True when two datagrams describe the same frame layout (all but stream, number, index and tag). */
export function sameLayout(a: DatagramHeader, b: DatagramHeader): boolean {
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

export function hasChunk(frame: FrameState, index: number): boolean {
  return (frame.have[index >> 3]! & (1 << (index & 7))) !== 0;
}

/**
 * The size of the block for a chunk of `length` bytes that fits no block held: about as large as
 * all the chunks held, at most what the frame can still receive, and at least the chunk. `slots`:
 * every chunk but the last data chunk is chunkBytes long, so `size` bytes hold at most that many.
 */
export function nextBlockSize(frame: FrameState, length: number): { readonly size: number; readonly slots: number } {
  // A frame with its payload holds only parity in blocks.
  const toHold =
    frame.payload === undefined ? announcedBytes(frame.first) : announcedBytes(frame.first) - frame.first.frameBytes;
  const remaining = toHold - frame.heldBytes;
  const size = Math.max(length, Math.min(remaining, frame.heldBytes));
  return { size, slots: Math.ceil(size / frame.first.chunkBytes) };
}

/** The frame's last block when it has room for a chunk of `length` bytes. */
export function lastBlockWithRoom(frame: FrameState, length: number): Block | undefined {
  const block = frame.blocks[frame.blocks.length - 1];
  return block !== undefined && blockHasRoom(block, length) ? block : undefined;
}

/** Counted per view held for its object and its list entries. */
export const VIEW_OVERHEAD_BYTES = 128;

/** What holding `view` costs against maxBufferedBytes: the whole buffer it keeps alive, not only its bytes. */
export function viewBytes(view: Uint8Array): number {
  return view.buffer.byteLength + VIEW_OVERHEAD_BYTES;
}

/** Keeps `view` as chunk `index` (not copied: its bytes must not change until the frame is done with). */
export function holdChunk(frame: FrameState, index: number, view: Uint8Array): void {
  frame.views.push(view);
  frame.viewChunks.push(index);
  frame.heldBytes += view.length;
}

/** Copies chunk `index` into `block`, the frame's last block (which has room for it). */
export function storeChunk(frame: FrameState, block: Block, index: number, chunk: Uint8Array): void {
  appendToBlock(block, index, chunk);
  frame.heldBytes += chunk.length;
}

/** Copies data chunk `index` into its place in the frame's payload (taken with `takePayload`). */
export function writeChunk(frame: FrameState, index: number, chunk: Uint8Array): void {
  frame.payload!.set(chunk, chunkOffset(index, frame.first.chunkBytes));
}

/**
 * Records chunk `index` (stored with `storeChunk`, `holdChunk` or `writeChunk`) as held. Returns true when the frame can now be
 * completed: every data chunk held, or every FEC group holding as many chunks as it has data chunks.
 */
export function markChunk(frame: FrameState, index: number): boolean {
  frame.have[index >> 3]! |= 1 << (index & 7);
  frame.received++;
  const { chunkCount: k, fecGroups: groups, fecParityPerGroup: m } = frame.first;
  let group: number;
  if (index < k) {
    frame.dataReceived++;
    group = index % groups;
  } else {
    group = (index - k) % groups;
  }
  if (m > 0) {
    const held = ++frame.groupHave[group]!;
    if (held === groupDataCount(group, k, groups)) frame.groupsReady++;
  }
  return frame.dataReceived === k || frame.groupsReady === groups;
}

/** A completed frame's bytes, and how many data chunks FEC rebuilt (0 when all arrived). */
export interface FramePayload {
  readonly payload: Uint8Array;
  readonly rebuilt: number;
}

/** A new buffer of `byteLength` bytes: where a completed frame's bytes go unless the caller gives buffers of its own. */
export const newPayload = (byteLength: number): Uint8Array => new Uint8Array(byteLength);

/**
 * The frame's bytes in a buffer of their own (from `allocate`: exactly frameBytes long, its old
 * contents are overwritten, every byte), rebuilding missing data chunks from parity. Call once
 * `markChunk` said ready. A frame that took its payload early (`takePayload`) has its data chunks
 * in it already: nothing is copied but what FEC rebuilds, and `allocate` is not called.
 */
export function framePayload(
  frame: FrameState,
  allocate: (byteLength: number) => Uint8Array = newPayload,
): FramePayload {
  if (frame.payload === undefined) takePayload(frame, allocate);
  const payload = frame.payload!;
  frame.payload = undefined;
  const parity = assemble(frame, payload);
  const rebuilt = frame.dataReceived < frame.first.chunkCount ? rebuild(frame, payload, parity) : 0;
  return { payload, rebuilt };
}

/**
 * Copies the frame's data chunks from its blocks and views into `payload` (chunks adjacent in a block and
 * in the payload are copied in one go: in-order arrival makes each block one copy; a view is one copy; a
 * chunk written into the payload as it came is in neither, and not copied again).
 * When data chunks are missing, returns the parity chunks held, by parity index (views into the blocks,
 * or the views held), for `rebuild`.
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
  const { views, viewChunks } = frame;
  for (let j = 0; j < views.length; j++) {
    const index = viewChunks[j]!;
    if (index < k) payload.set(views[j]!, chunkOffset(index, p));
    else if (parity.length > 0) parity[index - k] = views[j]!;
  }
  return parity;
}

/** Rebuilds the frame's missing data chunks from parity, straight into `payload`. Returns how many. */
function rebuild(frame: FrameState, payload: Uint8Array, held: readonly (Uint8Array | undefined)[]): number {
  const { chunkCount: k, chunkBytes: p, frameBytes: n, fecGroups: groups, fecParityPerGroup: m } = frame.first;
  const view = (i: number): Uint8Array => payload.subarray(i * p, i * p + chunkLength(i, n, p));
  let rebuilt = 0;
  for (let g = 0; g < groups; g++) {
    const data: (Uint8Array | undefined)[] = [];
    let missing = 0;
    for (let i = g; i < k; i += groups) {
      if (hasChunk(frame, i)) data.push(view(i));
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
