/**
 * The synthetic test pattern: deterministic, moving, and self-identifying.
 *
 * Frame n of a W x H pattern is a pure function `renderPatternFrame(n, W, H)`,
 * so a test can regenerate any frame and compare pixels. Layout:
 *
 *   +--------------------------------------------------+  row 0
 *   | 32 black/white blocks: code word of n (top band) |  bandHeight = max(2, round(H / 16))
 *   +--------------------------------------------------+
 *   |  colour gradients scrolling 4 px a frame         |
 *   |            +-----------+                         |
 *   |            | 1 2 3 4 5 |  frame number, white    |
 *   |            +-----------+  on black, ~H/3 tall    |
 *   |  [red square bouncing 8 px a frame]              |
 *   +--------------------------------------------------+
 *   | the same 32 blocks again (bottom band)           |  last bandHeight rows
 *   +--------------------------------------------------+  row H-1
 *
 * Code word (32 blocks, block i spans columns floor(i*W/32) .. floor((i+1)*W/32)-1,
 * white = 1, most significant bit first):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |          frame number n mod 2^24              |    check      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * check = CRC-8 (polynomial 0x07, init 0) of the 3 number bytes, XOR 0x5A, so an
 * all-black or all-white band never reads as a frame number. Blocks are large and
 * pure black/white, and positions are fractions of the frame size: the code survives
 * JPEG (quality >= 50), DIVX/MPEG-4 and scaling. A torn frame (top rows from one
 * source frame, bottom rows from another) reads different numbers top and bottom,
 * or a band that fails its check.
 */
import { VideoError } from "../errors.js";
import { createFrame, frameByteLength, type Frame } from "../frame.js";
import { blockStart, PATTERN_CODE_BLOCKS, patternBandHeight, patternCodeBits } from "./pattern-code.js";

export const PATTERN_MIN_WIDTH = 64;
export const PATTERN_MIN_HEIGHT = 48;

const SCROLL_PX_PER_FRAME = 4;
const SQUARE_PX_PER_FRAME = 8;

// 5 x 7 digits, one string a row, '#' = lit.
const DIGITS: readonly (readonly string[])[] = [
  [" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "],
  ["  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
  [" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"],
  ["#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "],
  ["   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "],
  ["#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "],
  ["  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "],
  ["#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "],
  [" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "],
  [" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "],
];
const GLYPH_W = 5;
const GLYPH_H = 7;
const GLYPH_ADVANCE = 6;

function triangle(v: number): number {
  const m = v & 511;
  return m < 256 ? m : 511 - m;
}

function fillRect(
  bytes: Uint8Array,
  width: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  b: number,
  g: number,
  r: number,
): void {
  if (x1 <= x0 || y1 <= y0) return;
  const first = (y0 * width + x0) * 3;
  const span = (x1 - x0) * 3;
  if (b === g && g === r) {
    bytes.fill(b, first, first + span);
  } else {
    for (let p = first; p < first + span; p += 3) {
      bytes[p] = b;
      bytes[p + 1] = g;
      bytes[p + 2] = r;
    }
  }
  for (let y = y0 + 1; y < y1; y++) bytes.copyWithin((y * width + x0) * 3, first, first + span);
}

function drawBand(bytes: Uint8Array, width: number, y0: number, rows: number, bits: readonly number[]): void {
  const rowBytes = width * 3;
  const row = bytes.subarray(y0 * rowBytes, (y0 + 1) * rowBytes);
  for (let i = 0; i < PATTERN_CODE_BLOCKS; i++) {
    row.fill(bits[i] === 1 ? 255 : 0, blockStart(i, width) * 3, blockStart(i + 1, width) * 3);
  }
  for (let y = 1; y < rows; y++) bytes.copyWithin((y0 + y) * rowBytes, y0 * rowBytes, (y0 + 1) * rowBytes);
}

function drawNumber(bytes: Uint8Array, width: number, top: number, bottom: number, n: number): void {
  const text = String(n);
  const cols = text.length * GLYPH_ADVANCE - 1;
  const scale = Math.max(1, Math.floor(Math.min(((bottom - top) * 0.45) / GLYPH_H, (width * 0.85) / (cols + 2))));
  const boxW = (cols + 2) * scale;
  const boxH = (GLYPH_H + 2) * scale;
  const x0 = Math.floor((width - boxW) / 2);
  const y0 = top + Math.floor((bottom - top - boxH) / 2);
  fillRect(bytes, width, Math.max(0, x0), y0, Math.min(width, x0 + boxW), y0 + boxH, 0, 0, 0);
  for (let c = 0; c < text.length; c++) {
    const glyph = DIGITS[text.charCodeAt(c) - 48];
    if (glyph === undefined) continue;
    for (let gy = 0; gy < GLYPH_H; gy++) {
      for (let gx = 0; gx < GLYPH_W; gx++) {
        if (glyph[gy]?.[gx] !== "#") continue;
        const px = x0 + (1 + c * GLYPH_ADVANCE + gx) * scale;
        const py = y0 + (1 + gy) * scale;
        if (px < 0 || px + scale > width) continue;
        fillRect(bytes, width, px, py, px + scale, py + scale, 255, 255, 255);
      }
    }
  }
}

/**
 * Every row is the template (green 0) with its own green level. When rows are whole 32-bit
 * words (width a multiple of 4), four pixels are three words and the green bytes sit at fixed
 * lanes of them: a row is three ORs per four pixels instead of a byte store per channel.
 */
function fillBackground(bytes: Uint8Array, template: Uint8Array, width: number, height: number, n: number): void {
  const rowBytes = width * 3;
  if (width % 4 !== 0 || bytes.byteOffset % 4 !== 0) {
    for (let y = 0; y < height; y++) {
      const start = y * rowBytes;
      bytes.set(template, start);
      const g = triangle(2 * y + 2 * n);
      for (let p = start + 1; p < start + rowBytes; p += 3) bytes[p] = g;
    }
    return;
  }
  const rowWords = rowBytes / 4;
  const template32 = new Uint32Array(template.buffer, template.byteOffset, rowWords);
  const out32 = new Uint32Array(bytes.buffer, bytes.byteOffset, rowWords * height);
  // Green bytes of four pixels (12 bytes) fall at byte 1 of word 0, bytes 0 and 3 of word 1, byte 2 of word 2.
  const lane = new Uint32Array(new Uint8Array([0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0]).buffer);
  for (let y = 0; y < height; y++) {
    const g = triangle(2 * y + 2 * n);
    const g0 = lane[0]! * g;
    const g1 = lane[1]! * g;
    const g2 = lane[2]! * g;
    let w = y * rowWords;
    for (let k = 0; k < rowWords; k += 3) {
      out32[w++] = template32[k]! | g0;
      out32[w++] = template32[k + 1]! | g1;
      out32[w++] = template32[k + 2]! | g2;
    }
  }
}

function checkPatternSize(width: number, height: number): void {
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < PATTERN_MIN_WIDTH ||
    height < PATTERN_MIN_HEIGHT
  ) {
    throw new VideoError(
      "INVALID_OPTION",
      `test pattern size must be integers of at least ${PATTERN_MIN_WIDTH}x${PATTERN_MIN_HEIGHT}, got ${width}x${height}`,
    );
  }
}

