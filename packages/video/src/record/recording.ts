/**
 * The one way to record: `openRecording` takes pixels or JPEG bytes and chooses how
 * to store them. Over 300 lines: the entry point, its queue and its two stores belong together.
 *
 * - **Pass-through** (`MJPG` into `.avi`, `recordingStoresJpeg`): JPEG frames are
 *   appended as they arrive, no decode and no encode (`mjpeg-segments.ts`). Pixels,
 *   and JPEGs of another size, are converted to JPEG at quality 90 first.
 * - **Encoding** (any other pair in `SUPPORTED_FOURCCS`, DIVX by default): OpenCV's
 *   `VideoWriter` in the encoder process (`recorder.ts`), so the caller's event loop
 *   never waits for an encode. JPEG bytes are decoded first.
 *
 * Conversions run on libuv's thread pool, several at once, and frames are stored in
 * the order written. Segments (`segments.ts`) and file names (`file-names.ts`) are
 * decided in one place each, for both kinds.
 */
import { unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { decodeJpegAsync, encodeJpegAsync } from "../codec/jpeg.js";
import { resizeFrameAsync } from "../codec/resize.js";
import { rejectedWith, VideoError } from "../errors.js";
import { assertFrame, frameByteLength, type Frame, type FrameMeta } from "../frame.js";
import { keepSpare, prepareEncoding } from "./encoder-spawn.js";
import { AUTO_FOURCC, checkContainer, chooseFourcc, recordingStoresJpeg } from "./formats.js";
import { jpegSize } from "./mjpeg-avi-layout.js";
import { openMjpegAviWriter } from "./mjpeg-avi.js";
import { MjpegSegments } from "./mjpeg-segments.js";
import { checkOutputPath } from "./output-path.js";
import { openRecorder, type Recorder } from "./recorder.js";
import type { FrameMemory } from "./frame-memory.js";
import { framesPerSegment } from "./segments.js";

/** A frame to record: the sender's JPEG bytes as received, or decoded pixels. */
export type RecordInput =
  | {
      readonly kind: "jpeg";
      readonly bytes: Uint8Array;
      readonly width: number;
      readonly height: number;
      readonly sequence?: number;
      readonly captureTime?: number;
    }
  | {
      readonly kind: "pixels";
      readonly frame: Frame;
      /**
       * Called once the recording no longer references `frame.bytes` (so that the caller may reuse
       * them): once the encoder process has them, once converted to JPEG, or at once when the frame
       * is dropped or refused. Called exactly once, also when `write` rejects.
       */
      readonly release?: () => void;
    };

export interface RecordingOptions {
  /** `.avi`, `.mkv`, `.mp4` or `.mov`. */
  readonly path: string;
  /** See `SUPPORTED_FOURCCS`; `MJPG` into `.avi` stores JPEG frames as they arrive. */
  readonly fourcc: string;
  /** Frame rate written in the file, above 0 and at most 1000. */
  readonly fps: number;
  /** Seconds of video a file (`out-000.avi`, `out-001.avi`, ...); 0 or undefined: one file. */
  readonly segmentSeconds?: number;
  /**
   * `checkRecording` passed for this folder and codec (or `auto`, which leaves a codec to encode
   * with to the encoder process's first file): the codec is not probed again, and an encoding
   * recording opens without waiting for its encoder process (see `openRecorder`'s `probe`).
   */
  readonly checked?: boolean;
  /** The caller's frame memory, lent to the encoder process: raw frames in it are recorded with no copy (see `RecorderOptions`). */
  readonly frameMemory?: FrameMemory;
}

export interface RecordingTotals {
  readonly framesWritten: number;
  /** Frames dropped because the queue was full. */
  readonly framesDropped: number;
  /** Every file written, in order. */
  readonly files: string[];
}

export interface Recording {
  /** The path given to `openRecording`. */
  readonly path: string;
  /** JPEG input is stored as it arrives: the caller need not decode. */
  readonly storesJpeg: boolean;
  /**
   * Never waits on the encoder: resolves once the frame is queued (encoding) or written
   * (pass-through). When the queue is full (`recordingQueueFrames` frames, or 128 MB)
   * the frame is dropped, counted in `framesDropped`, and this resolves. The size of the
   * recording is the first frame's; other sizes are scaled to it. Rejects with
   * `VideoError` `JPEG_INVALID` for bytes that are not a JPEG (nothing is written, the
   * recording goes on), `INVALID_FRAME`, `CLOSED`, or `WRITE_FAILED` once the encoder
   * died or a file write failed (then every later write fails too).
   */
  write(input: RecordInput): Promise<void>;
  readonly framesWritten: number;
  readonly framesDropped: number;
  /** Stores what is queued, finalizes the files (also after a failure, then rethrown) and ends the encoder process. Safe to call twice. */
  close(): Promise<RecordingTotals>;
}

/** Frames that must be encoded to be stored as JPEG get this quality (the sender's default is 80). */
const CONVERTED_JPEG_QUALITY = 90;

/**
 * The queue holds two seconds of the stream, at least 32 frames, and at most 128 MB of
 * frames: an encoder sharing the CPU falls behind for moments, and a new encoder
 * process takes 0.5 s to load Node and OpenCV on a quiet machine (measured over 1 s on a
 * busy one, where half a second of a 50 fps raw stream lost frames at its start). For
 * raw 640x480 frames the 128 MB bound is the one that holds from 70 fps on.
 */
const QUEUE_SECONDS = 2;
const QUEUE_MIN_FRAMES = 32;
export const RECORDING_QUEUE_MAX_BYTES = 128 << 20;

/** Frames a recording at `fps` queues before it drops new ones (fewer when they pass 128 MB). */
export function recordingQueueFrames(fps: number): number {
  return Math.max(QUEUE_MIN_FRAMES, Math.ceil(fps * QUEUE_SECONDS));
}

interface Size {
  readonly width: number;
  readonly height: number;
}

/** Where converted frames go: the encoder process, or the MJPEG AVI files. */
interface Store<T> {
  /** In this process, before `put`: turns an input into what is stored, at `size` (at once when nothing is to convert). */
  convert(input: RecordInput, inputSize: Size, size: Size): Promise<T> | T;
  /** Called in write order, one at a time; calls `release` once the input's pixels are not referenced any more. */
  put(item: T, size: Size, release: () => void): Promise<void>;
  /** Frames (and their bytes) held past `put`, not yet written. */
  readonly framesQueued: number;
  readonly bytesQueued: number;
  readonly framesWritten: number;
  readonly framesDropped: number;
  close(): Promise<{ readonly framesWritten: number; readonly files: readonly string[] }>;
}

function meta(input: RecordInput & { kind: "jpeg" }): FrameMeta {
  return {
    ...(input.sequence === undefined ? {} : { sequence: input.sequence }),
    ...(input.captureTime === undefined ? {} : { captureTime: input.captureTime }),
  };
}

class EncodingStore implements Store<Frame> {
  constructor(private readonly recorder: Recorder) {}

  convert(input: RecordInput): Promise<Frame> | Frame {
    // Frames of another size are scaled by the encoder process, off this thread.
    return input.kind === "pixels" ? input.frame : decodeJpegAsync(input.bytes, meta(input));
  }

  put(frame: Frame, _size: Size, release: () => void): Promise<void> {
    return this.recorder.write(frame, release);
  }

  get framesQueued(): number {
    return this.recorder.framesQueued;
  }

  get bytesQueued(): number {
    return this.recorder.bytesQueued;
  }

  get framesWritten(): number {
    return this.recorder.framesWritten;
  }

  get framesDropped(): number {
    return this.recorder.framesDropped;
  }

  close(): Promise<{ readonly framesWritten: number; readonly files: readonly string[] }> {
    return this.recorder.close();
  }
}

class PassThroughStore implements Store<Uint8Array> {
  #segments: MjpegSegments | undefined;
  readonly framesQueued = 0;
  readonly bytesQueued = 0;
  readonly framesDropped = 0;

  constructor(
    private readonly path: string,
    private readonly fps: number,
    private readonly perSegment: number | null,
  ) {}

  convert(input: RecordInput, inputSize: Size, size: Size): Promise<Uint8Array> | Uint8Array {
    const sameSize = inputSize.width === size.width && inputSize.height === size.height;
    if (input.kind === "jpeg" && sameSize) return input.bytes;
    return this.#reencode(input, sameSize, size);
  }

  async #reencode(input: RecordInput, sameSize: boolean, size: Size): Promise<Uint8Array> {
    let frame = input.kind === "jpeg" ? await decodeJpegAsync(input.bytes) : input.frame;
    if (!sameSize) frame = await resizeFrameAsync(frame, size.width, size.height);
    return encodeJpegAsync(frame, CONVERTED_JPEG_QUALITY);
  }

  put(jpeg: Uint8Array, size: Size, release: () => void): Promise<void> {
    release(); // converted: the pixels (if any) are done with
    this.#segments ??= new MjpegSegments(this.path, { ...size, fps: this.fps, framesPerSegment: this.perSegment });
    return this.#segments.write(jpeg);
  }

  get framesWritten(): number {
    return this.#segments?.framesWritten ?? 0;
  }

  async close(): Promise<{ readonly framesWritten: number; readonly files: readonly string[] }> {
    return (await this.#segments?.close()) ?? { framesWritten: 0, files: [] };
  }
}

class QueuedRecording<T> implements Recording {
  #size: Size | undefined;
  /** Frames accepted and not yet handed to the store (converting, or behind earlier ones), and their bytes. */
  #pending = 0;
  #pendingBytes = 0;
  #dropped = 0;
  /** The last frame handed to the store (it may reject: its writer hears of it); the next is put once it settles. */
  #tail: Promise<void> = Promise.resolve();
  #closing: Promise<RecordingTotals> | undefined;
  readonly #maxFrames: number;

  constructor(
    readonly path: string,
    readonly storesJpeg: boolean,
    fps: number,
    private readonly store: Store<T>,
  ) {
    this.#maxFrames = recordingQueueFrames(fps);
  }

  get framesWritten(): number {
    return this.store.framesWritten;
  }

  get framesDropped(): number {
    return this.#dropped + this.store.framesDropped;
  }

  write(input: RecordInput): Promise<void> {
    // Only pixels may have a release: it runs exactly once, also when the write fails.
    const release = input.kind === "pixels" && input.release !== undefined ? once(input.release) : noRelease;
    let written: Promise<void>;
    try {
      written = this.#write(input, release);
    } catch (error) {
      written = rejectedWith(error);
    }
    if (release === noRelease) return written;
    return written.catch((error: unknown) => {
      release();
      throw error;
    });
  }

  /** Queues the frame; settles once it is stored (or dropped). Throws what is wrong with the input. */
  #write(input: RecordInput, release: () => void): Promise<void> {
    if (this.#closing !== undefined) throw new VideoError("CLOSED", `recording ${this.path} is closed`);
    const inputSize = this.#inputSize(input);
    // What the frame holds while queued: a JPEG to be decoded will be pixels.
    const bytes =
      input.kind === "pixels"
        ? input.frame.bytes.byteLength
        : this.storesJpeg
          ? input.bytes.byteLength
          : frameByteLength(inputSize.width, inputSize.height);
    if (this.#full(bytes)) {
      this.#dropped++;
      release();
      return Promise.resolve();
    }
    const size = (this.#size ??= inputSize);
    // Converting starts now, alongside earlier frames'; storing waits its turn.
    let converted: Promise<T> | T;
    try {
      converted = this.store.convert(input, inputSize, size);
    } catch (error) {
      converted = rejectedWith(error);
    }
    const first = this.#pending === 0;
    this.#pending++;
    this.#pendingBytes += bytes;
    const done = (): void => {
      this.#pending--;
      this.#pendingBytes -= bytes;
    };
    let stored: Promise<void>;
    if (first && this.storesJpeg && !(converted instanceof Promise)) {
      // Nothing before it and nothing to convert (a JPEG stored as it arrives): put at once. Only for the
      // pass-through, which queues nothing past `put`: the encoder's queue would count the frame a second time
      // (here until `put` settles, and there) and take one frame fewer.
      stored = this.#put(converted, size, release);
    } else {
      const later = converted;
      if (later instanceof Promise) later.catch(() => undefined); // reported below, once its turn comes
      const put = async (): Promise<void> => this.#put(await later, size, release);
      stored = this.#tail.then(put, put);
    }
    this.#tail = stored;
    stored.then(done, done);
    return stored;
  }

  #put(item: T, size: Size, release: () => void): Promise<void> {
    try {
      return this.store.put(item, size, release);
    } catch (error) {
      return rejectedWith(error);
    }
  }

  #inputSize(input: RecordInput): Size {
    if (input.kind === "jpeg") return jpegSize(input.bytes); // JPEG_INVALID now, before anything is queued
    assertFrame(input.frame);
    return input.frame;
  }

  #full(bytes: number): boolean {
    const frames = this.#pending + this.store.framesQueued;
    if (frames === 0) return false;
    return frames >= this.#maxFrames || this.#pendingBytes + this.store.bytesQueued + bytes > RECORDING_QUEUE_MAX_BYTES;
  }

  close(): Promise<RecordingTotals> {
    this.#closing ??= this.#finish();
    return this.#closing;
  }

  async #finish(): Promise<RecordingTotals> {
    await this.#tail.catch(() => undefined);
    const { framesWritten, files } = await this.store.close();
    return { framesWritten, framesDropped: this.framesDropped, files: [...files] };
  }
}

