/**
 * The recording: one file for the stream taken (or one per stream with
 * `--streams separate`), each opened at its stream's first frame with that
 * stream's rate. A JPEG stream recorded as it arrives is never decoded.
 * With one file per stream, a stream whose place another takes (delivery's
 * stream gate, `--max-streams`) has its file finished before the newcomer's
 * opens, so no more files are open than streams are taken.
 * An RTP stream carries no rate: its first frames are held until their timestamps
 * say it, then its file opens at that rate and they are written in order
 * (recording-hold.ts).
 */
import { UserError, type Logger } from "@udpcam/appkit";
import type { FrameEvent } from "@udpcam/protocol";
import {
  AUTO_FOURCC,
  chooseFourcc,
  openRecording,
  recordingStoresJpeg,
  streamRecordingPath,
  VideoError,
  type FrameMemory,
  type Recording,
  type RecordInput,
} from "@udpcam/video";
import { RateHolds, type Opening } from "./recording-hold.js";
import type { DeliveredFrame, Sink } from "./sink.js";

/** Streams whose recorded frames are counted at once (more than the stream caps let be live). */
const MAX_STREAMS_COUNTED = 64;

export interface RecordingSinkOptions {
  readonly path: string;
  /** A FourCC, or `auto`: chosen per stream from its codec (`chooseFourcc`). */
  readonly fourcc: string;
  readonly segmentSeconds: number;
  /** One file per stream (output-<stream id>.avi) instead of one file for all. */
  readonly perStream: boolean;
  /** Lent to the recordings' encoders: raw frames the ingest completed in it are recorded with no copy. */
  readonly frameMemory?: FrameMemory;
}

export interface RecordingTotals {
  readonly framesWritten: number;
  /** Frames the recordings' own queues dropped: encoding could not keep up. */
  readonly framesDropped: number;
  readonly files: readonly string[];
}

export class RecordingSink implements Sink {
  readonly name = "recording";
  /** A frame's pixels are held (`frame.hold()`) until the recording has handed them to its encoder. */
  readonly releasesFrames = true;
  readonly #recordings = new Map<string, Promise<Recording>>();
  /** The recordings opened so far, by path: a frame for one goes to it without waiting on a promise. */
  readonly #opened = new Map<string, Recording>();
  /** Per stream (one file each): the path its frames go to now, and how many files it has had. */
  readonly #streamPaths = new Map<number, string>();
  readonly #streamParts = new Map<number, number>();
  /** Streams whose place was taken: their files are finished before the next frame is written. */
  readonly #toFinish: number[] = [];
  /** Per stream: frames the recording took (queued or written, not dropped by its queue). The newest streams only. */
  readonly #recordedByStream = new Map<number, number>();
  /** What the recordings finished so far held (every one, once closed). */
  #finished: RecordingTotals = { framesWritten: 0, framesDropped: 0, files: [] };
  /** Per path: frames held until the file's rate is known (RTP). */
  readonly #holds: RateHolds;
  /** Deliveries and the hold timer's flushes, one at a time: the last one started (it may reject: its caller hears). */
  #serial: Promise<void> = Promise.resolve();
  /** Deliveries and flushes not settled yet: with none, the next starts at once. */
  #running = 0;
  /** A flush the timer ran failed: thrown at the next delivery (the app stops, as for a failed write). */
  #timerFailure: { error: unknown } | undefined;

  constructor(
    private readonly options: RecordingSinkOptions,
    private readonly logger: Logger,
  ) {
    this.#holds = new RateHolds((path) => void this.#flushOnTimer(path), logger);
  }

  accepts(): boolean {
    return true;
  }

  /** Frames written so far (queued ones count once written). */
  get framesWritten(): number {
    return this.#sum("framesWritten");
  }

  /** Frames the recordings' queues dropped so far: encoding could not keep up. */
  get framesDropped(): number {
    return this.#sum("framesDropped");
  }

  #sum(counter: "framesWritten" | "framesDropped"): number {
    let sum = this.#finished[counter];
    for (const recording of this.#opened.values()) sum += recording[counter];
    return sum;
  }

  /** Files open now. */
  get filesOpen(): number {
    return this.#recordings.size;
  }

  /** Frames each stream had taken by the recording (queued for its file or written), for /api/streams. */
  get framesRecordedByStream(): ReadonlyMap<number, number> {
    return this.#recordedByStream;
  }

