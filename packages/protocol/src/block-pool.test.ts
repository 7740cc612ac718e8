import { describe, expect, it } from "vitest";
import { appendToBlock, blockBytes, blockHasRoom, BLOCK_OVERHEAD_BYTES, createBlockPool } from "./block-pool.js";

describe("blocks", () => {
  it("take chunks back to back until bytes or slots run out", () => {
    const block = createBlockPool().take(10, 2);
    expect(blockBytes(block)).toBe(10 + 2 * 2 + BLOCK_OVERHEAD_BYTES);
    expect(blockHasRoom(block, 6)).toBe(true);
    appendToBlock(block, 7, Uint8Array.of(1, 2, 3, 4, 5, 6));
    expect(blockHasRoom(block, 5)).toBe(false);
    expect(blockHasRoom(block, 4)).toBe(true);
    appendToBlock(block, 3, Uint8Array.of(9));
    expect(blockHasRoom(block, 1)).toBe(false); // no slot left, bytes to spare
    expect([...block.bytes.subarray(0, block.fill)]).toEqual([1, 2, 3, 4, 5, 6, 9]);
    expect([...block.chunks.subarray(0, block.count)]).toEqual([7, 3]);
  });
});

describe("createBlockPool", () => {
  it("reuses a spare block of size to twice the size with enough slots, emptied", () => {
    const pool = createBlockPool();
    const block = pool.take(100, 4);
    appendToBlock(block, 1, new Uint8Array(50));
    pool.recycle([block]);
    expect(pool.spareCount).toBe(1);
    expect(pool.spareBytes).toBe(100);
    expect(pool.take(101, 4)).not.toBe(block); // too small
    expect(pool.take(49, 4)).not.toBe(block); // more than twice the size
    expect(pool.take(50, 5)).not.toBe(block); // too few slots
    const again = pool.take(50, 4);
    expect(again).toBe(block);
    expect(again).toMatchObject({ count: 0, fill: 0 });
    expect(pool.spareCount).toBe(0);
    expect(pool.spareBytes).toBe(0);
  });

  it("makes new blocks of exactly the size asked when no spare fits", () => {
    const block = createBlockPool().take(33, 3);
    expect(block.bytes.length).toBe(33);
    expect(block.chunks.length).toBe(3);
  });

  it("keeps at most maxBlocks blocks and maxBytes bytes, stopping at the first that does not fit", () => {
    const few = createBlockPool(2, 1000);
    few.recycle([few.take(100, 1), few.take(100, 1), few.take(100, 1)]);
    expect(few.spareCount).toBe(2);
    const small = createBlockPool(8, 250);
    small.recycle([small.take(100, 1), small.take(100, 1), small.take(60, 1), small.take(10, 1)]);
    expect(small.spareBytes).toBe(200);
    expect(small.spareCount).toBe(2);
  });
});
