/**
 * Where raw frames lie in the memory the recorder shares with its encoder process (`frame-slots.ts`). Pure, so
 * that the encoder's stdin thread and the wire (`encoder-wire.ts`) can use it.
 */
/** The slots' file descriptor in the encoder process: its stdio entry after stdin, stdout, stderr and IPC. */
export const SLOTS_FD = 4;
/** The frame memory's (`frame-memory.ts`) in the encoder process: its stdio entry after the events' socket. */
export const FRAME_MEMORY_FD = 6;
/** The slot record numbers its slot in one byte. */
export const MAX_SLOTS = 256;

/** Where the frames are in the shared memory: slot i's frame starts at `i * stride + offset`. */
export interface SlotLayout {
  readonly count: number;
  readonly stride: number;
  readonly offset: number;
}

const PAGE_BYTES = 4096;
/** Frames start on a multiple of this, as OpenCV's own allocations do. */
const FRAME_ALIGN_BYTES = 64;

/**
 * Where in its memory a frame of `byteLength` bytes starts so that it ends mid-page, when that memory starts
 * `startInPage` bytes into a page: OpenCV's FFmpeg writer copies a frame whose last byte lies within 32 bytes of
 * a page boundary first (its guard against FFmpeg's SIMD reads past the end, `cap_ffmpeg_impl.hpp`
 * `writeFrame`), and a 640x480 or 1280x720 frame is a whole number of pages. A multiple of 64.
 */
export function midPageOffset(startInPage: number, byteLength: number): number {
  const end = (startInPage + byteLength) % PAGE_BYTES;
  return ((PAGE_BYTES / 2 - end + PAGE_BYTES) % PAGE_BYTES) & ~(FRAME_ALIGN_BYTES - 1);
}

/** Slots for frames of `frameBytes`, each frame placed to end mid-page (`midPageOffset`: a mapping starts a page). */
export function slotLayout(frameBytes: number, count: number): SlotLayout {
  if (!Number.isInteger(frameBytes) || frameBytes < 1) throw new RangeError(`frameBytes ${frameBytes}`);
  if (!Number.isInteger(count) || count < 1 || count > MAX_SLOTS) throw new RangeError(`slot count ${count}`);
  const offset = midPageOffset(0, frameBytes);
  const stride = Math.ceil((offset + frameBytes) / PAGE_BYTES) * PAGE_BYTES;
  return { count, stride, offset };
}

/** The bytes a slot can hold. */
export function slotCapacity(layout: SlotLayout): number {
  return layout.stride - layout.offset;
}

/** The first `byteLength` bytes of slot `slot` in `memory` (the whole mapping). */
export function slotBytes(memory: ArrayBuffer, layout: SlotLayout, slot: number, byteLength: number): Uint8Array {
  return new Uint8Array(memory, slot * layout.stride + layout.offset, byteLength);
}

/** Checks a layout from the start record against the mapping's limits. Throws an Error saying what is wrong. */
export function checkSlotLayout(value: unknown, name = "slots"): SlotLayout {
  const o = value as Partial<Record<keyof SlotLayout, unknown>> | null;
  const integer = (v: unknown, min: number, max: number): v is number =>
    typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
  if (
    typeof o !== "object" ||
    o === null ||
    !integer(o.count, 1, MAX_SLOTS) ||
    !integer(o.stride, PAGE_BYTES, 2 ** 31) ||
    o.stride % PAGE_BYTES !== 0 ||
    !integer(o.offset, 0, o.stride - 1)
  )
    throw new Error(
      `${name} must be {count: 1..${MAX_SLOTS}, stride: pages, offset: < stride}, got ${JSON.stringify(value)}`,
    );
  return { count: o.count, stride: o.stride, offset: o.offset };
}
