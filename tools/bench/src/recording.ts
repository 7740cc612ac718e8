// Frames classified by their pixels, like tools/e2e/src/recording.ts (that package is
// test-only and not built): the test pattern encodes the frame number in its top and bottom
// rows; a frame is intact when both agree and no horizontal band is far from the regenerated
// source frame. Band height depends on the recording:
// - DIVX (udpcam, the seed): 20 bands, as tools/e2e. A seed tear is one 46,080-byte slot, exactly
//   one band (<= 9 dB). Thinner bands do not work on DIVX: its noise alone drops some 2-row
//   bands of an intact 1280x720 frame to 16 dB.
// - lossless (GStreamer's receiver records raw BGR): 2-row bands, to see the hole that one lost
//   1,400-byte RTP packet leaves (its depayloaders emit frames with holes). Intact frames score
//   21 dB or more there (the clip's own MJPG noise), holes 5 to 18 dB; a hole that happens to
//   score higher is counted intact, in the peer's favour.
import { createFrame, openRecorder, openVideoFile, renderPatternFrame, type Frame } from "@udpcam/video";
import { inspectPatternFrame, psnr } from "@udpcam/video/testing";

/** Same threshold as tools/e2e: a band from another frame scores at most 9 dB, DIVX/JPEG noise stays above 23 dB. */
export const INTACT_MIN_PSNR = 18;

export interface Classified {
  readonly recorded: number;
  readonly intact: number;
  /** Recorded but not intact: parts of different frames, or pixels that match no source frame. */
  readonly torn: number;
  /** Distinct source frame numbers recorded intact. */
  readonly distinctIntact: number;
}

function band(frame: Frame, index: number, rows: number): Frame {
  const stride = frame.width * 3;
  return createFrame(frame.bytes.subarray(index * rows * stride, (index + 1) * rows * stride), frame.width, rows);
}

/** A band this far below the frame's median band is a hole, not coding noise. */
const HOLE_BELOW_MEDIAN_DB = 8;

function isIntact(frame: Frame, lossless: boolean): { intact: boolean; number: number | undefined } {
  const { top, bottom, torn } = inspectPatternFrame(frame);
  if (torn || top === undefined || top !== bottom) return { intact: false, number: undefined };
  const expected = renderPatternFrame(top, frame.width, frame.height);
  const scores: number[] = [];
  const rows = lossless ? 2 : Math.floor(frame.height / 20);
  for (let i = 0; i < Math.floor(frame.height / rows); i++) scores.push(psnr(band(frame, i, rows), band(expected, i, rows)));
  const sorted = [...scores].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1] ?? 0;
  const worst = sorted[0] ?? 0;
  // A tear or a hole lowers a few bands a lot below the rest; coding noise lowers all a little.
  const intact = median >= INTACT_MIN_PSNR && !(worst < INTACT_MIN_PSNR && worst < median - HOLE_BELOW_MEDIAN_DB);
  return { intact, number: top };
}

/** Decodes a whole recording (a missing or empty file counts as no frames). */
export async function classifyRecording(path: string, lossless: boolean): Promise<Classified> {
  let recorded = 0;
  let intact = 0;
  const numbers = new Set<number>();
  let source;
  try {
    source = await openVideoFile(path, { pace: "asap" });
  } catch {
    return { recorded: 0, intact: 0, torn: 0, distinctIntact: 0 };
  }
  try {
    for await (const frame of source) {
      recorded++;
      const result = isIntact(frame, lossless);
      if (result.intact && result.number !== undefined) {
        intact++;
        numbers.add(result.number);
      }
    }
  } catch {
    // a recording cut short (a peer killed before finalizing): count what decoded
  } finally {
    await source.close();
  }
  return { recorded, intact, torn: recorded - intact, distinctIntact: numbers.size };
}

/** The shared input: a test-pattern clip (MJPG AVI) that every sender reads and decodes. */
export async function writePatternClip(path: string, width: number, height: number, frames: number): Promise<void> {
  const recorder = await openRecorder(path, { fourcc: "MJPG", fps: 25 });
  try {
    for (let n = 0; n < frames; n++) await recorder.write(renderPatternFrame(n, width, height));
  } finally {
    await recorder.close();
  }
}
