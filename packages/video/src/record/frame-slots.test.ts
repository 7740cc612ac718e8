import { closeSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { jpegAddon } from "../codec/jpeg-addon.js";
import { checkSlotLayout, slotBytes, slotCapacity, slotLayout } from "./frame-slots-layout.js";
import { createSlotMemory, FrameSlots, MAX_SLOT_BYTES } from "./frame-slots.js";

const PAGE = 4096;

describe("slotLayout", () => {
  it.each([1, 3, 100, 4095, 4096, 12345, 640 * 480 * 3, 1280 * 720 * 3])(
    "frames of %s bytes: aligned to 64, each ending mid-page, in whole pages",
    (frameBytes) => {
      const layout = slotLayout(frameBytes, 8);
      expect(layout.count).toBe(8);
      expect(layout.offset % 64).toBe(0);
      expect(layout.stride % PAGE).toBe(0);
      expect(slotCapacity(layout)).toBeGreaterThanOrEqual(frameBytes);
      // OpenCV copies a frame ending within 32 bytes of a page boundary: these end 1,985-2,048 bytes from one.
      const end = (layout.offset + frameBytes) % PAGE;
      expect(end).toBeGreaterThanOrEqual(PAGE / 2 - 63);
      expect(end).toBeLessThanOrEqual(PAGE / 2);
    },
  );

  it("places a 640x480 frame 2,048 bytes into each slot of 226 pages", () => {
    expect(slotLayout(921_600, 8)).toEqual({ count: 8, stride: 226 * PAGE, offset: 2048 });
  });

  it.each([0, 257, 1.5])("refuses %s slots", (count) => {
    expect(() => slotLayout(100, count)).toThrow(RangeError);
  });

  it("checks a layout from the wire", () => {
    const layout = slotLayout(921_600, 8);
    expect(checkSlotLayout(JSON.parse(JSON.stringify(layout)))).toEqual(layout);
    expect(() => checkSlotLayout({ ...layout, stride: layout.stride + 1 })).toThrow(/slots must be/);
    expect(() => checkSlotLayout("8")).toThrow(/slots must be/);
  });
});

describe("FrameSlots", () => {
  const fds: number[] = [];
  afterEach(() => {
    for (const fd of fds.splice(0)) closeSync(fd);
  });

  function memory(): number {
    const fd = createSlotMemory();
    if (fd === undefined) throw new Error("no memfd on this machine: the slots cannot be tested");
    fds.push(fd);
    return fd;
  }

  it("a frame put in a slot is there in a second mapping of the memory, as the encoder maps it", () => {
    const fd = memory();
    const slots = FrameSlots.open(fd, 5000, 3);
    if (slots === undefined) throw new Error("FrameSlots.open failed");
    const { layout } = slots;
    const other = jpegAddon().mapSharedMemory(fd, layout.count * layout.stride);
    const frames = [1, 2, 3].map((seed) => Uint8Array.from({ length: 5000 }, (_, i) => (i * seed + seed) & 0xff));
    const used = frames.map((frame) => slots.put(frame));
    expect(new Set(used).size).toBe(3);
    used.forEach((slot, n) => expect(slotBytes(other, layout, slot ?? -1, 5000)).toEqual(frames[n]));
    // All taken: the caller sends the next frame on stdin.
    expect(slots.put(frames[0]!)).toBeUndefined();
    slots.free(used[1]!);
    const again = Uint8Array.from({ length: 4000 }, (_, i) => (i * 13) & 0xff);
    expect(slots.put(again)).toBe(used[1]);
    expect(slotBytes(other, layout, used[1]!, 4000)).toEqual(again);
    slots.freeAll();
    expect(slots.put(frames[2]!)).toBeDefined();
  });

  it("holds at most MAX_SLOT_BYTES of frames, and at least one", () => {
    expect(FrameSlots.open(memory(), 640 * 480 * 3, 256)?.layout.count).toBe(Math.floor(MAX_SLOT_BYTES / (226 * PAGE)));
    expect(FrameSlots.open(memory(), 640 * 480 * 3, 8)?.layout.count).toBe(8);
    expect(FrameSlots.open(memory(), 3840 * 2160 * 3, 8)?.layout.count).toBe(1);
  });

  it("a frame larger than a slot is not put (it goes on stdin)", () => {
    const slots = FrameSlots.open(memory(), 1000, 2);
    expect(slots?.put(new Uint8Array(slotCapacity(slots.layout) + 1))).toBeUndefined();
    expect(slots?.put(new Uint8Array(slotCapacity(slots.layout)))).toBe(0);
  });

  it("gives no slots where the memory cannot be sized, so that frames go on stdin", () => {
    expect(FrameSlots.open(-1, 1000, 2)).toBeUndefined();
  });
});
