/**
 * Memory a receiver completes its raw frames in, which every encoder process it starts maps too (their fd
 * `FRAME_MEMORY_FD`): a frame there is recorded by a 12-byte record naming its slot, with no copy into the
 * encoder's own slots (`frame-slots.ts`) on the recorder's thread, and no transfer of its buffer between threads.
 * Measured before (2026-12-03, raw 640x480 DIVX at 25 fps, perf): that copy was a quarter of the receiver's main
 * thread, 0.09 ms a frame.
 *
 * One memfd, laid out as the encoder's slots are (`frame-slots-layout.ts`: each frame ends mid-page), sized for
 * the first raw frame recorded (`reserve`). Two sides:
 * - `FrameMemory`, the owner (the thread that records): makes the memfd, sizes it, makes views of the slots the
 *   frames arrive in, and tells whether a frame's bytes are in it;
 * - `FrameMemorySlots`, the thread that completes frames (the receiver's ingest): which slots are free, the
 *   last freed taken first, so that a receiver that keeps up touches only a few pages.
 * A frame's slot is free again only once its owner hands it back (every sink and the encoder done with it); a
 * frame that finds no free slot, or does not fit one, gets ordinary memory as before.
 */
import { closeSync, ftruncateSync } from "node:fs";
import { jpegAddon } from "../codec/jpeg-addon.js";
import { MAX_SLOTS, slotBytes, slotCapacity, slotLayout, type SlotLayout } from "./frame-slots-layout.js";

/** The frame memory's size at most: 34 raw 640x480 frames, 11 at 1280x720, at least one frame. */
export const FRAME_MEMORY_BYTES = 32 << 20;

/** The memory's slots for frames of `frameBytes`: as many as fit `FRAME_MEMORY_BYTES`, from 1 to `MAX_SLOTS`. */
export function frameMemoryLayout(frameBytes: number): SlotLayout {
  const stride = slotLayout(frameBytes, 1).stride;
  return slotLayout(frameBytes, Math.max(1, Math.min(MAX_SLOTS, Math.floor(FRAME_MEMORY_BYTES / stride))));
}

/** The slot `bytes` start, when they are a slot's first bytes in `memory`, else undefined. */
function slotAt(
  memory: ArrayBuffer | undefined,
  layout: SlotLayout | undefined,
  bytes: Uint8Array,
): number | undefined {
  if (memory === undefined || layout === undefined || bytes.buffer !== memory) return undefined;
  const from = bytes.byteOffset - layout.offset;
  if (from < 0 || from % layout.stride !== 0 || bytes.byteLength > slotCapacity(layout)) return undefined;
  return from / layout.stride;
}

/** The owner's side: see the module's header. */
export class FrameMemory {
  #layout: SlotLayout | undefined;
  #memory: ArrayBuffer | undefined;
  readonly #onReserved: ((layout: SlotLayout) => void)[] = [];
  #closed = false;

  private constructor(readonly fd: number) {}

  /** A new, empty frame memory, or undefined where none can be had (no memfd, the addon not built). */
  static create(): FrameMemory | undefined {
    try {
      const fd = jpegAddon().createSharedMemory("udpcam-frame-memory");
      return fd >= 0 ? new FrameMemory(fd) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The slots, once reserved. */
  get layout(): SlotLayout | undefined {
    return this.#layout;
  }

  /**
   * Sizes the memory for frames of `frameBytes` and maps it, the first time (later calls keep that layout, which
   * frames of another size do not use); undefined when it cannot be mapped.
   */
  reserve(frameBytes: number): SlotLayout | undefined {
    if (this.#layout !== undefined || this.#closed) return this.#layout;
    const layout = frameMemoryLayout(frameBytes);
    try {
      ftruncateSync(this.fd, layout.count * layout.stride);
      this.#memory = jpegAddon().mapSharedMemory(this.fd, layout.count * layout.stride);
    } catch {
      return undefined;
    }
    this.#layout = layout;
    for (const listener of this.#onReserved) listener(layout);
    return layout;
  }

  /** Calls `listener` with the layout once the memory is reserved (at once if it is already). */
  onReserved(listener: (layout: SlotLayout) => void): void {
    this.#onReserved.push(listener);
    if (this.#layout !== undefined) listener(this.#layout);
  }

  /** The first `byteLength` bytes of slot `slot` (the memory is reserved). */
  view(slot: number, byteLength: number): Uint8Array<ArrayBuffer> {
    if (this.#memory === undefined || this.#layout === undefined) throw new Error("frame memory not reserved");
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.#layout.count || byteLength > slotCapacity(this.#layout))
      throw new RangeError(`no slot ${slot} of ${byteLength} bytes in the frame memory`);
    return slotBytes(this.#memory, this.#layout, slot, byteLength) as Uint8Array<ArrayBuffer>;
  }

  /** The slot `bytes` are in, when they are a view from `view` (or one like it), else undefined. */
  slotOf(bytes: Uint8Array): number | undefined {
    return slotAt(this.#memory, this.#layout, bytes);
  }

  /** Closes the memfd; the mappings stay until they are collected, the encoders keep theirs. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      closeSync(this.fd);
    } catch {
      // Closed already.
    }
  }
}

/** The side that completes frames: see the module's header. */
export class FrameMemorySlots {
  readonly #free: number[];

  private constructor(
    readonly layout: SlotLayout,
    private readonly memory: ArrayBuffer,
  ) {
    this.#free = Array.from({ length: layout.count }, (_, i) => layout.count - 1 - i);
  }

  /** Maps frame memory `fd` as its owner reserved it; undefined if that fails (then ordinary memory for all). */
  static map(fd: number, layout: SlotLayout): FrameMemorySlots | undefined {
    try {
      return new FrameMemorySlots(layout, jpegAddon().mapSharedMemory(fd, layout.count * layout.stride));
    } catch {
      return undefined;
    }
  }

  /**
   * `byteLength` bytes at the start of a free slot, or undefined: none is free, or the frame does not fit a slot or
   * would waste more than half of one (a frame of another stream, a JPEG).
   */
  take(byteLength: number): Uint8Array<ArrayBuffer> | undefined {
    const capacity = slotCapacity(this.layout);
    if (byteLength > capacity || byteLength * 2 <= capacity) return undefined;
    const slot = this.#free.pop();
    return slot === undefined
      ? undefined
      : (slotBytes(this.memory, this.layout, slot, byteLength) as Uint8Array<ArrayBuffer>);
  }

  /** The slot `bytes` are in, when they came from `take`, else undefined. */
  slotOf(bytes: Uint8Array): number | undefined {
    return slotAt(this.memory, this.layout, bytes);
  }

  /** Slot `slot` is free again (its frame dropped, or handed back by the owner). A slot free already is ignored. */
  free(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.layout.count || this.#free.includes(slot)) return;
    this.#free.push(slot);
  }

  get freeSlots(): number {
    return this.#free.length;
  }
}
