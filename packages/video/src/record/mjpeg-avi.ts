/**
 * JPEG frames written into AVI files as they are (MJPG), with no decode and no
 * re-encode: each JPEG becomes one `00dc` chunk (layout in `mjpeg-avi-layout.ts`).
 * Decoding and re-encoding a 1280x720 frame through `openRecorder` costs about 20 ms
 * of CPU; this is a file append. Over 300 lines: the writer and what it leaves after a
 * kill (header rewrite, rollover) are one piece.
 *
 * What a SIGKILL leaves: each chunk is written with one positional write as it comes; the
 * 224-byte header's totals (RIFF and movi sizes, avih dwTotalFrames, strh dwLength,
 * dwSuggestedBufferSize) always claim at least what is written, and up to a second of
 * video more; the index and the exact totals are written at close. A file cut off before
 * close has no idx1, and FFmpeg then scans movi up to the end of the file: it reads every
 * complete chunk (a cut-off last chunk gives one damaged frame or none). The totals must
 * never be behind, because OpenCV's FFmpeg capture stops after strh dwLength + 1 frames
 * (its grabFrame checks `frame_number > nb_frames`): with a header a second behind, OpenCV
 * would lose that second. Ahead, it reads to the end of the file, and a killed recording's
 * header says at most a second more than it holds. So the header is rewritten when a
 * chunk passes what it claims, about once a second, not after every chunk: each write is
 * a hop to libuv's thread pool and back, which cost more than the chunk's own write
 * (docs/benchmarks/receiver.md). Nothing is synced to the disk: a killed process loses
 * nothing written, a power cut may.
 *
 * Files past 1 GiB are unreliable in AVI 1.0 (32-bit sizes and idx1 offsets, readers
 * that take them as signed), so when the next frame would make the file larger than
 * `maxFileBytes` (its index included) the file is finished and the recording goes on
 * in `name-001.avi`, `name-002.avi`, ... The first file keeps the given name, so a
 * recording that never rolls over is where it was asked to be (`openRecorder`'s
 * `segmentSeconds` numbers every file from `-000` because the split is asked for in
 * advance). `ls` sorts `name-001.avi` before `name.avi`; `files` lists them in order.
 * OpenDML (AVI 2.0) is not implemented.
 */
import { writev } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { extname } from "node:path";
import { describeCause, rejectedWith, VideoError } from "../errors.js";
import { rolloverPath } from "./file-names.js";
import { checkOutputPath } from "./output-path.js";
import {
  CHUNK_HEADER_BYTES,
  HEADER_BYTES,
  INDEX_ENTRY_BYTES,
  MOVI_FOURCC_AT,
  chunkBytes,
  chunkHeader,
  frameRateFraction,
  jpegSize,
  renderAviHeader,
  writeIndexEntry,
  type AviStream,
} from "./mjpeg-avi-layout.js";

/** 1 GiB (where FFmpeg's own AVI muxer moves on to OpenDML) minus 1 MiB of margin. */
export const MJPEG_AVI_DEFAULT_MAX_FILE_BYTES = 2 ** 30 - 2 ** 20;
/** The largest `maxFileBytes`: AVI 1.0 sizes are 32-bit and many readers take them as signed. */
export const MJPEG_AVI_MAX_FILE_BYTES = 2 ** 31 - 1;
/** The smallest `maxFileBytes`: room for the header and a few small frames. */
export const MJPEG_AVI_MIN_FILE_BYTES = 64 * 1024;

export interface MjpegAviOptions {
  /** Size in every JPEG's frame header; a JPEG of another size is refused. 1 to 65535. */
  readonly width: number;
  readonly height: number;
  /** Frames a second, 0.01 to 1000; fractional rates are kept as a fraction (29.97 is 2997/100, 30000/1001 stays 30000/1001). */
  readonly fps: number;
  /** Largest size of one file, its index included; default `MJPEG_AVI_DEFAULT_MAX_FILE_BYTES`. */
  readonly maxFileBytes?: number;
}

export interface MjpegAviStats {
  readonly framesWritten: number;
  /** Every file written, in order: `path`, then `name-001.avi`, ... */
  readonly files: readonly string[];
}

