/**
 * The bytes of an MJPEG AVI (AVI 1.0), as pure functions: the header, chunk and
 * index layout, the frame rate as a fraction, and the size in a JPEG's frame header.
 * `mjpeg-avi.ts` writes files with them.
 *
 *   offset  size
 *        0    12  RIFF <file size - 8> 'AVI '
 *       12    12    LIST <192> 'hdrl'
 *       24    64      avih <56>  MainAVIHeader; dwFlags at 44, dwTotalFrames at 48
 *       88    12      LIST <116> 'strl'
 *      100    64        strh <56>  'vids' 'MJPG'; dwScale at 128, dwRate at 132, dwLength at 140
 *      164    48        strf <40>  BITMAPINFOHEADER, biCompression 'MJPG'
 *      212    12    LIST <movi size> 'movi'                       ('movi' at 220)
 *      224  8+n+p     00dc <n> JPEG [p = one zero byte when n is odd]
 *      ...            (one 00dc chunk a frame)
 *          8+16k    idx1 <16k>  k x { '00dc', AVIIF_KEYFRAME, offset of the chunk from 'movi', n }
 *
 * Sizes are little-endian u32 and count the bytes after the size field, pads not
 * included; every chunk starts at an even offset. No JUNK pad: it only reserves room
 * for OpenDML's super index, which is not written.
 */
import { VideoError } from "../errors.js";

export const HEADER_BYTES = 224;
/** Offset of the 'movi' fourcc: idx1 offsets and the movi size count from here. */
export const MOVI_FOURCC_AT = 220;
export const CHUNK_HEADER_BYTES = 8;
export const INDEX_ENTRY_BYTES = 16;
/** Size fields of the two header lists: from their fourcc to the end of strf. */
const HDRL_LIST_BYTES = 192;
const STRL_LIST_BYTES = 116;
/** avih dwFlags: the file has an idx1. */
export const AVIF_HASINDEX = 0x10;
/** idx1 dwFlags: the chunk is a key frame (every JPEG is). */
export const AVIIF_KEYFRAME = 0x10;
/** Largest dwScale tried when turning fps into dwRate/dwScale. */
const MAX_SCALE = 10000;

/** Frames a second as dwRate / dwScale. */
export interface FrameRate {
  readonly rate: number;
  readonly scale: number;
}

/** What the header describes besides the running totals. */
export interface AviStream {
  readonly width: number;
  readonly height: number;
  readonly frameRate: FrameRate;
}

/**
 * `fps` as rate/scale: the closest fraction with a scale up to `MAX_SCALE` (continued
 * fractions). 25 is 25/1, 29.97 is 2997/100, 30000/1001 stays 30000/1001.
 */
export function frameRateFraction(fps: number): FrameRate {
  let [rate, previousRate, scale, previousScale] = [Math.floor(fps), 1, 1, 0];
  let rest = fps - Math.floor(fps);
  while (rest > 1e-9 && Math.abs(rate / scale - fps) > fps * 1e-12) {
    const inverse = 1 / rest;
    const term = Math.floor(inverse);
    const nextScale = term * scale + previousScale;
    if (nextScale > MAX_SCALE) break;
    [rate, previousRate] = [term * rate + previousRate, rate];
    [scale, previousScale] = [nextScale, scale];
    rest = inverse - term;
  }
  return { rate, scale };
}

export interface AviTotals {
  /** File bytes up to the end of the last chunk written (the index included at close). */
  readonly fileBytes: number;
  /** Offset of the end of the last chunk: the movi list's size is this minus `MOVI_FOURCC_AT`. */
  readonly moviEnd: number;
  readonly frames: number;
  /** Bytes of the largest JPEG so far: dwSuggestedBufferSize. */
  readonly largestJpeg: number;
  /** An idx1 follows movi: sets AVIF_HASINDEX. */
  readonly indexed: boolean;
}

