/**
 * The synchronous side of recording: opening a writer that really opened (native/video_writer.c for
 * MPEG-4 Part 2, OpenCV's VideoWriter for the rest), and `SegmentedWriter`, which writes frames to one file or
 * to numbered segments, scaling frames of another size, and the probe a recording makes at open time. It runs
 * in the encoder process (`encoder-process.ts`) only: the recorder's process never loads OpenCV, and this one
 * only when a frame is scaled or the codec is not MPEG-4 Part 2.
 */
import { statSync, unlinkSync } from "node:fs";
import { describeCause, VideoError } from "../errors.js";
import { resizeInterpolation } from "../codec/resize.js";
import { CAP_PROP_BACKEND, cv, type Mat } from "../opencv.js";
import { openNativeWriter } from "./native-writer.js";
import { segmentFile } from "./segments.js";

/**
 * A bgr24 frame to write, `width * 3` bytes a row. `mat`, a Mat over the same bytes, is made by a writer that
 * needs one; a caller that writes the same memory again (a frame slot) keeps the frame, and so the Mat.
 */
export interface BgrFrame {
  readonly width: number;
  readonly height: number;
  readonly bytes: Uint8Array;
  mat?: Mat;
}

export interface FileWriter {
  /** Throws on failure. */
  write(frame: BgrFrame): void;
  /** Finalizes the file. Safe to call twice. */
  release(): void;
}

function matOf(frame: BgrFrame): Mat {
  const { width, height, bytes } = frame;
  return (frame.mat ??= new cv.Mat(
    height,
    width,
    cv.CV_8UC3,
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  ));
}

function openOpenCvWriter(path: string, fourcc: string, fps: number, width: number, height: number): FileWriter {
  let writer: InstanceType<typeof cv.VideoWriter>;
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
  return { write: (frame) => writer.write(matOf(frame)), release: () => writer.release() };
}

/**
 * Whether OpenCV's FFmpeg backend is switched off (`OPENCV_VIDEOIO_PRIORITY_FFMPEG=0`): the native writer stands in
 * for that backend's writer, so it steps aside too, and OpenCV then says it cannot write the codec.
 */
function ffmpegBackendDisabled(): boolean {
  // eslint-disable-next-line no-restricted-syntax -- OpenCV's own switch, read where OpenCV reads it
  return process.env.OPENCV_VIDEOIO_PRIORITY_FFMPEG === "0";
}

/** A writer of width x height frames to `path`. Throws `VideoError` `CODEC_UNAVAILABLE` when it cannot open. */
export function openWriter(path: string, fourcc: string, fps: number, width: number, height: number): FileWriter {
  let native;
  try {
    native = ffmpegBackendDisabled() ? undefined : openNativeWriter(path, fourcc, fps, width, height);
  } catch (cause) {
    throw new VideoError("CODEC_UNAVAILABLE", `cannot record ${fourcc} to ${path}: ${describeCause(cause)}`, { cause });
  }
  if (native === undefined) return openOpenCvWriter(path, fourcc, fps, width, height);
  let released = false;
  return {
    write: (frame) => native.write(frame.bytes),
    release: () => {
      if (released) return;
      released = true;
      native.release();
    },
  };
}

/**
 * Writes one 16x16 frame with the codec to `path` (a probe file next to the target), then
 * removes it. Throws `VideoError` `CODEC_UNAVAILABLE` saying why the codec cannot be written.
 */
export function probeWriter(path: string, fourcc: string, fps: number): void {
  try {
    const writer = openWriter(path, fourcc, fps, 16, 16);
    try {
      writer.write({ width: 16, height: 16, bytes: Buffer.alloc(16 * 16 * 3, 128) });
    } finally {
      writer.release();
    }
    if (!(statSync(path).size > 0)) throw new VideoError("CODEC_UNAVAILABLE", `nothing was written for ${fourcc}`);
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
 * Writes bgr24 frames. The size is the first frame's; other sizes are scaled to it. A new file starts every
 * `framesPerSegment` frames, after the previous one is released (finalized).
 */
export class SegmentedWriter {
  #writer: FileWriter | undefined;
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

  /**
   * Writes `frame` (its bytes are not kept once this returns; a caller that writes the same memory again keeps
   * the frame object: see `BgrFrame`). Tells whether it was scaled. Throws on failure.
   */
  write(frame: BgrFrame): { scaled: boolean } {
    const { width, height } = frame;
    const targetWidth = (this.#width ??= width);
    const targetHeight = (this.#height ??= height);
    if (this.#writer === undefined || this.#framesWritten === this.#nextFileAt)
      this.#openFile(targetWidth, targetHeight);
    const scaled = width !== targetWidth || height !== targetHeight;
    this.#writer!.write(scaled ? scale(frame, targetWidth, targetHeight) : frame);
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

function scale(frame: BgrFrame, width: number, height: number): BgrFrame {
  const mat = matOf(frame).resize(height, width, 0, 0, resizeInterpolation(frame, width, height));
  return { width, height, bytes: mat.getData(), mat };
}
