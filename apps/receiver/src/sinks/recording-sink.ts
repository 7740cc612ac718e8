/**
 * The recording: one file for the stream taken (or one per stream with
 * `--streams separate`), each opened at its stream's first frame with that
 * stream's rate. A JPEG stream recorded as it arrives is never decoded.
 * With one file per stream, a stream whose place another takes (delivery's
 * stream gate, `--max-streams`) has its file finished before the newcomer's
 * opens, so no more files are open than streams are taken.
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
  type Recording,
  type RecordInput,
} from "@udpcam/video";
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
  readonly #opened: Recording[] = [];
  /** Per stream (one file each): the path its frames go to now, and how many files it has had. */
  readonly #streamPaths = new Map<number, string>();
  readonly #streamParts = new Map<number, number>();
  /** Streams whose place was taken: their files are finished before the next frame is written. */
  readonly #toFinish: number[] = [];
  /** Per stream: frames the recording took (queued or written, not dropped by its queue). The newest streams only. */
  readonly #recordedByStream = new Map<number, number>();
  /** What the recordings finished so far held. */
  #finished: RecordingTotals = { framesWritten: 0, framesDropped: 0, files: [] };
  #totals: RecordingTotals = { framesWritten: 0, framesDropped: 0, files: [] };

  constructor(
    private readonly options: RecordingSinkOptions,
    private readonly logger: Logger,
  ) {}

  accepts(): boolean {
    return true;
  }

  /** Frames written so far (queued ones count once written). */
  get framesWritten(): number {
    return this.#opened.reduce(
      (sum, recording) => sum + recording.framesWritten,
      this.#totals.framesWritten + this.#finished.framesWritten,
    );
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

  get totals(): RecordingTotals {
    return this.#totals;
  }

  async deliver(frame: DeliveredFrame): Promise<void> {
    // Frames are delivered one at a time, in order: every frame of a replaced stream is written by now.
    for (const streamId of this.#toFinish.splice(0)) await this.#finish(streamId);
    const release = frame.hold();
    // A raw frame handed to the recording is released by it, once its encoder has the pixels.
    let releasedByRecording = false;
    try {
      const recording = await this.#recordingFor(frame);
      const input = await this.#input(frame, recording, release);
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
    const results = await Promise.allSettled(
      [...this.#recordings.values()].map(async (recording) => (await recording).close()),
    );
    this.#recordings.clear();
    this.#opened.length = 0;
    this.#totals = this.#add(this.#finished, results);
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
    const recording = path === undefined ? undefined : this.#recordings.get(path);
    if (path === undefined || recording === undefined) return;
    this.#streamPaths.delete(streamId);
    this.#recordings.delete(path);
    const [result] = await Promise.allSettled([
      recording.then(async (opened) => {
        this.#opened.splice(this.#opened.indexOf(opened), 1);
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

  #input(frame: DeliveredFrame, recording: Recording, release: () => void): Promise<RecordInput> | RecordInput {
    const { event } = frame;
    if (recording.storesJpeg && event.codec === "jpeg") {
      return {
        kind: "jpeg",
        bytes: event.payload,
        width: event.width,
        height: event.height,
        sequence: event.frameNumber,
        captureTime: frame.captureTime,
      };
    }
    // A raw frame's pixels are its payload: the recording releases them. A decoded JPEG's are a copy.
    return frame.pixels().then((pixels) => ({
      kind: "pixels",
      frame: pixels,
      ...(event.codec === "raw-bgr24" ? { release } : {}),
    }));
  }

  #recordingFor(frame: DeliveredFrame): Promise<Recording> {
    const path = this.#pathFor(frame.event);
    let recording = this.#recordings.get(path);
    if (recording === undefined) {
      const { segmentSeconds } = this.options;
      const fourcc = chooseFourcc(path, this.options.fourcc, frame.event.codec);
      const how = recordingStoresJpeg({ path, fourcc }) ? `${fourcc}, JPEG frames stored as they arrive` : fourcc;
      const chosen = this.options.fourcc === AUTO_FOURCC ? ", chosen by --fourcc auto" : "";
      // The app ran checkRecording at startup: no second probe, and no wait for the encoder process.
      recording = openRecording({ path, fourcc, fps: frame.fps, segmentSeconds, checked: true }).then((opened) => {
        this.#opened.push(opened);
        return opened;
      });
      this.#recordings.set(path, recording);
      this.logger.info({ path, fps: frame.fps, fourcc }, `recording to ${path} at ${frame.fps} fps (${how}${chosen})`);
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
