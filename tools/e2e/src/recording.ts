import { openVideoFile, renderPatternFrame, createFrame, type Frame } from "@udpcam/video";
import { inspectPatternFrame, psnr } from "@udpcam/video/testing";

export interface RecordedFrame {
  /** Frame number read from the pixels' code bands (top and bottom agree), or undefined. */
  readonly number: number | undefined;
  /** The code bands disagree: parts of different source frames. */
  readonly torn: boolean;
  /**
   * PSNR (dB) against the regenerated source frame, in the worst of 20 horizontal
   * bands: a frame torn anywhere (one of the original 20 datagrams from another
   * frame) scores far lower there than compression noise does.
   */
  readonly worstBandPsnr: number;
}

const BANDS = 20;

/**
 * A band from another frame of the test pattern scores at most 9 dB (measured
 * over consecutive frames at 640x480 and 320x240); DIVX and JPEG noise on an
 * intact frame stays above 23 dB. Between the two: intact.
 */
export const INTACT_MIN_PSNR = 18;

function band(frame: Frame, index: number): Frame {
  const rows = Math.floor(frame.height / BANDS);
  const stride = frame.width * 3;
  return createFrame(frame.bytes.subarray(index * rows * stride, (index + 1) * rows * stride), frame.width, rows);
}

export function worstBandPsnr(a: Frame, b: Frame): number {
  let worst = Infinity;
  for (let i = 0; i < BANDS; i++) worst = Math.min(worst, psnr(band(a, i), band(b, i)));
  return worst;
}

/** Decodes a whole recording and checks every frame against the test pattern it should be. */
export async function inspectRecording(path: string): Promise<RecordedFrame[]> {
  const source = await openVideoFile(path, { pace: "asap" });
  const frames: RecordedFrame[] = [];
  try {
    for await (const frame of source) {
      const { top, bottom, torn } = inspectPatternFrame(frame);
      const number = top !== undefined && top === bottom ? top : undefined;
      const expected = number === undefined ? undefined : renderPatternFrame(number, frame.width, frame.height);
      frames.push({ number, torn, worstBandPsnr: expected === undefined ? 0 : worstBandPsnr(frame, expected) });
    }
  } finally {
    await source.close();
  }
  return frames;
}

/** Frame numbers strictly increasing (allowing gaps), as a recording in send order must be. */
export function isStrictlyIncreasing(numbers: readonly (number | undefined)[]): boolean {
  for (let i = 1; i < numbers.length; i++) {
    const previous = numbers[i - 1];
    const current = numbers[i];
    if (previous === undefined || current === undefined || current <= previous) return false;
  }
  return true;
}