  streamStarted(_streamId: number, replaces: number | undefined): void {
    if (this.options.perStream && replaces !== undefined) this.#toFinish.push(replaces);
    if (replaces !== undefined) this.#recordedByStream.delete(replaces);
  }

  /** What every recording held, once `close` is done. */
  get totals(): RecordingTotals {
    return this.#finished;
  }

  /** Frames held until their file's rate is known: the sink queue counts them against its bounds. */
  get heldFrames(): { readonly frames: number; readonly bytes: number } {
    return this.#holds.held;
  }

  deliver(frame: DeliveredFrame): Promise<void> {
    return this.#exclusive(() => this.#deliver(frame));
  }

  async #deliver(frame: DeliveredFrame): Promise<void> {
    if (this.#timerFailure !== undefined) throw this.#timerFailure.error;
    // Frames are delivered one at a time, in order: every frame of a replaced stream is written by now.
    for (const streamId of this.#toFinish.splice(0)) await this.#finish(streamId);
    const path = this.#pathFor(frame.event);
    const held = this.#holds.offer(path, frame, this.#recordings.has(path));
    if (held === undefined) return this.#write(path, frame, frame.hold(), frame.fps);
    if (held !== "held") await this.#writeHeld(path, held);
  }

  /** Runs `work` after every delivery and flush before it. */
  #exclusive(work: () => Promise<void>): Promise<void> {
    const counted = (): Promise<void> => {
      const run = work();
      const done = (): void => void this.#running--;
      run.then(done, done);
      return run;
    };
    const run = ++this.#running === 1 ? counted() : this.#serial.then(counted, counted);
    this.#serial = run;
    return run;
  }

