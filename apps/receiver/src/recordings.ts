import { unlink } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import type { Logger } from "@udpcam/appkit";
import { openMjpegAviWriter, openRecorder, type Recorder } from "@udpcam/video";
import { MjpegRecording, storesJpegAsIs, type RecordedFrame } from "./mjpeg-recording.js";

export interface RecordingOptions {
  readonly path: string;
  readonly fourcc: string;
  readonly segmentSeconds: number;
  /** One file per stream (output-<stream id>.avi) instead of one file for all. */
  readonly perStream: boolean;
}

/**
 * Frames the recorder may hold while it encodes, before new ones are dropped: half a second
 * of the stream (the encoder shares the CPU and falls behind for moments), at least 32 frames,
 * at most 128 MB of pixels.
 */
const RECORDER_QUEUE_SECONDS = 0.5;
const RECORDER_QUEUE_MIN_FRAMES = 32;
const RECORDER_QUEUE_MAX_BYTES = 128 << 20;

export function recorderQueueFrames(fps: number, frameBytes: number): number {
  const wanted = Math.max(RECORDER_QUEUE_MIN_FRAMES, Math.ceil(fps * RECORDER_QUEUE_SECONDS));
  return Math.max(1, Math.min(wanted, Math.floor(RECORDER_QUEUE_MAX_BYTES / frameBytes)));
}

/** Either OpenCV's encoder, or JPEG frames stored as they are (`--fourcc MJPG`, `.avi`). */
type FileRecording = { readonly kind: "opencv"; readonly recorder: Promise<Recorder> } | { readonly kind: "mjpeg"; readonly recording: MjpegRecording };

/**
 * The receiver's recordings: one file (or one per stream), each opened at its
 * stream's first frame with that stream's frame rate.
 */
export class Recordings {
  readonly #recorders = new Map<string, FileRecording>();
  #framesWritten = 0;
  #framesDropped = 0;
  readonly #files: string[] = [];

  constructor(
    private readonly options: RecordingOptions,
    private readonly logger: Logger,
  ) {}

  /** JPEG frames go into the file as they arrived, with no decode: give them as `{ kind: "jpeg" }`. */
  get storesJpegAsIs(): boolean {
    return storesJpegAsIs(this.options.path, this.options.fourcc);
  }

  /** Fails now, with the recorder's clear error, if the codec or the path cannot work. */
  async check(): Promise<void> {
    if (this.storesJpegAsIs) {
      const probePath = join(dirname(this.options.path), `.${basename(this.options.path, extname(this.options.path))}.probe-${process.pid}.avi`);
      const probe = await openMjpegAviWriter(probePath, { width: 16, height: 16, fps: 25 });
      await probe.close();
      await unlink(probePath).catch(() => undefined);
      return;
    }
    const probe = await openRecorder(this.options.path, { fourcc: this.options.fourcc });
    await probe.close();
  }

  pathFor(streamId: number): string {
    if (!this.options.perStream) return this.options.path;
    const ext = extname(this.options.path);
    return `${this.options.path.slice(0, this.options.path.length - ext.length)}-${streamId.toString(16).padStart(8, "0")}${ext}`;
  }

  async write(streamId: number, item: RecordedFrame, fps: number): Promise<void> {
    const path = this.pathFor(streamId);
    let file = this.#recorders.get(path);
    if (file === undefined) {
      file = this.storesJpegAsIs
        ? { kind: "mjpeg", recording: new MjpegRecording(path, fps, this.options.segmentSeconds) }
        : {
            kind: "opencv",
            recorder: openRecorder(path, {
              fourcc: this.options.fourcc,
              fps,
              queueLimit: recorderQueueFrames(fps, item.kind === "pixels" ? item.frame.bytes.length : item.width * item.height * 3),
              whenFull: "drop",
              ...(this.options.segmentSeconds > 0 ? { segmentSeconds: this.options.segmentSeconds } : {}),
            }),
          };
      this.#recorders.set(path, file);
      this.logger.info({ path, fps }, `recording to ${path} at ${fps} fps${file.kind === "mjpeg" ? " (JPEG frames stored as they arrive)" : ""}`);
    }
    if (file.kind === "mjpeg") {
      await file.recording.write(item);
      return;
    }
    if (item.kind !== "pixels") throw new Error("Recordings.write: this recording encodes pixels; decode the JPEG first");
    await (await file.recorder).write(item.frame);
  }

  /** Finalizes every file (also after errors) and returns the totals. */
  async close(): Promise<{ framesWritten: number; framesDropped: number; files: string[] }> {
    const results = await Promise.allSettled(
      [...this.#recorders.values()].map(async (file) =>
        file.kind === "mjpeg" ? { framesDropped: 0, ...(await file.recording.close()) } : (await file.recorder).close(),
      ),
    );
    this.#recorders.clear();
    for (const result of results) {
      if (result.status === "fulfilled") {
        this.#framesWritten += result.value.framesWritten;
        this.#framesDropped += result.value.framesDropped;
        this.#files.push(...result.value.files);
      } else {
        this.logger.error(`finishing a recording failed: ${String(result.reason)}`);
      }
    }
    return { framesWritten: this.#framesWritten, framesDropped: this.#framesDropped, files: [...this.#files] };
  }
}
