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
  #framesWritten = 0;
  readonly #files: string[] = [];

  constructor(
    private readonly path: string,
    private readonly options: MjpegSegmentsOptions,
  ) {}

  get framesWritten(): number {
    return this.#framesWritten;
  }

  /** Appends one JPEG of the recording's size; see `MjpegAviWriter.writeJpeg` for its errors. */
  async write(jpeg: Uint8Array): Promise<void> {
    const file = segmentFile(this.path, this.options.framesPerSegment, this.#framesWritten);
    if (this.#writer === undefined || file.segment !== this.#segment) {
      await this.#finishFile();
      const { width, height, fps } = this.options;
      this.#writer = await openMjpegAviWriter(file.path, { width, height, fps });
      this.#segment = file.segment;
    }
    await this.#writer.writeJpeg(jpeg);
    this.#framesWritten++;
  }

  /** Finishes the open file; rethrows its failure after closing it. */
  async close(): Promise<{ framesWritten: number; files: string[] }> {
    await this.#finishFile();
    return { framesWritten: this.#framesWritten, files: [...this.#files] };
  }

  async #finishFile(): Promise<void> {
    const writer = this.#writer;
    if (writer === undefined) return;
    this.#writer = undefined;
    try {
      await writer.close();
    } finally {
      this.#files.push(...writer.files);
    }
  }
}
