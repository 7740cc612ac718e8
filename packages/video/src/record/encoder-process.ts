/**
 * The recorder's encoder: a child process (`node encoder-process.js <recorder's pid>`,
 * the pid only to tell in `ps` whose it is). The recorder module keeps one started
 * ahead; a recorder takes it at its first frame and sends it a start record saying
 * what to record (`encoder-wire.ts`), then frames (on stdin, or in the slots of memory
 * both map: `frame-slots.ts`), then a close record. Its one thread reads the records
 * off stdin (`RecordReader`), encodes the frames synchronously (`segmented-writer.ts`: MPEG-4 Part 2
 * natively, other codecs with OpenCV's VideoWriter) and reports on its events' socket (`EVENTS_FD`). (A reader thread took whole frames off
 * stdin before they came in shared slots: it cost 0.4 ms of CPU a 640x480 frame, and
 * the hop to this thread another message a frame.)
 *
 * A process, not a worker thread of the recorder's process: @u4/opencv4nodejs keeps
 * its classes' constructors in process-wide statics, so loading it in a second
 * thread re-points them at that thread's isolate. Measured: after a worker thread
 * loaded it, the main thread's `encodeJpeg` fails ("expected argument 1 to be of type
 * Mat") and `decodeJpeg` returns objects without `getData`, for good; a second worker
 * aborts the process (V8 "Check failed: node->IsInUse()" in Mat::Init). So in this
 * process too, only its main thread loads OpenCV.
 *
 * Lifetime: that of the process that started it. Signals sent to the whole process group (Ctrl-C in a
 * terminal, a service manager stopping the group) are for the recorder's process,
 * which then closes this one, so they are ignored here. When the recorder's process
 * goes away without closing (SIGKILL), the IPC channel and stdin close and this
 * process exits at once without finalizing: the file keeps every frame encoded for MPEG-4 Part 2 (the native
 * writer flushes each one), and what FFmpeg last flushed for the codecs OpenCV writes (README, "Recording
 * and SIGKILL").
 */
import { writeSync } from "node:fs";
import { describeCause, VideoError } from "../errors.js";
import { useNativeOpencvOnly } from "../opencv.js";
import { jpegAddon } from "../codec/jpeg-addon.js";
import {
  FRAME_MEMORY_FD,
  midPageOffset,
  slotBytes,
  slotCapacity,
  SLOTS_FD,
  type SlotLayout,
} from "./frame-slots-layout.js";
import { probeWriter, SegmentedWriter, type BgrFrame } from "./segmented-writer.js";
import {
  ACKNOWLEDGE_MS,
  EVENTS_FD,
  eventRecord,
  MAX_FAILURE_MESSAGE_CHARS,
  RecordReader,
  type EncoderEvent,
  type EncoderRecord,
} from "./encoder-wire.js";

// This process writes with VideoWriter and scales with Mat.resize only (and loads OpenCV only for them): the
// compiled addon is enough.
useNativeOpencvOnly();

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => undefined);

/** The recorder is gone: see the header. */
const orphaned = (): never => process.exit(0);
process.on("disconnect", orphaned);
// Also watch the parent itself: a fresh-clone CI run once found an encoder still alive 10 s after its
// recorder's process was SIGKILLed. Once the parent is gone, this process is re-parented.
const recorderPid = Number(process.argv[2]);
const ORPHAN_CHECK_MS = 250;
if (Number.isInteger(recorderPid) && recorderPid > 0) {
  setInterval(() => {
    if (process.ppid !== recorderPid) orphaned();
  }, ORPHAN_CHECK_MS).unref();
}

/** Frames encoded and not yet told (`written` holds back: see `ACKNOWLEDGE_MS`), and how many of them were scaled. */
let unacknowledged = 0;
let unacknowledgedScaled = 0;
let acknowledgeTimer: NodeJS.Timeout | undefined;
/** From the start record. */
let acknowledgeEvery = 1;

