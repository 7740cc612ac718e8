import { extname } from "node:path";
import type { Logger } from "@udpcam/appkit";
import { openRecorder, type Frame, type Recorder } from "@udpcam/video";

export interface RecordingOptions {
  readonly path: string;
  readonly fourcc: string;
  readonly segmentSeconds: number;
  /** One file per stream (output-<stream id>.avi) instead of one file for all. */
  readonly perStream: boolean;
}

/** Frames the recorder may hold while it encodes, before new ones are dropped. */
const RECORDER_QUEUE_FRAMES = 32;

/**
 * The receiver's recordings: one file (or one per stream), each opened at its
 * stream's first frame with that stream's frame rate.
 */
export class Recordings {
  readonly #recorders = new Map<string, Promise<Recorder>>();
  #framesWritten = 0;
  #framesDropped = 0;
  readonly #files: string[] = [];

  constructor(
    private readonly options: RecordingOptions,
    private readonly logger: Logger,
  ) {}

  /** Fails now, with the recorder's clear error, if the codec or the path cannot work. */
  async check(): Promise<void> {
    const probe = await openRecorder(this.options.path, { fourcc: this.options.fourcc });
    await probe.close();
  }

  pathFor(streamId: number): string {
    if (!this.options.perStream) return this.options.path;
    const ext = extname(this.options.path);
    return `${this.options.path.slice(0, this.options.path.length - ext.length)}-${streamId.toString(16).padStart(8, "0")}${ext}`;
  }

  async write(streamId: number, frame: Frame, fps: number): Promise<void> {
    const path = this.pathFor(streamId);
    let recorder = this.#recorders.get(path);
    if (recorder === undefined) {
      recorder = openRecorder(path, {
        fourcc: this.options.fourcc,
        fps,
        queueLimit: RECORDER_QUEUE_FRAMES,
        whenFull: "drop",
        ...(this.options.segmentSeconds > 0 ? { segmentSeconds: this.options.segmentSeconds } : {}),
      });
      this.#recorders.set(path, recorder);
      this.logger.info({ path, fps }, `recording to ${path} at ${fps} fps`);
    }
    const opened = await recorder;
    await opened.write(frame);
  }

  /** Finalizes every file (also after errors) and returns the totals. */
  async close(): Promise<{ framesWritten: number; framesDropped: number; files: string[] }> {
    const results = await Promise.allSettled(
      [...this.#recorders.values()].map(async (pending) => (await pending).close()),
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
