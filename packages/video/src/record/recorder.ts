/**
 * Recording frames to a video file through OpenCV's VideoWriter (FFmpeg backend),
 * DIVX in AVI by default like the seed.
 *
 * The encoding runs in a child process, the encoder (`encoder-process.ts`), so the
 * caller's event loop never waits for it: about 2 ms for a 640x480 DIVX frame and
 * 8-10 ms at 1280x720 here, which in the receiver's main thread was most of its CPU.
 * Frames go to the encoder as they are written: copied into memory both processes
 * map (`frame-slots.ts`), only a 12-byte record on the encoder's stdin
 * (`encoder-wire.ts`); a frame that fits no slot goes on stdin itself, the kernel
 * copying the caller's bytes into the socket (no transfer, no copy in JavaScript).
 * Not a worker thread: the OpenCV binding does not survive being loaded in a second
 * thread (see the encoder's header). Not the binding's `writeAsync` either: its async
 * worker keeps a copy of the writer alive until V8 collects it, so `release()` after
 * `writeAsync` leaves the file unfinalized (measured: unreadable by ffprobe) until
 * some later garbage collection.
 *
 * Over 300 lines: one class, whose queue, waiting writes and encoder lifetime
 * depend on each other; the process spawning and checks are in `encoder-spawn.ts`.
 *
 * Everything that can be checked is checked at open time, before any frame is lost
 * (`prepareEncoding` in `encoder-spawn.ts`).
 */