export interface MjpegAviWriter extends MjpegAviStats {
  readonly path: string;
  /**
   * Appends one JPEG as the next frame. Checks the bytes now and rejects with
   * `VideoError` `JPEG_INVALID` (no FF D8 start marker, or no frame header before
   * the scan), `FRAME_SIZE_MISMATCH`, `INVALID_FRAME` (larger than a file may hold)
   * or `CLOSED`; nothing is written then and the recording goes on. Resolves once
   * the chunk and the header's totals are written. Writes land in call order; the
   * bytes are not copied, so they must not change until the promise settles, and
   * each write not awaited keeps its frame in memory until then. A failed file
   * write (`WRITE_FAILED`, e.g. a full disk) fails this and every later write.
   */
  writeJpeg(jpeg: Uint8Array): Promise<void>;
  /**
   * Waits for the pending writes, writes the index and the final header, and closes
   * the file. After a failed write it closes the file as it is (readable like a
   * killed recording) and rethrows the failure. Safe to call twice.
   */
  close(): Promise<MjpegAviStats>;
}

/** While recording, the header claims up to this much video beyond what is written (see the module's header). */
const CLAIM_AHEAD_SECONDS = 1;
/** ...and room for JPEGs this much larger than the largest so far, so that a slightly larger one needs no rewrite. */
const CLAIM_LARGEST_MARGIN = 1.25;

const MAX_DIMENSION = 65535;
const MIN_FPS = 0.01;
const MAX_FPS = 1000;

/** The pad byte after a chunk of odd length. */
const PAD = new Uint8Array(1);

/** One AVI file being written: chunks appended at `end`, the header patched when they pass what it claims. */
class AviFile {
  private readonly header = Buffer.alloc(HEADER_BYTES);
  /** The `00dc` chunk header of the chunk being appended (appends never overlap). */
  private readonly chunkHead = chunkHeader("00dc", 0);
  /** idx1 entries, grown by doubling: 16 bytes a frame, bounded by the file size limit. */
  private index = Buffer.alloc(INDEX_ENTRY_BYTES * 1024);
  /** End of the last complete chunk. */
  private end = HEADER_BYTES;
  private largestJpeg = 0;
  frames = 0;
  /** What the header on disk claims while recording: never less than what is written. */
  private claimed = { frames: 0, end: HEADER_BYTES, largestJpeg: 0 };

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly stream: AviStream,
  ) {}

  /** Creates (or truncates) `path` and writes the header of an empty recording. */
  static async create(path: string, stream: AviStream): Promise<AviFile> {
    const file = new AviFile(path, await open(path, "w"), stream);
    try {
      await file.writeHeader(false);
    } catch (cause) {
      await file.handle.close().catch(() => undefined);
      throw cause;
    }
    return file;
  }

  /** The file's size, index included, once a JPEG of `length` bytes is added. */
  sizeWith(length: number): number {
    return this.end + chunkBytes(length) + CHUNK_HEADER_BYTES + INDEX_ENTRY_BYTES * (this.frames + 1);
  }

  /** Appends one chunk: one positional write, and the header's when the chunk passes what it claims. Never overlapping. */
  append(jpeg: Uint8Array): Promise<void> {
    this.chunkHead.writeUInt32LE(jpeg.byteLength, 4);
    const parts = jpeg.byteLength % 2 === 1 ? [this.chunkHead, jpeg, PAD] : [this.chunkHead, jpeg];
    return this.writeAt(parts, this.end).then(() => this.appended(jpeg.byteLength));
  }

  /** Indexes the chunk just written; rewrites the header if it claims less than the file now holds. */
  private appended(length: number): Promise<void> | undefined {
    if ((this.frames + 1) * INDEX_ENTRY_BYTES > this.index.byteLength) {
      const grown = Buffer.alloc(this.index.byteLength * 2);
      this.index.copy(grown);
      this.index = grown;
    }
    writeIndexEntry(this.index, this.frames, this.end - MOVI_FOURCC_AT, length);
    this.end += chunkBytes(length);
    this.frames++;
    this.largestJpeg = Math.max(this.largestJpeg, length);
    const { claimed } = this;
    if (this.frames > claimed.frames || this.end > claimed.end || this.largestJpeg > claimed.largestJpeg)
      return this.writeClaim();
    return undefined;
  }

  /** Rewrites the header to claim what is written and up to `CLAIM_AHEAD_SECONDS` of video more. */
  private async writeClaim(): Promise<void> {
    const { rate, scale } = this.stream.frameRate;
    const aheadFrames = Math.max(1, Math.ceil((rate / scale) * CLAIM_AHEAD_SECONDS));
    const largestJpeg = Math.ceil(this.largestJpeg * CLAIM_LARGEST_MARGIN);
    // Within AVI 1.0's sizes whatever the frames: a file never grows past MJPEG_AVI_MAX_FILE_BYTES.
    const end = Math.min(this.end + aheadFrames * chunkBytes(largestJpeg), MJPEG_AVI_MAX_FILE_BYTES);
    const claim = { frames: this.frames + aheadFrames, end, largestJpeg };
    renderAviHeader(this.header, this.stream, {
      fileBytes: claim.end,
      moviEnd: claim.end,
      frames: claim.frames,
      largestJpeg: claim.largestJpeg,
      indexed: false,
    });
    await this.writeAt([this.header], 0);
    this.claimed = claim;
  }

  /** Writes idx1 and the final header, then closes the file (also when a write fails). */
  async finish(): Promise<void> {
    try {
      const entries = this.index.subarray(0, INDEX_ENTRY_BYTES * this.frames);
      await this.writeAt([chunkHeader("idx1", entries.byteLength), entries], this.end);
      await this.writeHeader(true);
    } finally {
      await this.handle.close();
    }
  }

  /** Closes the file as it is, after a failed write: readable like a killed recording. */
  async abandon(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  private async writeHeader(indexed: boolean): Promise<void> {
    const indexBytes = indexed ? CHUNK_HEADER_BYTES + INDEX_ENTRY_BYTES * this.frames : 0;
    renderAviHeader(this.header, this.stream, {
      fileBytes: this.end + indexBytes,
      moviEnd: this.end,
      frames: this.frames,
      largestJpeg: this.largestJpeg,
      indexed,
    });
    await this.writeAt([this.header], 0);
  }

  /**
   * One positional `writev` through the callback API on the handle's descriptor: the promise API's layers
   * (`FileHandle.writev`, its `fsCall`) were a tenth of the main thread's CPU a frame (docs/benchmarks/receiver.md).
   */
  private writeAt(parts: readonly Uint8Array[], position: number): Promise<void> {
    let expected = 0;
    for (const part of parts) expected += part.byteLength;
    return new Promise((resolve, reject) => {
      writev(this.handle.fd, parts, position, (error, bytesWritten) => {
        if (error !== null) reject(error);
        else if (bytesWritten !== expected)
          reject(new Error(`wrote ${bytesWritten} of ${expected} bytes at offset ${position} (is the disk full?)`));
        else resolve();
      });
    });
  }
}

