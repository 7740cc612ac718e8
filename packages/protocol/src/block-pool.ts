/**
 * Chunk storage for incomplete frames: blocks of bytes that chunks are copied into back to back,
 * and a small pool of blocks from finished frames kept for reuse. Steady traffic then allocates
 * little more than each frame's payload.
 */

/** Counted per block for its objects and its entry in the list. */
export const BLOCK_OVERHEAD_BYTES = 128;
/** Spare blocks kept for reuse, at most this many... */
export const SPARE_BLOCKS = 64;
/** ...and this many bytes in all. */
export const SPARE_BLOCK_BYTES = 4 * 1024 * 1024;

/** Chunks copied back to back in arrival order. */
export interface Block {
  /** Its bytes; a reused block's bytes past `fill` are stale. */
  readonly bytes: Uint8Array;
  /** The chunk index of each chunk in `bytes`, in order; as many slots as `bytes` can hold chunks. */
  readonly chunks: Uint16Array;
  count: number;
  /** Bytes of `bytes` used. */
  fill: number;
}

/** What a block holds, counted against the reassembler's maxBufferedBytes. */
export function blockBytes(block: Block): number {
  return block.bytes.length + block.chunks.byteLength + BLOCK_OVERHEAD_BYTES;
}

/** True when `block` has room for one more chunk of `length` bytes. */
export function blockHasRoom(block: Block, length: number): boolean {
  return block.fill + length <= block.bytes.length && block.count < block.chunks.length;
}

/** Copies `chunk` (chunk number `index`) after the block's last chunk. The caller checked `blockHasRoom`. */
export function appendToBlock(block: Block, index: number, chunk: Uint8Array): void {
  block.bytes.set(chunk, block.fill);
  block.fill += chunk.length;
  block.chunks[block.count++] = index;
}

export interface BlockPool {
  /** An empty block holding `size` to `2 * size` bytes and at least `slots` chunks: a spare one, or a new one of exactly that size. */
  take(size: number, slots: number): Block;
  /** Keeps the blocks of a finished frame for reuse, in order, while the pool has room. */
  recycle(blocks: readonly Block[]): void;
  /** Spare blocks held, and their bytes (for tests). */
  readonly spareCount: number;
  readonly spareBytes: number;
}

export function createBlockPool(maxBlocks = SPARE_BLOCKS, maxBytes = SPARE_BLOCK_BYTES): BlockPool {
  const spare: Block[] = [];
  let spareBytes = 0;
  return {
    take(size, slots) {
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
    },
    recycle(blocks) {
      for (const block of blocks) {
        if (spare.length === maxBlocks || spareBytes + block.bytes.length > maxBytes) break;
        spareBytes += block.bytes.length;
        spare.push(block);
      }
    },
    get spareCount() {
      return spare.length;
    },
    get spareBytes() {
      return spareBytes;
    },
  };
}
