/**
 * Reading the test pattern's code bands back from a frame (possibly compressed,
 * scaled or torn): which source frame it is, and whether its top and bottom agree.
 */
import type { Frame } from "../frame.js";
import { blockStart, checkByte, PATTERN_CODE_BLOCKS, patternBandHeight } from "../source/pattern-code.js";

// A block's mean brightness must be clearly dark or clearly light to count as a bit.
const DARK_BELOW = 90;
const LIGHT_ABOVE = 165;

function readBand(frame: Frame, y0: number, rows: number): number | undefined {
  const { width, bytes } = frame;
  const ya = y0 + Math.floor(rows / 4);
  const yb = Math.max(ya + 1, y0 + Math.ceil((rows * 3) / 4));
  let word = 0;
  const bits: number[] = [];
  for (let i = 0; i < PATTERN_CODE_BLOCKS; i++) {
    const x0 = blockStart(i, width);
    const x1 = blockStart(i + 1, width);
    const quarter = Math.floor((x1 - x0) / 4);
    const xa = x0 + quarter;
    const xb = Math.max(xa + 1, x1 - quarter);
    let sum = 0;
    for (let y = ya; y < yb; y++) {
      const rowStart = (y * width + xa) * 3;
      const rowEnd = (y * width + xb) * 3;
      for (let p = rowStart; p < rowEnd; p++) sum += bytes[p] ?? 0;
    }
    const mean = sum / ((yb - ya) * (xb - xa) * 3);
    if (mean < DARK_BELOW) bits.push(0);
    else if (mean > LIGHT_ABOVE) bits.push(1);
    else return undefined;
    word = word * 2 + (bits[i] ?? 0);
  }
  const number = Math.floor(word / 256);
  return checkByte(number) === word % 256 ? number : undefined;
}

/** What the two code bands of a frame say. */
export interface PatternInspection {
  /** Frame number (mod 2^24) in the top band, if it reads and passes its check. */
  readonly top?: number;
  /** Frame number (mod 2^24) in the bottom band, if it reads and passes its check. */
  readonly bottom?: number;
  /**
   * True when the bands disagree although at least one reads: the frame mixes parts
   * of different source frames (or a band was damaged). False for a clean pattern
   * frame and for a frame with no readable band at all (not a test pattern).
   */
  readonly torn: boolean;
}

/** Reads both code bands of a (possibly compressed or rescaled) test-pattern frame. */
export function inspectPatternFrame(frame: Frame): PatternInspection {
  if (frame.width < PATTERN_CODE_BLOCKS || frame.height < 4) return { torn: false };
  const band = patternBandHeight(frame.height);
  const top = readBand(frame, 0, band);
  const bottom = readBand(frame, frame.height - band, band);
  const torn = top !== bottom && (top !== undefined || bottom !== undefined);
  return { ...(top === undefined ? {} : { top }), ...(bottom === undefined ? {} : { bottom }), torn };
}

/** The frame number (mod 2^24) of a test-pattern frame, or undefined when unreadable or torn. */
export function readPatternFrameNumber(frame: Frame): number | undefined {
  const { top, bottom } = inspectPatternFrame(frame);
  return top !== undefined && top === bottom ? top : undefined;
}
