/**
 * The JPEG frames of an MJPG AVI, read from the file's RIFF chunks without FFmpeg: the video stream's chunks in
 * file order, which is what FFmpeg's raw mode hands over, byte for byte. A sender passing such a file through then
 * never loads OpenCV (some 60 MB of libraries and 0.2 s of CPU). Reads OpenDML files (RIFF AVIX parts) and files
 * cut short by a crash (up to the last whole chunk); anything else is left to FFmpeg.
 */
import { readSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { describeCause, VideoError } from "../errors.js";
import { jpegSize } from "../record/mjpeg-avi-layout.js";

export interface AviJpegHeader {
  readonly width: number;
  readonly height: number;
  /** The video stream's rate (its strh dwRate / dwScale), or undefined when the header has none. */
  readonly fps: number | undefined;
}

const CHUNK_HEADER = 8;
const MJPEG_HANDLERS = new Set(["MJPG", "AVRN", "LJPG", "JPGL", "DMB1"]);

const fourcc = (b: Buffer, at: number): string => b.toString("latin1", at, at + 4);
const padded = (size: number): number => size + (size & 1);

export class AviJpegReader {
  /** The size is the first frame's (its JPEG frame header), the rate the stream header's. */
  header: AviJpegHeader = { width: 0, height: 0, fps: undefined };
  /** Where the next chunk of the current movi list starts, and where that list ends. */
  private at: number;
  private end: number;
  /** Where the current RIFF part ends: the next part (RIFF AVIX) may follow it. */
  private riffEnd: number;

  private constructor(
    private readonly file: FileHandle,
    private readonly path: string,
    private readonly size: number,
    private readonly chunkIds: ReadonlySet<string>,
    private readonly fps: number | undefined,
    movi: { readonly start: number; readonly end: number; readonly riffEnd: number },
  ) {
    this.at = movi.start;
    this.end = movi.end;
    this.riffEnd = movi.riffEnd;
  }

  /**
   * Opens `path` when it is an AVI whose video stream is MJPEG and whose first frame is a JPEG; undefined
   * when it is anything else (another container or codec: FFmpeg's business). Throws `FILE_UNREADABLE` when
   * the file cannot be read.
   */
  static async open(path: string): Promise<AviJpegReader | undefined> {
    let file: FileHandle;
    try {
      file = await open(path, "r");
    } catch (cause) {
      throw new VideoError("FILE_UNREADABLE", `cannot read video file ${path}: ${describeCause(cause)}`, { cause });
    }
    try {
      const reader = await AviJpegReader.parse(file, path);
      if (reader === undefined) await file.close();
      return reader;
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  private static async parse(file: FileHandle, path: string): Promise<AviJpegReader | undefined> {
    const { size } = await file.stat();
    const head = await readAt(file, path, 0, 12);
    if (head.length < 12 || fourcc(head, 0) !== "RIFF" || fourcc(head, 8) !== "AVI ") return undefined;
    const riffEnd = Math.min(size, 8 + head.readUInt32LE(4));
    let video: { stream: number; fps: number | undefined } | undefined;
    let stream = -1;
    // Top-level chunks of the first RIFF part: LIST hdrl (the stream headers), then LIST movi.
    for (let at = 12; at + CHUNK_HEADER <= riffEnd;) {
      const top = await readAt(file, path, at, 12);
      if (top.length < CHUNK_HEADER) return undefined;
      const id = fourcc(top, 0);
      const chunkSize = top.readUInt32LE(4);
      if (id === "LIST" && top.length >= 12 && fourcc(top, 8) === "movi") {
        if (video === undefined) return undefined;
        const number = String(video.stream).padStart(2, "0");
        const ids = new Set([`${number}dc`, `${number}db`]);
        const movi = { start: at + 12, end: Math.min(riffEnd, at + CHUNK_HEADER + chunkSize), riffEnd };
        const reader = new AviJpegReader(file, path, size, ids, video.fps, movi);
        return (await reader.readFirstFrameSize()) ? reader : undefined;
      }
      if (id === "LIST" && top.length >= 12 && fourcc(top, 8) === "hdrl") {
        const hdrl = await readAt(file, path, at + 12, chunkSize - 4);
        for (const strl of lists(hdrl, "strl")) {
          stream++;
          const found = videoStream(strl);
          if (found !== undefined && video === undefined) video = { stream, ...found };
        }
      }
      at += CHUNK_HEADER + padded(chunkSize);
    }
    return undefined;
  }

  /** The header's size from the first frame, if it is a JPEG (false if not); reads from the start again afterwards. */
  private async readFirstFrameSize(): Promise<boolean> {
    const { at, end, riffEnd } = this;
    const first = await this.next();
    this.at = at;
    this.end = end;
    this.riffEnd = riffEnd;
    if (first === undefined) return false;
    try {
      this.header = { ...jpegSize(first), fps: this.fps };
      return true;
    } catch {
      return false;
    }
  }

  /** The next frame's JPEG bytes; undefined at the end of the file (or of what a crash left whole). */
  async next(): Promise<Uint8Array | undefined> {
    for (;;) {
      if (this.at + CHUNK_HEADER > this.end && !(await this.nextPart())) return undefined;
      const header = await readAt(this.file, this.path, this.at, CHUNK_HEADER);
      if (header.length < CHUNK_HEADER) return undefined;
      const id = fourcc(header, 0);
      const chunkSize = header.readUInt32LE(4);
      if (id === "LIST") {
        this.at += 12; // a 'rec ' list groups chunks: step into it
        continue;
      }
      const dataAt = this.at + CHUNK_HEADER;
      this.at = dataAt + padded(chunkSize);
      if (!this.chunkIds.has(id) || chunkSize === 0) continue;
      if (dataAt + chunkSize > this.size) return undefined; // cut short by a crash
      return await readAt(this.file, this.path, dataAt, chunkSize);
    }
  }

  /** Moves to the movi list of the next RIFF AVIX part (OpenDML files over 1 GB); false when there is none. */
  private async nextPart(): Promise<boolean> {
    let at = this.riffEnd + (this.riffEnd & 1);
    const riff = await readAt(this.file, this.path, at, 12);
    if (riff.length < 12 || fourcc(riff, 0) !== "RIFF" || fourcc(riff, 8) !== "AVIX") return false;
    const riffEnd = Math.min(this.size, at + CHUNK_HEADER + riff.readUInt32LE(4));
    for (at += 12; at + CHUNK_HEADER <= riffEnd;) {
      const chunk = await readAt(this.file, this.path, at, 12);
      if (chunk.length < 12) return false;
      const chunkSize = chunk.readUInt32LE(4);
      if (fourcc(chunk, 0) === "LIST" && fourcc(chunk, 8) === "movi") {
        this.at = at + 12;
        this.end = Math.min(riffEnd, at + CHUNK_HEADER + chunkSize);
        this.riffEnd = riffEnd;
        return true;
      }
      at += CHUNK_HEADER + padded(chunkSize);
    }
    return false;
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

/**
 * Read here, not on libuv's thread pool: a frame's chunk is a copy from the page cache, dearer to hand to a pool
 * thread and back (a futex wake, an eventfd, an epoll wake each) than to make (as OpenCV's raw-mode read was).
 */
// eslint-disable-next-line @typescript-eslint/require-await -- async for the callers: a read error rejects
async function readAt(file: FileHandle, path: string, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(Math.max(0, length));
  try {
    const bytesRead = readSync(file.fd, buffer, 0, buffer.length, position);
    return bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
  } catch (cause) {
    throw new VideoError("FILE_UNREADABLE", `cannot read video file ${path}: ${describeCause(cause)}`, { cause });
  }
}

/** The contents (after the list type) of each `LIST type` chunk directly inside `body`. */
function* lists(body: Buffer, type: string): Generator<Buffer> {
  for (let at = 0; at + 12 <= body.length;) {
    const chunkSize = body.readUInt32LE(at + 4);
    if (fourcc(body, at) === "LIST" && fourcc(body, at + 8) === type)
      yield body.subarray(at + 12, Math.min(body.length, at + CHUNK_HEADER + chunkSize));
    at += CHUNK_HEADER + padded(chunkSize);
  }
}

/** A stream list's rate, when its strh and strf say MJPEG video. */
function videoStream(strl: Buffer): { fps: number | undefined } | undefined {
  let strh: Buffer | undefined;
  let strf: Buffer | undefined;
  for (let at = 0; at + CHUNK_HEADER <= strl.length;) {
    const chunkSize = strl.readUInt32LE(at + 4);
    const body = strl.subarray(at + CHUNK_HEADER, Math.min(strl.length, at + CHUNK_HEADER + chunkSize));
    if (fourcc(strl, at) === "strh") strh = body;
    if (fourcc(strl, at) === "strf") strf = body;
    at += CHUNK_HEADER + padded(chunkSize);
  }
  if (strh === undefined || strh.length < 36 || fourcc(strh, 0) !== "vids") return undefined;
  const compression = strf !== undefined && strf.length >= 20 ? fourcc(strf, 16) : "";
  if (!MJPEG_HANDLERS.has(fourcc(strh, 4).toUpperCase()) && !MJPEG_HANDLERS.has(compression.toUpperCase()))
    return undefined;
  const scale = strh.readUInt32LE(20);
  const rate = strh.readUInt32LE(24);
  return { fps: scale > 0 && rate > 0 ? rate / scale : undefined };
}
