/**
 * The recording: one file for the stream taken (or one per stream with
 * `--streams separate`), each opened at its stream's first frame with that
 * stream's rate. A JPEG stream recorded as it arrives is never decoded.
 */
import type { Logger } from "@udpcam/appkit";
import type { FrameEvent } from "@udpcam/protocol";
import {
  AUTO_FOURCC,
  chooseFourcc,
  openRecording,
  recordingStoresJpeg,
  streamRecordingPath,
  type Recording,
  type RecordInput,
} from "@udpcam/video";
import type { DeliveredFrame, Sink } from "./sink.js";

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
  readonly #recordings = new Map<string, Promise<Recording>>();
  readonly #opened: Recording[] = [];
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
    return this.#opened.reduce((sum, recording) => sum + recording.framesWritten, this.#totals.framesWritten);
  }

  get totals(): RecordingTotals {
    return this.#totals;
  }

  async deliver(frame: DeliveredFrame): Promise<void> {
    const recording = await this.#recordingFor(frame);
    await recording.write(await this.#input(frame, recording));
  }

  async close(): Promise<void> {
    const results = await Promise.allSettled(
      [...this.#recordings.values()].map(async (recording) => (await recording).close()),
    );
    this.#recordings.clear();
    this.#opened.length = 0;
    let framesWritten = 0;
    let framesDropped = 0;
    const files: string[] = [];
    for (const result of results) {
      if (result.status === "rejected") {
        this.logger.error({ err: result.reason }, `finishing a recording failed: ${String(result.reason)}`);
        continue;
      }
      framesWritten += result.value.framesWritten;
      framesDropped += result.value.framesDropped;
      files.push(...result.value.files);
    }
    this.#totals = { framesWritten, framesDropped, files };
  }

  #input(frame: DeliveredFrame, recording: Recording): Promise<RecordInput> | RecordInput {
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
    return frame.pixels().then((pixels) => ({ kind: "pixels", frame: pixels }));
  }

  #recordingFor(frame: DeliveredFrame): Promise<Recording> {
    const path = this.#pathFor(frame.event);
    let recording = this.#recordings.get(path);
    if (recording === undefined) {
      const { segmentSeconds } = this.options;
      const fourcc = chooseFourcc(path, this.options.fourcc, frame.event.codec);
      const how = recordingStoresJpeg({ path, fourcc }) ? `${fourcc}, JPEG frames stored as they arrive` : fourcc;
      const chosen = this.options.fourcc === AUTO_FOURCC ? ", chosen by --fourcc auto" : "";
      recording = openRecording({ path, fourcc, fps: frame.fps, segmentSeconds }).then((opened) => {
        this.#opened.push(opened);
        return opened;
      });
      this.#recordings.set(path, recording);
      this.logger.info({ path, fps: frame.fps, fourcc }, `recording to ${path} at ${frame.fps} fps (${how}${chosen})`);
    }
    return recording;
  }

  #pathFor(event: FrameEvent): string {
    return this.options.perStream ? streamRecordingPath(this.options.path, event.streamId) : this.options.path;
  }
}