/** Writes the 224-byte header (see the layout above) into `into`. */
export function renderAviHeader(into: Buffer, { width, height, frameRate }: AviStream, totals: AviTotals): void {
  let at = 0;
  const fourcc = (text: string): void => {
    into.write(text, at, 4, "latin1");
    at += 4;
  };
  const u32 = (value: number): void => {
    into.writeUInt32LE(value, at);
    at += 4;
  };
  const u16 = (value: number): void => {
    into.writeUInt16LE(value, at);
    at += 2;
  };
  fourcc("RIFF");
  u32(totals.fileBytes - 8);
  fourcc("AVI ");
  fourcc("LIST");
  u32(HDRL_LIST_BYTES);
  fourcc("hdrl");
  // MainAVIHeader
  fourcc("avih");
  u32(56);
  u32(Math.round((1e6 * frameRate.scale) / frameRate.rate)); // dwMicroSecPerFrame
  u32(0); // dwMaxBytesPerSec: unknown
  u32(0); // dwPaddingGranularity
  u32(totals.indexed ? AVIF_HASINDEX : 0); // dwFlags
  u32(totals.frames); // dwTotalFrames
  u32(0); // dwInitialFrames
  u32(1); // dwStreams
  u32(totals.largestJpeg); // dwSuggestedBufferSize
  u32(width);
  u32(height);
  for (let i = 0; i < 4; i++) u32(0); // dwReserved
  fourcc("LIST");
  u32(STRL_LIST_BYTES);
  fourcc("strl");
  // AVISTREAMHEADER
  fourcc("strh");
  u32(56);
  fourcc("vids");
  fourcc("MJPG");
  u32(0); // dwFlags
  u16(0); // wPriority
  u16(0); // wLanguage
  u32(0); // dwInitialFrames
  u32(frameRate.scale); // dwScale
  u32(frameRate.rate); // dwRate
  u32(0); // dwStart
  u32(totals.frames); // dwLength
  u32(totals.largestJpeg); // dwSuggestedBufferSize
  u32(0xffffffff); // dwQuality: default
  u32(0); // dwSampleSize: chunks vary in size
  u16(0); // rcFrame left, top, right, bottom
  u16(0);
  u16(width);
  u16(height);
  // BITMAPINFOHEADER
  fourcc("strf");
  u32(40);
  u32(40); // biSize
  u32(width);
  u32(height);
  u16(1); // biPlanes
  u16(24); // biBitCount
  fourcc("MJPG"); // biCompression
  u32(Math.min(width * height * 3, 0xffffffff)); // biSizeImage
  for (let i = 0; i < 4; i++) u32(0); // biXPelsPerMeter, biYPelsPerMeter, biClrUsed, biClrImportant
  fourcc("LIST");
  u32(totals.moviEnd - MOVI_FOURCC_AT);
  fourcc("movi");
}

/** Bytes a JPEG of `length` bytes takes in movi: chunk header, data, pad to even. */
export function chunkBytes(length: number): number {
  return CHUNK_HEADER_BYTES + length + (length & 1);
}

/** The 8 bytes before a chunk's data: fourcc and size. */
export function chunkHeader(fourcc: string, size: number): Buffer {
  const head = Buffer.allocUnsafe(CHUNK_HEADER_BYTES);
  head.write(fourcc, 0, 4, "latin1");
  head.writeUInt32LE(size, 4);
  return head;
}

/** Writes idx1 entry `i` for a JPEG chunk at `offset` from 'movi', of `length` bytes. */
export function writeIndexEntry(index: Buffer, i: number, offset: number, length: number): void {
  const at = i * INDEX_ENTRY_BYTES;
  index.write("00dc", at, 4, "latin1");
  index.writeUInt32LE(AVIIF_KEYFRAME, at + 4);
  index.writeUInt32LE(offset, at + 8);
  index.writeUInt32LE(length, at + 12);
}

// ---------------------------------------------------------------------------
// JPEG

/** SOF0..SOF15, leaving out DHT (C4), JPG (C8) and DAC (CC), which share the range. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

const hex = (byte: number | undefined): string => `0x${(byte ?? 0).toString(16).padStart(2, "0")}`;

/**
 * The size in the JPEG's frame header (SOFn), reached by hopping over the marker
 * segments before it (a few hops: APPn, DQT, ...). Throws `JPEG_INVALID`.
 */
export function jpegSize(jpeg: Uint8Array): { readonly width: number; readonly height: number } {
  if (jpeg.byteLength < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) {
    throw new VideoError("JPEG_INVALID", `not a JPEG: ${jpeg.byteLength} bytes without the FF D8 start marker`);
  }
  let at = 2;
  while (at + 4 <= jpeg.byteLength) {
    const marker = jpeg[at + 1] ?? 0;
    if (jpeg[at] !== 0xff) {
      throw new VideoError(
        "JPEG_INVALID",
        `JPEG of ${jpeg.byteLength} bytes: expected a marker at offset ${at}, found byte ${hex(jpeg[at])}`,
      );
    }
    if (marker === 0xff) {
      at += 1; // fill byte
    } else if (marker === 0xda || marker === 0xd9) {
      break;
    } else if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2; // markers without a length
    } else if (isStartOfFrame(marker)) {
      if (at + 9 > jpeg.byteLength) break;
      return {
        height: ((jpeg[at + 5] ?? 0) << 8) | (jpeg[at + 6] ?? 0),
        width: ((jpeg[at + 7] ?? 0) << 8) | (jpeg[at + 8] ?? 0),
      };
    } else {
      at += 2 + (((jpeg[at + 2] ?? 0) << 8) | (jpeg[at + 3] ?? 0));
    }
  }
  throw new VideoError(
    "JPEG_INVALID",
    `JPEG of ${jpeg.byteLength} bytes has no frame header (SOF marker) before its scan data or end (offset ${at})`,
  );
}