class MjpegAviRecording implements MjpegAviWriter {
  framesWritten = 0;
  readonly files: string[] = [];
  /** The last write queued (it may reject: its caller hears of it); writes behind it run when it settles. */
  private tail: Promise<void> = Promise.resolve();
  /** Writes queued and not settled: with none, a write starts at once. */
  private queued = 0;
  private failure: VideoError | undefined;
  private closing: Promise<MjpegAviStats> | undefined;

  constructor(
    readonly path: string,
    private file: AviFile,
    private readonly stream: AviStream,
    private readonly maxFileBytes: number,
  ) {
    this.files.push(file.path);
  }

  writeJpeg(jpeg: Uint8Array): Promise<void> {
    try {
      this.check(jpeg);
    } catch (error) {
      return rejectedWith(error);
    }
    // Started or queued now: writes land in call order.
    const run = (): Promise<void> => this.append(jpeg);
    const written = ++this.queued === 1 ? run() : this.tail.then(run, run);
    this.tail = written;
    return written;
  }

  private check(jpeg: Uint8Array): void {
    if (this.closing !== undefined) throw new VideoError("CLOSED", `MJPEG recording ${this.path} is closed`);
    if (this.failure !== undefined) throw this.failure;
    const { width, height } = jpegSize(jpeg);
    if (width !== this.stream.width || height !== this.stream.height) {
      throw new VideoError(
        "FRAME_SIZE_MISMATCH",
        `MJPEG recording ${this.path} is ${this.stream.width}x${this.stream.height}; refused a ${width}x${height} JPEG`,
      );
    }
    const alone = HEADER_BYTES + chunkBytes(jpeg.byteLength) + CHUNK_HEADER_BYTES + INDEX_ENTRY_BYTES;
    if (alone > this.maxFileBytes) {
      throw new VideoError(
        "INVALID_FRAME",
        `a JPEG of ${jpeg.byteLength} bytes does not fit in a file of maxFileBytes ${this.maxFileBytes}`,
      );
    }
  }

