import { describe, expect, it } from "vitest";
import { FramePool } from "./frame-pool.js";

describe("FramePool", () => {
  it("hands out a buffer given back for a frame it holds without wasting more than the frame's size", () => {
    const pool = new FramePool();
    const first = pool.take(921_600);
    expect(first.byteLength).toBe(921_600);
    expect(first.byteOffset).toBe(0);
    first.fill(7);
    pool.give(first.buffer);
    expect(pool.take(100).buffer).not.toBe(first.buffer); // too small for it: a new one
    const again = pool.take(921_600);
    expect(again.buffer).toBe(first.buffer);
    expect(again.byteLength).toBe(921_600);
    expect(pool.spareFrames).toBe(0);
    expect(pool.take(921_600).buffer).not.toBe(first.buffer);
  });

  it("gives a new buffer headroom, so a JPEG stream's next frames (a little larger or smaller) reuse it", () => {
    const pool = new FramePool();
    const first = pool.take(25_000);
    expect(pool.made(first.buffer)).toBe(true);
    expect(first.buffer.byteLength).toBeGreaterThanOrEqual(30_000);
    pool.give(first.buffer);
    const larger = pool.take(28_000);
    expect(larger.buffer).toBe(first.buffer);
    expect(larger.byteLength).toBe(28_000);
    pool.give(larger.buffer);
    const smaller = pool.take(20_000);
    expect(smaller.buffer).toBe(first.buffer);
    pool.give(smaller.buffer);
    expect(pool.take(60_000).buffer).not.toBe(first.buffer); // does not fit
    expect(pool.made(new ArrayBuffer(8))).toBe(false);
  });

  it("keeps at most its count and bytes of spares, dropping the oldest", () => {
    const pool = new FramePool(2, 1000);
    const buffers = [400, 400, 400].map((n) => new ArrayBuffer(n));
    for (const b of buffers) pool.give(b);
    expect(pool.spareFrames).toBe(2);
    expect(pool.spareBytes).toBe(800);
    expect(pool.take(400).buffer).toBe(buffers[2]);
    expect(pool.take(400).buffer).toBe(buffers[1]);
    pool.give(new ArrayBuffer(600));
    pool.give(new ArrayBuffer(600));
    expect(pool.spareBytes).toBe(600);
    pool.give(new ArrayBuffer(2000)); // larger than the whole pool: not kept
    pool.give(new ArrayBuffer(0)); // detached (transferred elsewhere): not kept
    expect(pool.spareFrames).toBe(1);
  });
});
