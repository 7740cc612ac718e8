/**
 * The synchronous OpenCV side of recording: opening a VideoWriter that really opened,
 * and `SegmentedWriter`, which writes frames to one file or to numbered segments,
 * scaling frames of another size, and the probe a recording makes at open time. It runs in
 * the encoder process (`encoder-process.ts`) only: the recorder's process never loads OpenCV.
 */
import { statSync, unlinkSync } from "node:fs";
import { describeCause, VideoError } from "../errors.js";
import { resizeInterpolation } from "../codec/resize.js";
import { CAP_PROP_BACKEND, cv, type Mat } from "../opencv.js";
import { segmentFile } from "./segments.js";

type Writer = InstanceType<typeof cv.VideoWriter>;

export function openWriter(path: string, fourcc: string, fps: number, width: number, height: number): Writer {
  let writer: Writer;
  try {
    writer = new cv.VideoWriter(path, cv.VideoWriter.fourcc(fourcc), fps, new cv.Size(width, height), true);
  } catch (cause) {
    throw new VideoError("CODEC_UNAVAILABLE", `cannot record ${fourcc} to ${path}: ${describeCause(cause)}`, { cause });
  }
  // The binding has no isOpened(); the backend property is -1 when the writer did not open.
  if ((writer.get(CAP_PROP_BACKEND) as unknown as number) !== cv.CAP_FFMPEG) {
    writer.release();
    throw new VideoError("CODEC_UNAVAILABLE", `OpenCV's FFmpeg cannot write ${fourcc} to ${path}`);
  }
  return writer;
}

/**
 * Writes one 16x16 frame with the codec to `path` (a probe file next to the target), then
 * removes it. Throws `VideoError` `CODEC_UNAVAILABLE` saying why the codec cannot be written.
 */
export function probeWriter(path: string, fourcc: string, fps: number): void {
  try {
    const writer = openWriter(path, fourcc, fps, 16, 16);
    try {
      writer.write(new cv.Mat(16, 16, cv.CV_8UC3, Buffer.alloc(16 * 16 * 3, 128)));
    } finally {
      writer.release();
    }
    if (!(statSync(path).size > 0))
      throw new VideoError("CODEC_UNAVAILABLE", `OpenCV's FFmpeg wrote nothing for ${fourcc}`);
  } catch (cause) {
    if (VideoError.isInstance(cause)) throw cause;
    throw new VideoError("CODEC_UNAVAILABLE", describeCause(cause), { cause });
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // never written
    }
  }
}

export interface SegmentedWriterOptions {
  readonly path: string;
  readonly fourcc: string;
  readonly fps: number;
  /** Frames per file; `null`: one file. */
  readonly framesPerSegment: number | null;
}

/**
 * Writes bgr24 frames with OpenCV's synchronous `VideoWriter.write`. The size is the
 * first frame's; other sizes are scaled to it. A new file starts every
 * `framesPerSegment` frames, after the previous one is released (finalized).
 */
export class SegmentedWriter {
  #writer: Writer | undefined;
  #segment: number | null = null;
  #framesWritten = 0;
  /** The frame that starts the next file: the open one's are computed once, not per frame. */
  #nextFileAt = 0;
  #width: number | undefined;
  #height: number | undefined;

  constructor(
    private readonly options: SegmentedWriterOptions,
    /** Told when a file is opened, before its first frame: its segment number, null for the one file. */
    private readonly onFile: (segment: number | null) => void,
  ) {}

  /** Writes one frame (`bytes`: width * height * 3, not kept). Tells whether it was scaled. Throws on failure. */
  write(width: number, height: number, bytes: Buffer): { scaled: boolean } {
    return this.writeMat(width, height, new cv.Mat(height, width, cv.CV_8UC3, bytes));
  }

  /**
   * Writes `mat`, a width x height bgr24 frame: one the caller may keep over memory it reuses (a frame slot),
   * so that a frame costs no Mat or Buffer of its own. Tells whether it was scaled. Throws on failure.
   */
  writeMat(width: number, height: number, mat: Mat): { scaled: boolean } {
    const targetWidth = (this.#width ??= width);
    const targetHeight = (this.#height ??= height);
    if (this.#writer === undefined || this.#framesWritten === this.#nextFileAt)
      this.#openFile(targetWidth, targetHeight);
    const scaled = width !== targetWidth || height !== targetHeight;
    this.#writer!.write(
      scaled
        ? mat.resize(targetHeight, targetWidth, 0, 0, resizeInterpolation({ width, height }, targetWidth, targetHeight))
        : mat,
    );
    this.#framesWritten++;
    return { scaled };
  }

  #openFile(width: number, height: number): void {
    const { path, fourcc, fps, framesPerSegment } = this.options;
    const file = segmentFile(path, framesPerSegment, this.#framesWritten);
    if (this.#writer === undefined || file.segment !== this.#segment) {
      this.release();
      this.#writer = openWriter(file.path, fourcc, fps, width, height);
      this.#segment = file.segment;
      this.onFile(file.segment);
    }
    this.#nextFileAt =
      framesPerSegment === null
        ? Number.POSITIVE_INFINITY
        : (Math.floor(this.#framesWritten / framesPerSegment) + 1) * framesPerSegment;
  }

  /** Finalizes the open file, if any. Safe to call twice. */
  release(): void {
    const writer = this.#writer;
    this.#writer = undefined;
    writer?.release();
  }
}