  private async append(jpeg: Uint8Array): Promise<void> {
    try {
      if (this.failure !== undefined) throw this.failure;
      if (this.file.frames > 0 && this.file.sizeWith(jpeg.byteLength) > this.maxFileBytes) {
        const next = rolloverPath(this.path, this.files.length);
        await this.file.finish();
        this.file = await AviFile.create(next, this.stream);
        this.files.push(next);
      }
      await this.file.append(jpeg);
      this.framesWritten++;
    } catch (cause) {
      this.failure ??= new VideoError(
        "WRITE_FAILED",
        `writing frame ${this.framesWritten} to ${this.file.path} failed: ${describeCause(cause)}`,
        { cause },
      );
      throw this.failure;
    } finally {
      this.queued--;
    }
  }

  close(): Promise<MjpegAviStats> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<MjpegAviStats> {
    await this.tail.catch(() => undefined);
    if (this.failure !== undefined) {
      await this.file.abandon();
      throw this.failure;
    }
    try {
      await this.file.finish();
    } catch (cause) {
      throw new VideoError("WRITE_FAILED", `finishing ${this.file.path} failed: ${describeCause(cause)}`, { cause });
    }
    return { framesWritten: this.framesWritten, files: [...this.files] };
  }
}

function checkOptions(options: MjpegAviOptions): number {
  const { width, height, fps } = options;
  for (const [name, value] of [
    ["width", width],
    ["height", height],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_DIMENSION) {
      throw new VideoError(
        "INVALID_OPTION",
        `${name} must be an integer from 1 to ${MAX_DIMENSION} (the JPEG limit), got ${value}`,
      );
    }
  }
  if (!Number.isFinite(fps) || fps < MIN_FPS || fps > MAX_FPS) {
    throw new VideoError("INVALID_OPTION", `fps must be from ${MIN_FPS} to ${MAX_FPS}, got ${fps}`);
  }
  const maxFileBytes = options.maxFileBytes ?? MJPEG_AVI_DEFAULT_MAX_FILE_BYTES;
  if (
    !Number.isInteger(maxFileBytes) ||
    maxFileBytes < MJPEG_AVI_MIN_FILE_BYTES ||
    maxFileBytes > MJPEG_AVI_MAX_FILE_BYTES
  ) {
    throw new VideoError(
      "INVALID_OPTION",
      `maxFileBytes must be an integer from ${MJPEG_AVI_MIN_FILE_BYTES} to ${MJPEG_AVI_MAX_FILE_BYTES} (AVI 1.0 sizes are 32-bit), got ${maxFileBytes}`,
    );
  }
  return maxFileBytes;
}

async function checkOutput(path: string): Promise<void> {
  if (extname(path).toLowerCase() !== ".avi") {
    throw new VideoError("CODEC_UNSUPPORTED", `cannot record MJPEG to ${path}: use a file ending in .avi`);
  }
  await checkOutputPath(path);
}

/**
 * Opens `path` (`.avi`) for JPEGs of `width` x `height` at `fps`, and writes its header
 * now. Throws `VideoError` `INVALID_OPTION`, `CODEC_UNSUPPORTED` (not `.avi`) or
 * `OUTPUT_NOT_WRITABLE` (missing or read-only folder, a folder or read-only file at
 * `path`). An existing file is overwritten, and so are `name-001.avi`, ... on rollover.
 */
export async function openMjpegAviWriter(path: string, options: MjpegAviOptions): Promise<MjpegAviWriter> {
  const maxFileBytes = checkOptions(options);
  await checkOutput(path);
  const stream: AviStream = { width: options.width, height: options.height, frameRate: frameRateFraction(options.fps) };
  let file: AviFile;
  try {
    file = await AviFile.create(path, stream);
  } catch (cause) {
    throw new VideoError("OUTPUT_NOT_WRITABLE", `cannot record to ${path}: ${describeCause(cause)}`, { cause });
  }
  return new MjpegAviRecording(path, file, stream, maxFileBytes);
}