/**
 * Writes an event on the events' socket (`EVENTS_FD`, blocking: an event is 12 bytes, or a short JSON, and the
 * recorder reads them as they come). Failing, the recorder is gone.
 */
function post(event: EncoderEvent): void {
  try {
    const bytes = eventRecord(event);
    for (let at = 0; at < bytes.byteLength;) at += writeSync(EVENTS_FD, bytes, at);
  } catch {
    orphaned();
  }
}

/** Tells the recorder of the frames encoded so far, if any. */
function acknowledge(): void {
  clearTimeout(acknowledgeTimer);
  acknowledgeTimer = undefined;
  if (unacknowledged === 0) return;
  const event: EncoderEvent = { event: "written", frames: unacknowledged, scaled: unacknowledgedScaled };
  unacknowledged = 0;
  unacknowledgedScaled = 0;
  post(event);
}

function written(scaled: boolean): void {
  unacknowledged++;
  if (scaled) unacknowledgedScaled++;
  if (unacknowledged >= acknowledgeEvery) acknowledge();
  else acknowledgeTimer ??= setTimeout(acknowledge, ACKNOWLEDGE_MS);
}

/** Any other event: the frames encoded before it are told first, so the recorder sees them in order. */
function send(event: EncoderEvent): void {
  acknowledge();
  post(event);
}

/** Sends the last event, then exits (the kernel has it): nothing is left to do. */
function sendAndExit(event: EncoderEvent): void {
  send(event);
  process.exit(0);
}

/** Made by the start record; the recorder sends it before any frame. */
let writer: SegmentedWriter | undefined;
interface MappedSlots {
  readonly layout: SlotLayout;
  readonly memory: ArrayBuffer;
  /**
   * Each slot's frame, made at the slot's first frame of a size and kept (with the Mat OpenCV's writer makes over
   * it): the writer reads the slot's bytes at each write, so a frame from a slot costs no view or Mat of its own.
   */
  readonly slotFrames: (BgrFrame | undefined)[];
}
/** The recorder's frame slots (fd `SLOTS_FD`) and its caller's frame memory (fd `FRAME_MEMORY_FD`), mapped at the start record when it names them. */
let slots: MappedSlots | undefined;
let frames: MappedSlots | undefined;

function mapSlots(fd: number, layout: SlotLayout, what: string): MappedSlots | undefined {
  try {
    return { layout, memory: jpegAddon().mapSharedMemory(fd, layout.count * layout.stride), slotFrames: [] };
  } catch (cause) {
    fail(new VideoError("WRITE_FAILED", `the encoder could not map ${what}: ${describeCause(cause)}`, { cause }));
    return undefined;
  }
}
/** After a failure nothing more is encoded; the close record still finalizes the file. */
let failed = false;

function fail(cause: unknown): void {
  failed = true;
  const code = VideoError.isInstance(cause) && cause.code === "CODEC_UNAVAILABLE" ? cause.code : null;
  send({ event: "failed", code, message: describeCause(cause).slice(0, MAX_FAILURE_MESSAGE_CHARS) });
}

function release(): void {
  try {
    writer?.release();
  } catch (cause) {
    if (!failed) fail(cause);
  }
}

/** glibc's header before the memory of a chunk it maps by itself (every buffer this large): 16 bytes into a page. */
const MAPPED_CHUNK_OFFSET = 16;

/** The last frame that came on stdin: its buffer takes the next one of that size (OpenCV is done with it). */
let spareFrame: Uint8Array | undefined;

function allocateFrame(byteLength: number): Uint8Array {
  const spare = spareFrame;
  spareFrame = undefined;
  if (spare?.byteLength === byteLength) return spare;
  const offset = midPageOffset(MAPPED_CHUNK_OFFSET, byteLength);
  return new Uint8Array(new ArrayBuffer(offset + byteLength), offset, byteLength);
}