  #flushOnTimer(path: string): Promise<void> {
    return this.#exclusive(() => this.#flush(path)).catch((error: unknown) => {
      this.logger.error({ err: error, path }, `opening ${path} for its held frames failed: ${String(error)}`);
      this.#timerFailure ??= { error };
    });
  }

  /** Opens the file of `path` if its frames are still held, at the rate known by now. */
  async #flush(path: string): Promise<void> {
    const held = this.#holds.settle(path);
    if (held !== undefined) await this.#writeHeld(path, held);
  }

  /** Writes a file's held frames at their rate, in the order they came (which opens the file). */
  async #writeHeld(path: string, { frames, fps, note }: Opening): Promise<void> {
    // Each frame's hold is #write's to release once handed to it; those after a failed write are released here.
    let handed = 0;
    try {
      for (const { frame, release } of frames) {
        handed++;
        await this.#write(path, frame, release, fps, handed === 1 ? note : "");
      }
    } finally {
      for (const { release } of frames.slice(handed)) release();
    }
  }

  async #write(path: string, frame: DeliveredFrame, release: () => void, fps: number, note = ""): Promise<void> {
    // A raw frame handed to the recording is released by it, once its encoder has the pixels.
    let releasedByRecording = false;
    try {
      const recording = this.#opened.get(path) ?? (await this.#recordingFor(path, frame, fps, note));
      const input =
        recording.storesJpeg && frame.event.codec === "jpeg" ? jpegInput(frame) : await this.#pixels(frame, release);
      releasedByRecording = input.kind === "pixels" && input.release !== undefined;
      // Frames come one at a time: a drop counted during this write is this frame's.
      const dropped = recording.framesDropped;
      await recording.write(input);
      if (recording.framesDropped === dropped) this.#recorded(frame.event.streamId);
    } catch (error) {
      // The codec cannot be written here (with auto, checked at the first stream that needs it).
      if (VideoError.isInstance(error) && error.code === "CODEC_UNAVAILABLE")
        throw new UserError(
          `--fourcc${this.options.fourcc === AUTO_FOURCC ? " auto" : ""}: ${error.message}; name a codec this system can write with --fourcc (MJPG into .avi needs no FFmpeg)`,
          { cause: error },
        );
      throw error;
    } finally {
      if (!releasedByRecording) release();
    }
  }

  async close(): Promise<void> {
    await this.#serial.catch(() => undefined);
    for (const path of this.#holds.paths) {
      try {
        await this.#flush(path);
      } catch (error) {
        this.logger.error({ err: error, path }, `writing the held frames of ${path} failed: ${String(error)}`);
      }
    }
    const results = await Promise.allSettled(
      [...this.#recordings.values()].map(async (recording) => (await recording).close()),
    );
    this.#recordings.clear();
    this.#opened.clear();
    this.#finished = this.#add(this.#finished, results);
  }

  #recorded(streamId: number): void {
    const count = this.#recordedByStream.get(streamId);
    if (count !== undefined) {
      this.#recordedByStream.set(streamId, count + 1);
      return;
    }
    // Streams that went without their place being taken (--streams separate) are forgotten, oldest first.
    if (this.#recordedByStream.size >= MAX_STREAMS_COUNTED)
      this.#recordedByStream.delete(this.#recordedByStream.keys().next().value ?? streamId);
    this.#recordedByStream.set(streamId, 1);
  }

  /** Finishes the file of a stream whose place was taken (a failure is logged: the other streams go on). */
  async #finish(streamId: number): Promise<void> {
    const path = this.#streamPaths.get(streamId);
    if (path !== undefined) await this.#flush(path);
    const recording = path === undefined ? undefined : this.#recordings.get(path);
    if (path === undefined || recording === undefined) return;
    this.#streamPaths.delete(streamId);
    this.#recordings.delete(path);
    const [result] = await Promise.allSettled([
      recording.then(async (opened) => {
        this.#opened.delete(path);
        return opened.close();
      }),
    ]);
    this.#finished = this.#add(this.#finished, [result]);
    this.logger.info({ path, streamId }, `stream went silent and its place was taken: finished ${path}`);
  }

  #add(base: RecordingTotals, results: readonly PromiseSettledResult<RecordingTotals>[]): RecordingTotals {
    let { framesWritten, framesDropped } = base;
    const files = [...base.files];
    for (const result of results) {
      if (result.status === "rejected") {
        this.logger.error({ err: result.reason }, `finishing a recording failed: ${String(result.reason)}`);
        continue;
      }
      framesWritten += result.value.framesWritten;
      framesDropped += result.value.framesDropped;
      files.push(...result.value.files);
    }
    return { framesWritten, framesDropped, files };
  }

  /** A frame to encode: a raw frame's pixels are its payload, which the recording releases; a decoded JPEG's are a copy. */
  #pixels(frame: DeliveredFrame, release: () => void): Promise<RecordInput> {
    const { event } = frame;
    return frame.pixels().then((pixels) => ({
      kind: "pixels",
      frame: pixels,
      ...(event.codec === "raw-bgr24" ? { release } : {}),
    }));
  }

  #recordingFor(path: string, frame: DeliveredFrame, fps: number, note: string): Promise<Recording> {
    let recording = this.#recordings.get(path);
    if (recording === undefined) {
      const { segmentSeconds } = this.options;
      const fourcc = chooseFourcc(path, this.options.fourcc, frame.event.codec);
      const how = recordingStoresJpeg({ path, fourcc }) ? `${fourcc}, JPEG frames stored as they arrive` : fourcc;
      const chosen = this.options.fourcc === AUTO_FOURCC ? ", chosen by --fourcc auto" : "";
      // The app ran checkRecording at startup: no second probe, and no wait for the encoder process.
      const { frameMemory } = this.options;
      recording = openRecording({ path, fourcc, fps, segmentSeconds, checked: true, frameMemory }).then((opened) => {
        this.#opened.set(path, opened);
        return opened;
      });
      this.#recordings.set(path, recording);
      this.logger.info({ path, fps, fourcc }, `recording to ${path} at ${formatFps(fps)} fps (${how}${chosen}${note})`);
    }
    return recording;
  }

  #pathFor(event: FrameEvent): string {
    if (!this.options.perStream) return this.options.path;
    const { streamId } = event;
    let path = this.#streamPaths.get(streamId);
    if (path === undefined) {
      const part = this.#streamParts.get(streamId) ?? 0;
      path = streamRecordingPath(this.options.path, streamId, part);
      this.#streamParts.set(streamId, part + 1);
      this.#streamPaths.set(streamId, path);
    }
    return path;
  }
}

/** A JPEG stored as it arrives. */
function jpegInput({ event, captureTime }: DeliveredFrame): RecordInput {
  return {
    kind: "jpeg",
    bytes: event.payload,
    width: event.width,
    height: event.height,
    sequence: event.frameNumber,
    captureTime,
  };
}

/** 30, 12.5, 29.97 (for 30000/1001). */
function formatFps(fps: number): string {
  return String(Math.round(fps * 1000) / 1000);
}