/**
 * Frame n (an integer >= 0) of the test pattern at width x height. Deterministic:
 * the same arguments give the same bytes. `captureTime` defaults to now and
 * `sequence` to n. `into`, when given, is where the pixels go (it must hold exactly
 * width x height x 3 bytes): a fresh buffer otherwise.
 */
export function renderPatternFrame(
  n: number,
  width: number,
  height: number,
  captureTime = Date.now(),
  into?: Uint8Array,
): Frame {
  checkPatternSize(width, height);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new VideoError("INVALID_OPTION", `frame number must be an integer >= 0, got ${n}`);
  const length = frameByteLength(width, height);
  if (into !== undefined && into.byteLength !== length)
    throw new VideoError("INVALID_OPTION", `a ${width}x${height} frame needs ${length} bytes, got ${into.byteLength}`);
  // Every byte is written below, so the unzeroed allocation is safe.
  const bytes = into ?? Buffer.allocUnsafe(length);
  const rowBytes = width * 3;

  // Background: blue and red vary along x and scroll; green varies along y.
  const template = new Uint8Array(rowBytes);
  const shift = n * SCROLL_PX_PER_FRAME;
  for (let x = 0; x < width; x++) {
    template[x * 3] = triangle(x + shift);
    template[x * 3 + 2] = 64 + (triangle(2 * x + 128 + shift) >> 1);
  }
  fillBackground(bytes, template, width, height, n);

  const band = patternBandHeight(height);
  // A red square bouncing left and right in the lower part.
  const side = Math.max(4, Math.round(height / 8));
  const travel = width - side;
  const phase = (n * SQUARE_PX_PER_FRAME) % (2 * travel);
  const sx = phase < travel ? phase : 2 * travel - phase;
  const sy = height - band - side - Math.round(height / 16);
  fillRect(bytes, width, sx, sy, sx + side, sy + side, 0, 0, 255);

  drawNumber(bytes, width, band, sy, n);
  const bits = patternCodeBits(n);
  drawBand(bytes, width, 0, band, bits);
  drawBand(bytes, width, height - band, band, bits);
  return createFrame(bytes, width, height, { captureTime, sequence: n });
}
