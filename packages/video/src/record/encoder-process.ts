/**
 * The recorder's encoder: a child process (`node encoder-process.js <recorder's pid>`,
 * the pid only to tell in `ps` whose it is). The recorder module keeps one started
 * ahead; a recorder takes it at its first frame and sends it a start record saying
 * what to record (`encoder-wire.ts`), then frames (on stdin, or in the slots of memory
 * both map: `frame-slots.ts`), then a close record. A reader
 * thread (`encoder-input.ts`) takes the records off stdin; this thread
 * encodes the frames with OpenCV's synchronous VideoWriter and reports on the IPC
 * channel.
 *
 * A process, not a worker thread of the recorder's process: @u4/opencv4nodejs keeps
 * its classes' constructors in process-wide statics, so loading it in a second
 * thread re-points them at that thread's isolate. Measured: after a worker thread
 * loaded it, the main thread's `encodeJpeg` fails ("expected argument 1 to be of type
 * Mat") and `decodeJpeg` returns objects without `getData`, for good; a second worker
 * aborts the process (V8 "Check failed: node->IsInUse()" in Mat::Init). So in this
 * process too, only this thread loads OpenCV; the reader thread never does.
 *
 * Lifetime: that of the process that started it. Signals sent to the whole process group (Ctrl-C in a
 * terminal, a service manager stopping the group) are for the recorder's process,
 * which then closes this one, so they are ignored here. When the recorder's process
 * goes away without closing (SIGKILL), the IPC channel and stdin close and this
 * process exits at once without finalizing, leaving the file as FFmpeg last flushed
 * it, as when the encoder ran inside the recorder's process (README, "Recording
 * and SIGKILL").
 */
import { MessageChannel, Worker } from "node:worker_threads";
import { describeCause, VideoError } from "../errors.js";
import { useNativeOpencvOnly } from "../opencv.js";
import { jpegAddon } from "../codec/jpeg-addon.js";
import { slotBytes, slotCapacity, SLOTS_FD, type SlotLayout } from "./frame-slots-layout.js";
import { probeWriter, SegmentedWriter } from "./segmented-writer.js";
import type { ReaderData, ReaderMessage } from "./encoder-input.js";
import { ACKNOWLEDGE_MS, type EncoderEvent } from "./encoder-wire.js";

// This process writes with VideoWriter and scales with Mat.resize only: the compiled addon is enough.
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

function post(event: EncoderEvent, then?: () => void): void {
  if (process.send === undefined || !process.connected) return orphaned();
  process.send(event, undefined, {}, () => then?.());
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
function send(event: EncoderEvent, then?: () => void): void {
  acknowledge();
  post(event, then);
}

/** Sends the last event, then exits: nothing is left to do. */
function sendAndExit(event: EncoderEvent): void {
  send(event, () => process.exit(0));
}

/** Made by the start record; the recorder sends it before any frame. */
let writer: SegmentedWriter | undefined;
/** The recorder's frame slots (fd `SLOTS_FD`), mapped at the start record when it has any. */
let slots: { readonly layout: SlotLayout; readonly memory: ArrayBuffer } | undefined;

function mapSlots(layout: SlotLayout): void {
  try {
    slots = { layout, memory: jpegAddon().mapSharedMemory(SLOTS_FD, layout.count * layout.stride) };
  } catch (cause) {
    fail(
      new VideoError("WRITE_FAILED", `the encoder could not map its frame slots: ${describeCause(cause)}`, { cause }),
    );
  }
}
/** After a failure nothing more is encoded; the close record still finalizes the file. */
let failed = false;

function fail(cause: unknown): void {
  failed = true;
  const code = VideoError.isInstance(cause) && cause.code === "CODEC_UNAVAILABLE" ? cause.code : null;
  send({ event: "failed", code, message: describeCause(cause) });
}

function release(): void {
  try {
    writer?.release();
  } catch (cause) {
    if (!failed) fail(cause);
  }
}

const { port1: returns, port2: readerReturns } = new MessageChannel();
const readerData: ReaderData = { returns: readerReturns };
const reader = new Worker(new URL("./encoder-input.js", import.meta.url), {
  workerData: readerData,
  transferList: [readerReturns],
});
reader.on("message", (message: ReaderMessage) => {
  switch (message.kind) {
    case "probe": {
      if (writer !== undefined)
        return stop(new VideoError("WRITE_FAILED", "encoder input: a probe after the start record"));
      const { path, fourcc, fps } = message.options;
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
      acknowledgeEvery = message.options.acknowledgeEvery;
      writer = new SegmentedWriter(message.options, (segment) => send({ event: "file", segment }));
      if (message.options.slots !== null) mapSlots(message.options.slots);
      return;
    case "slot": {
      if (writer === undefined || slots === undefined)
        return stop(new VideoError("WRITE_FAILED", "encoder input: a slot record with no slots"));
      if (failed) return;
      const { layout, memory } = slots;
      const byteLength = message.width * message.height * 3;
      if (message.slot >= layout.count || byteLength > slotCapacity(layout))
        return stop(new VideoError("WRITE_FAILED", `encoder input: slot ${message.slot} cannot hold that frame`));
      const at = slotBytes(memory, layout, message.slot, byteLength);
      try {
        // The recorder reuses the slot once told `written`, which OpenCV is done with when write returns.
        const { scaled } = writer.write(
          message.width,
          message.height,
          Buffer.from(at.buffer, at.byteOffset, byteLength),
        );
        written(scaled);
      } catch (cause) {
        fail(cause);
      }
      return;
    }
    case "frame":
      if (writer === undefined)
        return stop(new VideoError("WRITE_FAILED", "encoder input: a frame before the start record"));
      if (failed) return;
      try {
        const bytes = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
        const { scaled } = writer.write(message.width, message.height, bytes);
        // OpenCV is done with the pixels once write returns: the reader may fill the buffer again.
        returns.postMessage(message.bytes.buffer, [message.bytes.buffer as ArrayBuffer]);
        written(scaled);
      } catch (cause) {
        fail(cause);
      }
      return;
    case "close":
      release();
      return sendAndExit({ event: "closed" });
    case "end":
      return orphaned();
    case "broken":
      return stop(new VideoError("WRITE_FAILED", message.message));
  }
});
reader.on("error", (error) =>
  stop(new VideoError("WRITE_FAILED", `the encoder's input thread failed: ${describeCause(error)}`, { cause: error })),
);

/** No close record can come any more: report why (unless a frame failed first), finalize what was written, exit. */
function stop(cause: VideoError): void {
  if (!failed) fail(cause);
  release();
  sendAndExit({ event: "closed" });
}