const noRelease = (): void => undefined;

/** `f` callable many times, running once. */
function once(f: () => void): () => void {
  let pending: (() => void) | undefined = f;
  return () => {
    const run = pending;
    pending = undefined;
    run?.();
  };
}

function checkFps(fps: number): void {
  if (!Number.isFinite(fps) || fps <= 0 || fps > 1000)
    throw new VideoError("INVALID_OPTION", `fps must be above 0 and at most 1000, got ${fps}`);
}

/** Writes and removes a tiny MJPEG AVI next to the target: the folder really takes a new file. */
async function probePassThrough(path: string): Promise<void> {
  const probe = join(dirname(path), `.${basename(path)}.probe-${process.pid}.avi`);
  try {
    await (await openMjpegAviWriter(probe, { width: 16, height: 16, fps: 25 })).close();
  } catch (cause) {
    if (VideoError.isInstance(cause))
      throw new VideoError(cause.code, `cannot record to ${path}: ${cause.message}`, { cause });
    throw cause;
  } finally {
    await unlink(probe).catch(() => undefined);
  }
}

/**
 * The startup check of a recording, before any frame can be lost: container and
 * fourcc (`CODEC_UNSUPPORTED`), the folder and path (`OUTPUT_NOT_WRITABLE`), and a
 * probe file written next to the target with the same codec (`CODEC_UNAVAILABLE`),
 * each with a message that says what to change. A codec to encode with is probed in
 * an encoder process, never in this one (OpenCV would stay loaded here: some 100 MB),
 * which is kept as the spare, so that the first recording starts warm.
 *
 * With `auto` the codec is chosen per stream. What a JPEG stream gets, when that is
 * storing it as it arrives (MJPG into `.avi`), is checked in full now, in this process;
 * a codec to encode with (DIVX for raw streams) only for its container and folder: no
 * encoder process is started and no OpenCV loaded until a stream that needs one arrives,
 * whose recording then fails with the encoder's `CODEC_UNAVAILABLE` if the codec cannot
 * be written here. A receiver that only ever gets JPEG pays nothing for raw streams.
 */
