/**
 * JPEG in, JPEG at another quality out, without leaving YCbCr: libjpeg decodes each component at its own
 * sampling and encodes it again from there (native/jpeg_transcode.c), as GStreamer's `jpegdec ! jpegenc` do.
 * OpenCV's decode + encode goes through BGR both ways; for a frame that is only re-encoded, that colour
 * conversion, the up- and downsampling and the BGR frame's memory cost about three times the JPEG work.
 */
import { VideoError, describeCause } from "../errors.js";
import { DEFAULT_JPEG_QUALITY } from "./jpeg.js";
import { jpegAddon } from "./jpeg-addon.js";

/**
 * Decodes `jpeg` and encodes it again at `quality` (1-100), same size and sampling, on libuv's thread pool.
 * Throws `VideoError` `JPEG_INVALID` for bytes that do not decode, `INVALID_OPTION` for a bad quality.
 */
export async function transcodeJpegAsync(jpeg: Uint8Array, quality = DEFAULT_JPEG_QUALITY): Promise<Uint8Array> {
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new VideoError("INVALID_OPTION", `JPEG quality must be an integer from 1 to 100, got ${quality}`);
  }
  if (jpeg.byteLength < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) {
    throw new VideoError("JPEG_INVALID", `not a JPEG: ${jpeg.byteLength} bytes without the FF D8 start marker`);
  }
  const input = Buffer.isBuffer(jpeg) ? jpeg : Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
  try {
    return await jpegAddon().transcode(input, quality);
  } catch (cause) {
    throw new VideoError("JPEG_INVALID", `JPEG does not re-encode: ${describeCause(cause)}`, { cause });
  }
}
