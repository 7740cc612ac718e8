/**
 * JPEG frames stored as they arrive (MJPG in AVI, `mjpeg-avi.ts`), in one file or in
 * segments (`segments.ts`): each file is opened at its first frame and finished
 * when the next one starts. Writes must not overlap (the recording chains them).
 */
import { openMjpegAviWriter, type MjpegAviWriter } from "./mjpeg-avi.js";
import { segmentFile } from "./segments.js";

export interface MjpegSegmentsOptions {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Frames per file; `null`: one file (which still rolls over at 1 GiB). */
  readonly framesPerSegment: number | null;
}

export class MjpegSegments {
  #writer: MjpegAviWriter | undefined;
  #segment: number | null = null;
  /** Frames the files finished so far hold. */
  #framesFinished = 0;
  /** The open file's last frame, for its segment: past it the next file starts. */
  #segmentEnds = 0;
  readonly #files: string[] = [];

  constructor(
    private readonly path: string,
    private readonly options: MjpegSegmentsOptions,
  ) {}

  get framesWritten(): number {
    return this.#framesFinished + (this.#writer?.framesWritten ?? 0);
  }

  /** Appends one JPEG of the recording's size; see `MjpegAviWriter.writeJpeg` for its errors. */
  write(jpeg: Uint8Array): Promise<void> {
    // Within the open file's segment: straight to its writer, no promise of its own.
    if (this.#writer !== undefined && this.framesWritten < this.#segmentEnds) return this.#writer.writeJpeg(jpeg);
    return this.#writeToNext(jpeg);
  }

  async #writeToNext(jpeg: Uint8Array): Promise<void> {
    const { framesPerSegment } = this.options;
    const frames = this.framesWritten;
    const file = segmentFile(this.path, framesPerSegment, frames);
    if (this.#writer === undefined || file.segment !== this.#segment) {
      await this.#finishFile();
      const { width, height, fps } = this.options;
      this.#writer = await openMjpegAviWriter(file.path, { width, height, fps });
      this.#segment = file.segment;
    }
    // The first frame of the next segment (one file: never).
    this.#segmentEnds =
      framesPerSegment === null
        ? Number.POSITIVE_INFINITY
        : (Math.floor(frames / framesPerSegment) + 1) * framesPerSegment;
    await this.#writer.writeJpeg(jpeg);
  }

  /** Finishes the open file; rethrows its failure after closing it. */
  async close(): Promise<{ framesWritten: number; files: string[] }> {
    await this.#finishFile();
    return { framesWritten: this.#framesFinished, files: [...this.#files] };
  }

  async #finishFile(): Promise<void> {
    const writer = this.#writer;
    if (writer === undefined) return;
    this.#writer = undefined;
    try {
      await writer.close();
    } finally {
      this.#framesFinished += writer.framesWritten;
      this.#files.push(...writer.files);
    }
  }
}
