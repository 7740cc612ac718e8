// Recordings classified by their pixels with testkit's inspection (as tools/e2e does). Band
// height depends on the recording:
// - DIVX (udpcam, the seed): 20 bands, as tools/e2e. A seed tear is one 46,080-byte slot, exactly
//   one band (<= 9 dB). Thinner bands do not work on DIVX: its noise alone drops some 2-row
//   bands of an intact 1280x720 frame to 16 dB.
// - lossless (GStreamer's receiver records raw BGR): 2-row bands, to see the hole that one lost
//   1,400-byte RTP packet leaves (its depayloaders emit frames with holes). Intact frames score
//   21 dB or more there (the clip's own MJPG noise), holes 5 to 18 dB; a hole that happens to
//   score higher is counted intact, in the peer's favour.
import { INTACT_MIN_PSNR, inspectRecording, type RecordedFrame } from "@udpcam/testkit";

export interface Classified {
  readonly recorded: number;
  readonly intact: number;
  /** Recorded but not intact: parts of different frames, or pixels that match no source frame. */
  readonly torn: number;
  /** Distinct source frame numbers recorded intact. */
  readonly distinctIntact: number;
}

const LOSSLESS_BAND_ROWS = 2;
/** A band this far below the frame's median band is a hole, not coding noise. */
const HOLE_BELOW_MEDIAN_DB = 8;

/**
 * Looser than testkit's `isIntact` (every band above the threshold), so that the peers'
 * coding noise is not counted against them: a tear or a hole lowers a few bands a lot
 * below the rest, coding noise lowers all a little.
 */
export function looksIntact(frame: RecordedFrame): boolean {
  if (frame.torn || frame.number === undefined) return false;
  const { worstBandPsnr: worst, medianBandPsnr: median } = frame;
  return median >= INTACT_MIN_PSNR && !(worst < INTACT_MIN_PSNR && worst < median - HOLE_BELOW_MEDIAN_DB);
}

/** Decodes a whole recording (a missing, empty or cut-off file counts as the frames that decode). */
export async function classifyRecording(path: string, lossless: boolean): Promise<Classified> {
  const frames = await inspectRecording(path, {
    tolerateCutOff: true,
    ...(lossless ? { bandRows: LOSSLESS_BAND_ROWS } : {}),
  });
  const intact = frames.filter(looksIntact);
  return {
    recorded: frames.length,
    intact: intact.length,
    torn: frames.length - intact.length,
    distinctIntact: new Set(intact.map((frame) => frame.number)).size,
  };
}
