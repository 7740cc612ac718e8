/**
 * A recording that keeps JPEG frames as they arrived: MJPG in AVI, no decode and no
 * re-encode (the receiver's `--fourcc MJPG` with a `.avi` output). A JPEG stream
 * costs a file append per frame instead of a decode and a DIVX encode, and the file
 * holds exactly what the sender compressed. Anything else (raw frames, a JPEG of
 * another size after a stream change) is scaled to the recording's size and
 * encoded to JPEG first.
 */
import { extname } from "node:path";
import { decodeJpegAsync, encodeJpegAsync, openMjpegAviWriter, resizeFrameAsync, segmentPath, type Frame, type MjpegAviWriter } from "@udpcam/video";

/** What the receiver hands over: the sender's JPEG bytes, or decoded pixels. */
export type RecordedFrame =
  | { readonly kind: "jpeg"; readonly bytes: Uint8Array; readonly width: number; readonly height: number }
  | { readonly kind: "pixels"; readonly frame: Frame };

/** Frames that must be encoded to be stored get this quality (the sender's default is 80). */
const CONVERTED_JPEG_QUALITY = 90;

/** `--fourcc MJPG` into an `.avi` file stores JPEG frames as they are. */
export function storesJpegAsIs(path: string, fourcc: string): boolean {
  return fourcc === "MJPG" && extname(path).toLowerCase() === ".avi";
}

export class MjpegRecording {
  #writer: MjpegAviWriter | undefined;
  #size: { width: number; height: number } | undefined;
  #segment = 0;
  #framesInSegment = 0;
  #framesBefore = 0;
  readonly #filesBefore: string[] = [];
  readonly #framesPerSegment: number | undefined;

  constructor(
    private readonly path: string,
    private readonly fps: number,
    segmentSeconds: number,
  ) {
    this.#framesPerSegment = segmentSeconds > 0 ? Math.max(1, Math.round(segmentSeconds * fps)) : undefined;
  }

  get framesWritten(): number {
    return this.#framesBefore + (this.#writer?.framesWritten ?? 0);
  }

  async write(item: RecordedFrame): Promise<void> {
    this.#size ??= item.kind === "jpeg" ? { width: item.width, height: item.height } : { width: item.frame.width, height: item.frame.height };
    const jpeg = await this.#asJpeg(item, this.#size);
    if (this.#framesPerSegment !== undefined && this.#framesInSegment === this.#framesPerSegment) {
      await this.#finishFile();
      this.#segment++;
      this.#framesInSegment = 0;
    }
    this.#writer ??= await openMjpegAviWriter(this.#framesPerSegment === undefined ? this.path : segmentPath(this.path, this.#segment), { ...this.#size, fps: this.fps });
    await this.#writer.writeJpeg(jpeg);
    this.#framesInSegment++;
  }

  async close(): Promise<{ framesWritten: number; files: string[] }> {
    await this.#finishFile();
    return { framesWritten: this.#framesBefore, files: [...this.#filesBefore] };
  }

  async #finishFile(): Promise<void> {
    const writer = this.#writer;
    if (writer === undefined) return;
    this.#writer = undefined;
    const finished = await writer.close();
    this.#framesBefore += finished.framesWritten;
    this.#filesBefore.push(...finished.files);
  }

  async #asJpeg(item: RecordedFrame, size: { width: number; height: number }): Promise<Uint8Array> {
    if (item.kind === "jpeg" && item.width === size.width && item.height === size.height) return item.bytes;
    let frame = item.kind === "jpeg" ? await decodeJpegAsync(item.bytes) : item.frame;
    if (frame.width !== size.width || frame.height !== size.height) frame = await resizeFrameAsync(frame, size.width, size.height);
    return encodeJpegAsync(frame, CONVERTED_JPEG_QUALITY);
  }
}