/** Set by the close record, or once the input can no longer be read: what follows is not for this process. */
let ended = false;

function encode(width: number, height: number, bytes: Uint8Array): void {
  try {
    written(writer!.write({ width, height, bytes }).scaled);
  } catch (cause) {
    fail(cause);
  }
}

function encodeSlot({ layout, memory, slotFrames }: MappedSlots, slot: number, width: number, height: number): void {
  try {
    let frame = slotFrames[slot];
    if (frame?.width !== width || frame.height !== height) {
      frame = { width, height, bytes: slotBytes(memory, layout, slot, width * height * 3) };
      slotFrames[slot] = frame;
    }
    written(writer!.write(frame).scaled);
  } catch (cause) {
    fail(cause);
  }
}

function handle(record: EncoderRecord): void {
  if (ended) return;
  switch (record.kind) {
    case "probe": {
      if (writer !== undefined)
        return stop(new VideoError("WRITE_FAILED", "encoder input: a probe after the start record"));
      const { path, fourcc, fps } = record.options;
      let error: string | null = null;
      try {
        probeWriter(path, fourcc, fps);
      } catch (cause) {
        error = describeCause(cause);
      }
      send({ event: "probed", error });
      return;
    }
    case "start":
      if (writer !== undefined) return stop(new VideoError("WRITE_FAILED", "encoder input: a second start record"));
      acknowledgeEvery = record.options.acknowledgeEvery;
      writer = new SegmentedWriter(record.options, (segment) => send({ event: "file", segment }));
      if (record.options.slots !== null) slots = mapSlots(SLOTS_FD, record.options.slots, "its frame slots");
      if (record.options.frames != null)
        frames = mapSlots(FRAME_MEMORY_FD, record.options.frames, "the recorder's frame memory");
      return;
    case "slot":
    case "lent": {
      const mapped = record.kind === "slot" ? slots : frames;
      if (writer === undefined || mapped === undefined)
        return stop(new VideoError("WRITE_FAILED", `encoder input: a ${record.kind} record with no memory for it`));
      if (failed) return;
      const { layout } = mapped;
      const byteLength = record.width * record.height * 3;
      if (record.slot >= layout.count || byteLength > slotCapacity(layout))
        return stop(
          new VideoError("WRITE_FAILED", `encoder input: ${record.kind} slot ${record.slot} cannot hold that frame`),
        );
      // The slot is reused once told `written`: the writer is done with its bytes when write returns.
      return encodeSlot(mapped, record.slot, record.width, record.height);
    }
    case "frame":
      if (writer === undefined)
        return stop(new VideoError("WRITE_FAILED", "encoder input: a frame before the start record"));
      if (!failed) encode(record.width, record.height, record.bytes);
      spareFrame = record.bytes;
      return;
    case "acknowledge":
      // Records are handled in order: every frame before this one is encoded.
      acknowledge();
      return;
    case "close":
      ended = true;
      release();
      return sendAndExit({ event: "closed" });
  }
}

// Read on this thread: slot records are 12 bytes, and a frame on stdin (one larger than the slots) is rare.
const input = new RecordReader(allocateFrame);
process.stdin.on("data", (chunk: Buffer) => {
  try {
    input.push(chunk, handle);
  } catch (cause) {
    // The input lost its framing (a bug): nothing more can be read from it.
    stop(VideoError.isInstance(cause) ? cause : new VideoError("WRITE_FAILED", describeCause(cause), { cause }));
  }
});
// The recorder closed the input without a close record, or went away: see the header.
process.stdin.on("end", orphaned);
process.stdin.on("error", orphaned);

/** No close record can come any more: report why (unless a frame failed first), finalize what was written, exit. */
function stop(cause: VideoError): void {
  if (ended) return;
  ended = true;
  if (!failed) fail(cause);
  release();
  sendAndExit({ event: "closed" });
}
