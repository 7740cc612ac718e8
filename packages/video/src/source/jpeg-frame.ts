/**
 * What a source gives when it already delivers JPEG (an MJPEG camera, an MJPG AVI file, an
 * MJPEG HTTP stream) and the sender passes the bytes through: no decode, no re-encode.
 */
import type { SourceKind } from "./source.js";

export interface JpegFrame {
  readonly kind: "jpeg";
  /** As the source reports it: every frame of the stream has this size. */
  readonly width: number;
  readonly height: number;
  /** One whole JPEG image, SOI to EOI, as the source delivered it. */
  readonly jpeg: Uint8Array;
  readonly captureTime: number;
  readonly sequence: number;
}

export interface JpegSource extends AsyncIterable<JpegFrame> {
  readonly kind: SourceKind;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly description: string;
  read(): Promise<JpegFrame | undefined>;
  close(): Promise<void>;
}

/** JPEG's start-of-image marker: how a raw packet shows it is a JPEG. */
export function startsWithSoi(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}
