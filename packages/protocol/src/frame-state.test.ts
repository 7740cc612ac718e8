import { describe, expect, it } from "vitest";
import { createBlockPool } from "./block-pool.js";
import {
  createFrameState,
  framePayload,
  hasChunk,
  lastBlockWithRoom,
  markChunk,
  nextBlockSize,
  sameLayout,
  storeChunk,
  type FrameState,
} from "./frame-state.js";
import { decodeDatagram, type Datagram } from "./header.js";
import { packetizeFrame } from "./packetize.js";
import { firstDifference, prng, randomBytes, shuffle } from "./testing/random.js";

const random = prng(7);

/** A 10,000-byte JPEG frame cut into 1,000-byte chunks (10 data chunks), with `fecOverhead` parity. */
function chunksOf(fecOverhead: number, fecGroupSize?: number): { payload: Uint8Array; datagrams: Datagram[] } {
  const payload = randomBytes(random, 10_000);
  const frame = {
    streamId: 1,
    frameNumber: 2,
    codec: "jpeg",
    width: 64,
    height: 48,
    fps: 25,
    timestampMs: 1_700_000_000_000,
    payload,
  } as const;
  const datagrams = packetizeFrame(frame, {
    maxDatagramBytes: 1044,
    fecOverhead,
    ...(fecGroupSize === undefined ? {} : { fecGroupSize }),
  }).map((d) => decodeDatagram(d));
  return { payload, datagrams };
}

const pool = createBlockPool();

/** What the frame store does with a chunk, without the budget. Returns markChunk's answer. */
function add(frame: FrameState, d: Datagram): boolean {
  let block = lastBlockWithRoom(frame, d.payload.length);
  if (block === undefined) {
    const { size, slots } = nextBlockSize(frame, d.payload.length);
    block = pool.take(size, slots);
    frame.blocks.push(block);
  }
  storeChunk(frame, block, d.chunkIndex, d.payload);
  return markChunk(frame, d.chunkIndex);
}

describe("a frame's state", () => {
  it("is ready when every data chunk is held, in any order, and gives back the frame's bytes", () => {
    const { payload, datagrams } = chunksOf(0);
    expect(datagrams).toHaveLength(10);
    const order = shuffle(random, [...datagrams]);
    const frame = createFrameState(order[0]!, 5);
    expect(order.map((d) => add(frame, d))).toEqual([...Array<boolean>(9).fill(false), true]);
    expect(frame).toMatchObject({ received: 10, dataReceived: 10, heldBytes: 10_000, firstArrivalMs: 5 });
    const out = framePayload(frame);
    expect(out.rebuilt).toBe(0);
    expect(firstDifference(out.payload, payload)).toBe(-1);
  });

  it("is ready once every FEC group holds as many chunks as its data, and rebuilds the missing ones", () => {
    // 10 data chunks in 2 groups of 5 (groups interleave: chunk i is in group i % 2), 2 parity each.
    const { payload, datagrams } = chunksOf(0.4, 5);
    const head = datagrams[0]!;
    expect(head).toMatchObject({ chunkCount: 10, fecGroups: 2, fecParityPerGroup: 2 });
    const lost = new Set([0, 2, 5]); // two of group 0, one of group 1
    const frame = createFrameState(head, 0);
    const ready = datagrams.filter((d) => !lost.has(d.chunkIndex)).map((d) => add(frame, d));
    expect(ready.indexOf(true)).toBe(ready.length - 2); // the second-to-last parity completes group 0
    expect(hasChunk(frame, 0)).toBe(false);
    expect(hasChunk(frame, 1)).toBe(true);
    const out = framePayload(frame);
    expect(out.rebuilt).toBe(3);
    expect(firstDifference(out.payload, payload)).toBe(-1);
  });

  it("grows its blocks with what it holds, up to what it can still receive", () => {
    const { datagrams } = chunksOf(0);
    const frame = createFrameState(datagrams[0]!, 0);
    expect(nextBlockSize(frame, 1000)).toEqual({ size: 1000, slots: 1 });
    datagrams.slice(0, 3).forEach((d) => add(frame, d));
    // 3,000 held, 7,000 to come: the next block holds 3,000 (three chunks).
    expect(nextBlockSize(frame, 1000)).toEqual({ size: 3000, slots: 3 });
    datagrams.slice(3, 8).forEach((d) => add(frame, d));
    expect(nextBlockSize(frame, 1000)).toEqual({ size: 2000, slots: 2 });
    expect(frame.blocks.map((b) => b.bytes.length)).toEqual([1000, 1000, 2000, 4000]);
  });

  it("tells datagrams of another layout apart", () => {
    const { datagrams } = chunksOf(0);
    const d = datagrams[0]!;
    expect(sameLayout(d, { ...d, chunkIndex: 3, frameNumber: 9, streamId: 4, tagBytes: 16 })).toBe(true);
    for (const change of [
      { frameBytes: 9999 },
      { chunkBytes: 999 },
      { codec: "raw-bgr24" },
      { width: 1 },
      { fps: 30 },
      { timestampMs: 0 },
      { fecGroups: 2 },
    ] as const) {
      expect(sameLayout(d, { ...d, ...change })).toBe(false);
    }
  });
});
