import { afterEach, describe, expect, it } from "vitest";
import { slotCapacity } from "./frame-slots-layout.js";
import { FRAME_MEMORY_BYTES, FrameMemory, frameMemoryLayout, FrameMemorySlots } from "./frame-memory.js";

const RAW_640X480 = 640 * 480 * 3;

describe("FrameMemory and FrameMemorySlots", () => {
  const made: FrameMemory[] = [];
  afterEach(() => {
    for (const memory of made.splice(0)) memory.close();
  });

  function create(): FrameMemory {
    const memory = FrameMemory.create();
    if (memory === undefined) throw new Error("no memfd on this machine: the frame memory cannot be tested");
    made.push(memory);
    return memory;
  }

  function reserved(frameBytes: number): { owner: FrameMemory; slots: FrameMemorySlots } {
    const owner = create();
    const layout = owner.reserve(frameBytes);
    if (layout === undefined) throw new Error("reserve failed");
    const slots = FrameMemorySlots.map(owner.fd, layout);
    if (slots === undefined) throw new Error("map failed");
    return { owner, slots };
  }

  it("holds as many 640x480 frames as fit 32 MiB, each ending mid-page like the encoder's own slots", () => {
    const layout = frameMemoryLayout(RAW_640X480);
    expect(layout).toEqual({ count: Math.floor(FRAME_MEMORY_BYTES / (226 * 4096)), stride: 226 * 4096, offset: 2048 });
    expect(frameMemoryLayout(3840 * 2160 * 3).count).toBe(1);
  });

  it("a frame completed in a slot is the same bytes in the owner's view of that slot: one memory, two mappings", () => {
    const { owner, slots } = reserved(RAW_640X480);
    const taken = slots.take(RAW_640X480);
    if (taken === undefined) throw new Error("no slot");
    for (let i = 0; i < taken.byteLength; i++) taken[i] = (i * 7) & 0xff;
    const slot = slots.slotOf(taken);
    expect(slot).toBeDefined();
    const seen = owner.view(slot!, RAW_640X480);
    expect(seen.buffer).not.toBe(taken.buffer);
    expect(Buffer.compare(seen, taken)).toBe(0);
    expect(owner.slotOf(seen)).toBe(slot);
    // Not a slot: another buffer, or a view that does not start a slot.
    expect(owner.slotOf(new Uint8Array(RAW_640X480))).toBeUndefined();
    expect(owner.slotOf(seen.subarray(64))).toBeUndefined();
  });

  it("reserves once: a later frame size keeps the first layout, and listeners hear of it once", () => {
    const owner = create();
    const heard: unknown[] = [];
    owner.onReserved((layout) => heard.push(layout));
    const first = owner.reserve(RAW_640X480);
    expect(owner.reserve(1280 * 720 * 3)).toBe(first);
    owner.onReserved((layout) => heard.push(layout));
    expect(heard).toEqual([first, first]);
  });

  it("gives a slot only to a frame that fits it and fills more than half of it; none once all are taken", () => {
    const { slots } = reserved(RAW_640X480);
    const capacity = slotCapacity(slots.layout);
    expect(slots.take(capacity + 1)).toBeUndefined();
    expect(slots.take(Math.floor(capacity / 2))).toBeUndefined();
    const taken = Array.from({ length: slots.layout.count }, () => slots.take(RAW_640X480));
    expect(taken.every((bytes) => bytes !== undefined)).toBe(true);
    expect(new Set(taken.map((bytes) => slots.slotOf(bytes!))).size).toBe(slots.layout.count);
    expect(slots.take(RAW_640X480)).toBeUndefined();
  });

  it("takes the slot freed last first, and ignores a slot freed twice (two frames never share one)", () => {
    const { slots } = reserved(RAW_640X480);
    const a = slots.slotOf(slots.take(RAW_640X480)!)!;
    const b = slots.slotOf(slots.take(RAW_640X480)!)!;
    const before = slots.freeSlots;
    slots.free(a);
    slots.free(b);
    slots.free(a);
    slots.free(-1);
    slots.free(slots.layout.count);
    expect(slots.freeSlots).toBe(before + 2);
    expect(slots.slotOf(slots.take(RAW_640X480)!)).toBe(b);
    expect(slots.slotOf(slots.take(RAW_640X480)!)).toBe(a);
  });
});