import type { ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { resolve } from "node:path";
import { VideoError } from "../errors.js";
import { assertFrame, type Frame } from "../frame.js";
import {
  encoderHandles,
  frameMemoryOf,
  onEncoderEvents,
  prepareEncoding,
  retireEncoder,
  slotMemoryOf,
  takeEncoder,
  type EncoderMessage,
} from "./encoder-spawn.js";
import { FrameSlots } from "./frame-slots.js";
import type { FrameMemory } from "./frame-memory.js";
import { segmentPath } from "./file-names.js";
import { DEFAULT_FOURCC } from "./formats.js";
import { framesPerSegment } from "./segments.js";
import {
  acknowledgeRecord,
  closeRecord,
  frameRecordHeader,
  lentRecord,
  MAX_RECORDED_SIDE,
  slotRecord,
  startRecord,
  type EncoderOptions,
} from "./encoder-wire.js";

export interface RecorderOptions {
  /** Four-character codec code; default `DIVX`. See `SUPPORTED_FOURCCS`. */
  readonly fourcc?: string;
  /** Frame rate written in the file; default 25 (the seed's). */
  readonly fps?: number;
  /**
   * A frame whose size differs from the first frame's: `scale` it to that size
   * (default) or reject the write with `FRAME_SIZE_MISMATCH` (`error`).
   */
  readonly onSizeMismatch?: "scale" | "error";
  /** Frames waiting to be encoded at most; default 8. */
  readonly queueLimit?: number;
  /** When the queue is full: `wait` (the write's promise waits; default) or `drop` the new frame. */
  readonly whenFull?: "wait" | "drop";
  /**
   * Split the recording into files of this many seconds of video each (counted in
   * frames at `fps`, `segments.ts`): `out.avi` becomes `out-000.avi`, `out-001.avi`,
   * ... Each file is finalized when the next one starts, so a killed recorder loses
   * at most the last segment. Default (or 0): one file.
   */
  readonly segmentSeconds?: number;
  /**
   * Probe the codec at open time (default): `CODEC_UNAVAILABLE` now. `false` when it was
   * probed for this folder already (`checkRecording`): open returns without waiting for
   * the encoder process, whose OpenCV then loads while the first frames queue, and a
   * codec that fails after all fails the writes (`WRITE_FAILED`).
   */
  readonly probe?: boolean;
  /**
   * The caller's frame memory (`frame-memory.ts`), which the encoder process then maps: a frame whose bytes are
   * one of its slots is sent as a 12-byte record naming the slot, with no copy, and `write`'s `release` is called
   * once the encoder has encoded it. The recorder reserves it for its first frame's size if nobody has.
   */
  readonly frameMemory?: FrameMemory;
}

export interface RecorderStats {
  readonly framesWritten: number;
  /** Frames refused because the queue was full (`whenFull: 'drop'`). */
  readonly framesDropped: number;
  /** Frames scaled to the recording's size. */
  readonly framesScaled: number;
  /** Every file written, in order. */
  readonly files: readonly string[];
}

export interface Recorder extends RecorderStats {
  /** The path given to `openRecorder`. */
  readonly path: string;
  /** Size of the recording: undefined until the first frame. */
  readonly width: number | undefined;
  readonly height: number | undefined;
  /** Frames written and not yet encoded (sent to the encoder, or waiting to be sent), and their bytes. */
  readonly framesQueued: number;
  readonly bytesQueued: number;
  /**
   * Queues a frame for the encoder. Resolves once the frame is queued (at once unless
   * the queue is full and `whenFull` is `wait`). Rejects with a `VideoError`:
   * `FRAME_SIZE_MISMATCH`, `INVALID_FRAME` (also for more than 16384 pixels a side),
   * `CLOSED`, or `WRITE_FAILED` when an earlier frame failed to encode or the encoder
   * process stopped. The frame's bytes must not
   * change until it is written (frames are immutable); they are not taken over.
   * `release`, when given, is called once they are no longer referenced here: once
   * they are copied to the encoder's memory or its input has them, once encoded when
   * they are in the frame memory (`RecorderOptions.frameMemory`), or when the frame is
   * dropped or can no longer be written; not when `write` rejects (the caller knows then).
   */
  write(frame: Frame, release?: () => void): Promise<void>;
  /** Resolves when every queued frame is written (or can no longer be: see `write`'s errors). */
  flush(): Promise<void>;
  /**
   * Writes what is queued, finalizes the file and ends the encoder process. Always
   * releases the writer, also after a failure (then rethrown), unless the encoder
   * process itself died (`WRITE_FAILED` naming how). Safe to call twice.
   */
  close(): Promise<RecorderStats>;
}

/** The last line of what the encoder printed, for error messages. */
const STDERR_TAIL_CHARS = 2000;

interface WaitingWrite {
  readonly frame: Frame;
  readonly release: (() => void) | undefined;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

class VideoRecorder implements Recorder {
  width: number | undefined;
  height: number | undefined;
  framesWritten = 0;
  framesDropped = 0;
  framesScaled = 0;
  readonly files: string[] = [];
  /**
   * The frames sent to the encoder and not yet encoded, oldest first (with the slot each is in, and for a frame
   * in the frame memory its release): the queue.
   */
  private readonly inFlight: {
    readonly sequence: number;
    readonly byteLength: number;
    readonly slot: number | undefined;
    readonly release: (() => void) | undefined;
  }[] = [];
  /** Shared with the encoder, sized at the first frame; undefined: every frame goes on stdin. */
  private slots: FrameSlots | undefined;
  /** Set when the encoder maps the caller's frame memory: frames in it go as lent records. */
  private lending: FrameMemory | undefined;
  private inFlightBytes = 0;
  /** Writes waiting for room in the queue (`whenFull: 'wait'`), in call order. */
  private readonly waiting: WaitingWrite[] = [];
  private readonly flushWaiters: (() => void)[] = [];
  /** The process that answered the probe at open time, OpenCV loaded: started at the first frame, ended by close() if none came. */
  private reserved: ChildProcess | undefined;
  /** Set at the first frame (the reserved process, or a new one if that one died meanwhile). */
  private encoder: ChildProcess | undefined;
  private encoderGone: Promise<void> | undefined;
  private encoderExited = false;
  private closeSent = false;
  private closedByEncoder = false;
  private stderrTail = "";
  private failure: VideoError | undefined;
  /** Set by close() before finish() starts (which reads it), unlike `closing`. */
  private closeRequested = false;
  private closing: Promise<RecorderStats> | undefined;

  constructor(
    readonly path: string,
    private readonly encoderOptions: Omit<EncoderOptions, "slots">,
    private readonly script: string,
    private readonly onSizeMismatch: "scale" | "error",
    private readonly queueLimit: number,
    private readonly whenFull: "wait" | "drop",
    reserved: ChildProcess,
    private readonly frameMemory: FrameMemory | undefined,
  ) {
    this.reserved = reserved;
  }

  async write(frame: Frame, release?: () => void): Promise<void> {
    if (this.closeRequested) throw new VideoError("CLOSED", `recorder for ${this.path} is closed`);
    this.throwFailure();
    assertFrame(frame); // now, where the caller sees the error
    if (frame.width > MAX_RECORDED_SIDE || frame.height > MAX_RECORDED_SIDE) {
      throw new VideoError(
        "INVALID_FRAME",
        `cannot record a ${frame.width}x${frame.height} frame: at most ${MAX_RECORDED_SIDE} pixels a side`,
      );
    }
    if (this.width === undefined || this.height === undefined) {
      this.width = frame.width;
      this.height = frame.height;
    } else if ((frame.width !== this.width || frame.height !== this.height) && this.onSizeMismatch === "error") {
      throw new VideoError(
        "FRAME_SIZE_MISMATCH",
        `recording ${this.path} is ${this.width}x${this.height}; refused a ${frame.width}x${frame.height} frame`,
      );
    }
    // Behind waiting writes too, so frames reach the encoder in call order.
    if (this.inFlight.length < this.queueLimit && this.waiting.length === 0) return this.send(frame, release);
    if (this.whenFull === "drop") {
      this.framesDropped++;
      release?.();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.waiting.push({ frame, release, resolve, reject });
      this.keepProcessAlive();
    });
  }

  private throwFailure(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  get framesQueued(): number {
    return this.inFlight.length + this.waiting.length;
  }

  get bytesQueued(): number {
    return this.waiting.reduce((sum, write) => sum + write.frame.bytes.byteLength, this.inFlightBytes);
  }

  flush(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    // The encoder holds `written` back (ACKNOWLEDGE_MS): asked, it says it as soon as the frames before are encoded.
    this.askAcknowledge();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  /** While someone waits in `flush`: an acknowledge record after the frames sent so far. */
  private askAcknowledge(): void {
    if (this.encoder === undefined || this.encoderExited || this.closeSent || this.inFlight.length === 0) return;
    (this.encoder.stdin as Socket).write(acknowledgeRecord());
  }

  private idle(): boolean {
    return this.inFlight.length === 0 && this.waiting.length === 0;
  }

  private send(frame: Frame, release: (() => void) | undefined): void {
    const stdin = (this.encoder ?? this.startEncoder(frame.bytes.byteLength)).stdin as Socket;
    const { byteLength } = frame.bytes;
    this.inFlightBytes += byteLength;
    // In the frame memory, the frame's bytes are the encoder's to read until it says `written`: released then.
    const lent = this.lending?.slotOf(frame.bytes);
    // Copied into a slot, the frame's bytes are free at once; the slot is free again once the encoder says `written`.
    const slot = lent === undefined ? this.slots?.put(frame.bytes) : undefined;
    this.inFlight.push({
      sequence: frame.sequence,
      byteLength,
      slot,
      release: lent === undefined ? undefined : release,
    });
    if (lent !== undefined) {
      stdin.write(lentRecord(frame.width, frame.height, lent));
    } else if (slot !== undefined) {
      stdin.write(slotRecord(frame.width, frame.height, slot));
      release?.();
    } else {
      // The stream keeps a reference to the bytes until the kernel has them: no copy here.
      stdin.cork();
      stdin.write(frameRecordHeader(frame.width, frame.height));
      // Called once the kernel has the bytes (or with an error once the encoder is gone): not referenced after.
      stdin.write(frame.bytes, release === undefined ? undefined : () => release());
      stdin.uncork();
    }
    // A frame sent while a flush waits (one that was waiting for room) is acknowledged at once too.
    if (this.flushWaiters.length > 0) this.askAcknowledge();
    this.keepProcessAlive();
  }

  private startEncoder(firstFrameBytes: number): ChildProcess {
    const reserved = this.reserved;
    this.reserved = undefined;
    const alive = reserved !== undefined && reserved.exitCode === null && reserved.signalCode === null;
    if (!alive) reserved?.kill("SIGKILL");
    const encoder = alive && reserved.connected ? reserved : takeEncoder(this.script, this.frameMemory?.fd);
    this.encoder = encoder;
    // EPIPE once the encoder is gone: reported by "close" below, with how it ended.
    encoder.stdin?.on("error", () => undefined);
    encoder.stderr?.setEncoding("utf8");
    encoder.stderr?.on("data", (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_CHARS);
    });
    onEncoderEvents(encoder, (message) => this.onEvent(message));
    this.encoderGone = new Promise((resolve) => {
      const gone = (how: string, cleanly: boolean): void => {
        this.onEncoderGone(how, cleanly);
        resolve();
      };
      // "close" comes after the exit and after every message and stderr line was read.
      encoder.on("close", (code, signal) =>
        gone(code === null ? `was killed by ${signal}` : `exited with code ${code}`, code === 0),
      );
      // The process could not be started (then "close" may not follow).
      encoder.on("error", (error) => {
        if (encoder.pid === undefined) gone(`could not start: ${error.message}`, false);
      });
    });
    const memory = slotMemoryOf(encoder);
    this.slots = memory === undefined ? undefined : FrameSlots.open(memory, firstFrameBytes, this.queueLimit);
    const slots = this.slots?.layout ?? null;
    // The frame memory is lent only to an encoder that has it: a spare started without it has not.
    const frames =
      this.frameMemory !== undefined && frameMemoryOf(encoder) === this.frameMemory.fd
        ? this.frameMemory.reserve(firstFrameBytes)
        : undefined;
    if (frames !== undefined) this.lending = this.frameMemory;
    // A quarter of the slots at most are encoded and not yet told: a frame sent while every slot is taken goes on
    // stdin, dearer. A recording at 320 fps has a queue of 640 frames (acknowledgeEvery 160) and 34 slots of
    // 640x480: without this bound it was the `ACKNOWLEDGE_MS` timer that freed them (docs/benchmarks/receiver.md).
    const acknowledgeEvery =
      slots === null
        ? this.encoderOptions.acknowledgeEvery
        : Math.max(1, Math.min(this.encoderOptions.acknowledgeEvery, Math.floor(slots.count / 4)));
    (encoder.stdin as Socket).write(
      startRecord({ ...this.encoderOptions, acknowledgeEvery, slots, frames: frames ?? null }),
    );
    return encoder;
  }

  private onEvent(event: EncoderMessage): void {
    if (event instanceof Error) {
      this.fail(
        new VideoError("WRITE_FAILED", `the encoder for ${this.path} answered nonsense: ${event.message}`, {
          cause: event,
        }),
      );
      this.encoder?.kill("SIGKILL");
      return;
    }
    switch (event.event) {
      case "file":
        this.files.push(event.segment === null ? this.path : segmentPath(this.path, event.segment));
        break;
      case "written":
        if (this.failure !== undefined) break;
        for (const frame of this.inFlight.splice(0, event.frames)) {
          this.inFlightBytes -= frame.byteLength;
          if (frame.slot !== undefined) this.slots?.free(frame.slot);
          frame.release?.();
        }
        this.framesWritten += event.frames;
        this.framesScaled += event.scaled;
        this.admitWaiting();
        break;
      case "failed":
        this.fail(
          event.code === null
            ? new VideoError(
                "WRITE_FAILED",
                `writing frame ${this.inFlight[0]?.sequence ?? "?"} to ${this.path} failed: ${event.message}`,
              )
            : new VideoError(event.code, event.message),
        );
        break;
      case "closed":
        this.closedByEncoder = true;
        break;
    }
    this.settle();
  }

  /** Sends waiting writes while there is room; the close record after the last of them. */
  private admitWaiting(): void {
    while (this.failure === undefined && this.inFlight.length < this.queueLimit) {
      const next = this.waiting.shift();
      if (next === undefined) break;
      this.send(next.frame, next.release);
      next.resolve();
    }
    if (this.closeRequested && this.waiting.length === 0) this.sendClose();
  }

  private sendClose(): void {
    if (this.closeSent || this.encoder === undefined || this.encoderExited) return;
    this.closeSent = true;
    (this.encoder.stdin as Socket).end(closeRecord());
  }

  /** Records the first failure; what was queued will not be written. */
  private fail(error: VideoError): void {
    this.failure ??= error;
    // Lent frames are not read any more: nothing will be encoded after a failure.
    for (const frame of this.inFlight.splice(0)) frame.release?.();
    this.slots?.freeAll();
    this.inFlightBytes = 0;
    for (const write of this.waiting.splice(0)) write.reject(this.failure);
    if (this.closeRequested) this.sendClose();
    this.settle();
  }

  private onEncoderGone(how: string, exitedCleanly: boolean): void {
    if (this.encoderExited) return;
    this.encoderExited = true;
    if (!(exitedCleanly && this.closedByEncoder)) {
      const lost = this.inFlight.length + this.waiting.length;
      const said = this.stderrTail.trim().split("\n").pop();
      this.fail(
        new VideoError(
          "WRITE_FAILED",
          `the encoder process for ${this.path} ${how}${said === undefined || said === "" ? "" : ` (${said})`}` +
            (lost > 0 ? `; ${lost} queued frame${lost === 1 ? " was" : "s were"} not written` : ""),
        ),
      );
    }
    this.settle();
  }

  /** Wakes flush() callers once nothing is queued, and lets the process exit when the encoder is idle. */
  private settle(): void {
    if (this.idle()) for (const wake of this.flushWaiters.splice(0)) wake();
    this.keepProcessAlive();
  }

  /**
   * The encoder's handles keep the caller's process alive only while there is work:
   * frames queued or waiting, or a close under way. An idle recorder never closed
   * lets the process exit, as before the encoder was a process (its file is then left
   * as FFmpeg last flushed it).
   */
  private keepProcessAlive(): void {
    const encoder = this.encoder;
    if (encoder === undefined || this.encoderExited) return;
    const busy = !this.idle() || this.closeRequested;
    for (const handle of encoderHandles(encoder)) {
      if (busy) handle?.ref();
      else handle?.unref();
    }
  }

  close(): Promise<RecorderStats> {
    if (this.closing === undefined) {
      this.closeRequested = true;
      this.closing = this.finish();
    }
    return this.closing;
  }

  private async finish(): Promise<RecorderStats> {
    if (this.reserved !== undefined) retireEncoder(this.reserved); // no frame came
    this.reserved = undefined;
    // Waiting writes go first; admitWaiting() sends the close record after the last of them.
    if (this.waiting.length === 0 || this.failure !== undefined) this.sendClose();
    this.keepProcessAlive();
    await this.encoderGone;
    this.throwFailure();
    return {
      framesWritten: this.framesWritten,
      framesDropped: this.framesDropped,
      framesScaled: this.framesScaled,
      files: [...this.files],
    };
  }
}

/**
 * Opens a recording at `path` (`.avi`, `.mkv`, `.mp4` or `.mov`). The size is the
 * first frame's. Throws `VideoError` `CODEC_UNSUPPORTED`, `CODEC_UNAVAILABLE`,
 * `OUTPUT_NOT_WRITABLE` or `INVALID_OPTION` now rather than at the first frame, and
 * `WRITE_FAILED` if the package's encoder script is missing (a broken build). The
 * codec is probed in the encoder process that will record (`prepareEncoding`), which
 * waits, OpenCV loaded, for the first frame.
 */
export async function openRecorder(path: string, options: RecorderOptions = {}): Promise<Recorder> {
  const fourcc = options.fourcc ?? DEFAULT_FOURCC;
  const fps = options.fps ?? 25;
  if (!Number.isFinite(fps) || fps <= 0 || fps > 1000)
    throw new VideoError("INVALID_OPTION", `fps must be above 0 and at most 1000, got ${fps}`);
  const queueLimit = options.queueLimit ?? 8;
  if (!Number.isInteger(queueLimit) || queueLimit < 1)
    throw new VideoError("INVALID_OPTION", `queueLimit must be an integer >= 1, got ${queueLimit}`);
  const perSegment = framesPerSegment(options.segmentSeconds, fps);
  const frameMemory = options.frameMemory;
  const { script, encoder } = await prepareEncoding(path, fourcc, fps, options.probe ?? true, frameMemory?.fd);
  // Absolute for the encoder, whose working folder is the one this process had when it started.
  return new VideoRecorder(
    path,
    {
      path: resolve(path),
      fourcc,
      fps,
      framesPerSegment: perSegment,
      // A quarter of the queue at most is frames encoded and not yet told: a queue of 1-7 frames hears of each.
      acknowledgeEvery: Math.max(1, Math.floor(queueLimit / 4)),
    },
    script,
    options.onSizeMismatch ?? "scale",
    queueLimit,
    options.whenFull ?? "wait",
    encoder,
    frameMemory,
  );
}
