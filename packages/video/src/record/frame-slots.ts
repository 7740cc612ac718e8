/**
 * Raw frames to the encoder process through memory both processes map (a memfd from the package's addon,
 * `native/shared_memory.c`), not through its stdin: the recorder copies a frame into a free slot and writes a
 * 12-byte slot record; the encoder encodes straight from the slot and frees it with its `written` event.
 * Through the socket pair the kernel copied every frame twice (into the socket and out of it) and the encoder's
 * reader thread took ten reads or so a 640x480 frame: measured 0.2 ms of the recorder's CPU and 0.4 ms of the
 * encoder's a frame.
 *
 * The memfd is made when the encoder process is started (it is its stdio entry `SLOTS_FD`), sized at the
 * recording's first frame: `queueLimit` slots, each holding a frame of that size. A frame that fits no slot (a
 * larger one, to be scaled), or one when no slot can be had (no memfd here, the addon not built), goes through
 * stdin as before. The layout is in `frame-slots-layout.ts`.
 */
import { closeSync, ftruncateSync } from "node:fs";
import { jpegAddon } from "../codec/jpeg-addon.js";
import { MAX_SLOTS, slotBytes, slotCapacity, slotLayout, type SlotLayout } from "./frame-slots-layout.js";

/** A new memfd for an encoder process's slots, or undefined where none can be had. */
export function createSlotMemory(): number | undefined {
  try {
    const fd = jpegAddon().createSharedMemory("udpcam-frames");
    return fd >= 0 ? fd : undefined;
  } catch {
    return undefined;
  }
}

/** Closes a memfd from `createSlotMemory` (the mappings stay until they are collected). */
export function closeSlotMemory(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Closed already.
  }
}

/**
 * The slots' memory at most (34 raw 640x480 frames, 11 at 1280x720, at least one frame). A frame copied into a
 * slot is released to its caller at once, so this memory is outside the caller's own bounds (the receiver's
 * recording queue, 128 MB): it must stay small. Frames sent while every slot is taken go on stdin, held by the
 * caller until the kernel has them, as before the slots. The slots are reused last-freed first, so a recording
 * that keeps up touches only the few its encoder has not acknowledged yet.
 */
export const MAX_SLOT_BYTES = 32 << 20;

/** The recorder's side: which slots are free, and the copy into them. */
export class FrameSlots {
  readonly #free: number[];

  private constructor(
    readonly layout: SlotLayout,
    private readonly memory: ArrayBuffer,
  ) {
    this.#free = Array.from({ length: layout.count }, (_, i) => layout.count - 1 - i);
  }

  /**
   * Sizes memfd `fd` for `count` frames of `frameBytes` (fewer if they pass `MAX_SLOT_BYTES`) and maps it;
   * undefined if that fails (stdin then).
   */
  static open(fd: number, frameBytes: number, count: number): FrameSlots | undefined {
    const stride = slotLayout(frameBytes, 1).stride;
    const layout = slotLayout(frameBytes, Math.max(1, Math.min(count, MAX_SLOTS, Math.floor(MAX_SLOT_BYTES / stride))));
    try {
      ftruncateSync(fd, layout.count * layout.stride);
      return new FrameSlots(layout, jpegAddon().mapSharedMemory(fd, layout.count * layout.stride));
    } catch {
      return undefined;
    }
  }

  /** Copies `bytes` into a free slot and returns its number, or undefined when none is free or it does not fit. */
  put(bytes: Uint8Array): number | undefined {
    if (bytes.byteLength > slotCapacity(this.layout)) return undefined;
    const slot = this.#free.pop();
    if (slot === undefined) return undefined;
    slotBytes(this.memory, this.layout, slot, bytes.byteLength).set(bytes);
    return slot;
  }

  /** The encoder is done with the slot's frame. */
  free(slot: number): void {
    this.#free.push(slot);
  }

  /** Every slot free again (after a failure nothing queued will be read). */
  freeAll(): void {
    this.#free.length = 0;
    for (let i = this.layout.count - 1; i >= 0; i--) this.#free.push(i);
  }
}