export async function checkRecording(options: {
  readonly path: string;
  readonly fourcc: string;
  /** The frame memory the recordings will lend their encoders: the spare kept here gets it too. */
  readonly frameMemory?: FrameMemory;
}): Promise<void> {
  const { path } = options;
  const auto = options.fourcc === AUTO_FOURCC;
  // With auto, either codec may arrive: both choices must be possible.
  const choices = auto
    ? new Set([chooseFourcc(path, AUTO_FOURCC, "jpeg"), chooseFourcc(path, AUTO_FOURCC, "raw-bgr24")])
    : new Set([options.fourcc]);
  for (const fourcc of choices) {
    checkContainer(path, fourcc);
    await checkOutputPath(path);
    if (recordingStoresJpeg({ path, fourcc })) await probePassThrough(path);
    else if (!auto) keepSpare((await prepareEncoding(path, fourcc, 25, true, options.frameMemory?.fd)).encoder);
  }
}

/**
 * Opens a recording (see the module's header): checks the path and codec now (the
 * errors of `checkRecording`, and `INVALID_OPTION`); the files are created at the
 * first frame.
 */
export async function openRecording(options: RecordingOptions): Promise<Recording> {
  const { path, fourcc, fps } = options;
  checkFps(fps);
  const perSegment = framesPerSegment(options.segmentSeconds, fps);
  if (recordingStoresJpeg(options)) {
    await checkOutputPath(path);
    return new QueuedRecording(path, true, fps, new PassThroughStore(path, fps, perSegment));
  }
  const recorder = await openRecorder(path, {
    fourcc,
    fps,
    ...(perSegment === null ? {} : { segmentSeconds: options.segmentSeconds }),
    // The recording drops before this queue fills: it counts the frames it converts too.
    queueLimit: recordingQueueFrames(fps),
    whenFull: "drop",
    probe: options.checked !== true,
    ...(options.frameMemory === undefined ? {} : { frameMemory: options.frameMemory }),
  });
  return new QueuedRecording(path, false, fps, new EncodingStore(recorder));
}
