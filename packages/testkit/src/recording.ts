// Recordings of the test pattern judged frame by frame from their pixels. The pattern codes
// the frame number in its top and bottom rows; a frame is compared with the regenerated
// source frame band by band (horizontal strips), because a tear (part of another frame)
// or a hole (a lost packet) lowers a few bands a lot, coding noise lowers all a little.
import { spawnSync } from "node:child_process";
import {
  createFrame,
  encodeJpeg,
  openJpegSource,
  openRecorder,
  openVideoFile,
  renderPatternFrame,
  type Frame,
} from "@udpcam/video";
import { inspectPatternFrame, psnr } from "@udpcam/video/testing";

/**
 * A band from another frame of the test pattern scores at most 9 dB (measured over
 * consecutive frames at 640x480 and 320x240); DIVX and JPEG noise on an intact frame
 * stays above 23 dB. Between the two: intact.
 */
export const INTACT_MIN_PSNR = 18;

/** Bands per frame by default: one of the seed's 20 datagrams of a 640x480 frame is exactly one band. */
export const DEFAULT_BANDS = 20;

export interface RecordedFrame {
  /** Frame number read from the pixels' code bands (top and bottom agree), or undefined. */
  readonly number: number | undefined;
  /** The code bands disagree: parts of different source frames. */
  readonly torn: boolean;
  /** PSNR (dB) against the regenerated source frame in the worst band; 0 without a number. */
  readonly worstBandPsnr: number;
  /** ...and in the median band. */
  readonly medianBandPsnr: number;
}

export interface InspectOptions {
  /** Rows per band; default a twentieth of the height (`DEFAULT_BANDS`). */
  readonly bandRows?: number;
  /**
   * A missing file is no frames, and a file cut short (a peer killed before it finalized)
   * is the frames that decoded; by default both throw.
   */
  readonly tolerateCutOff?: boolean;
}

function band(frame: Frame, index: number, rows: number): Frame {
  const stride = frame.width * 3;
  return createFrame(frame.bytes.subarray(index * rows * stride, (index + 1) * rows * stride), frame.width, rows);
}

/** PSNR of each band of `rows` rows, top to bottom. */
export function bandPsnrs(frame: Frame, expected: Frame, rows = Math.floor(frame.height / DEFAULT_BANDS)): number[] {
  const scores: number[] = [];
  for (let i = 0; i < Math.floor(frame.height / rows); i++)
    scores.push(psnr(band(frame, i, rows), band(expected, i, rows)));
  return scores;
}

/** One decoded frame of a recording against the test-pattern frame it should be. */
export function inspectFrame(frame: Frame, bandRows?: number): RecordedFrame {
  const { top, bottom, torn } = inspectPatternFrame(frame);
  const number = top !== undefined && top === bottom ? top : undefined;
  if (number === undefined) return { number, torn, worstBandPsnr: 0, medianBandPsnr: 0 };
  const sorted = bandPsnrs(frame, renderPatternFrame(number, frame.width, frame.height), bandRows).sort(
    (a, b) => a - b,
  );
  return { number, torn, worstBandPsnr: sorted[0] ?? 0, medianBandPsnr: sorted[sorted.length >> 1] ?? 0 };
}

/** Decodes a whole recording and inspects every frame. */
export async function inspectRecording(path: string, options: InspectOptions = {}): Promise<RecordedFrame[]> {
  let source;
  try {
    source = await openVideoFile(path, { pace: "asap" });
  } catch (error) {
    if (options.tolerateCutOff === true) return [];
    throw error;
  }
  const frames: RecordedFrame[] = [];
  try {
    for await (const frame of source) frames.push(inspectFrame(frame, options.bandRows));
  } catch (error) {
    if (options.tolerateCutOff !== true) throw error;
  } finally {
    await source.close();
  }
  return frames;
}

/** Whole and the right pixels: the numbers agree, nothing torn, every band above `INTACT_MIN_PSNR`. */
export function isIntact(frame: RecordedFrame): boolean {
  return frame.number !== undefined && !frame.torn && frame.worstBandPsnr > INTACT_MIN_PSNR;
}

/** How a recording of the test pattern compares with what was sent. */
export interface RecordingVerdict {
  readonly recorded: number;
  /** Frames that are `isIntact`. */
  readonly intact: number;
  readonly torn: number;
  /** Frames recorded more than once. */
  readonly repeated: number;
  /** Frame numbers not strictly increasing somewhere. */
  readonly outOfOrder: number;
}

export function judgeRecording(frames: readonly RecordedFrame[]): RecordingVerdict {
  const seen = new Set<number>();
  let intact = 0;
  let torn = 0;
  let repeated = 0;
  let outOfOrder = 0;
  let previous = -1;
  for (const frame of frames) {
    if (frame.torn) torn++;
    if (frame.number === undefined) continue;
    if (seen.has(frame.number)) repeated++;
    seen.add(frame.number);
    if (frame.number <= previous) outOfOrder++;
    previous = frame.number;
    if (isIntact(frame)) intact++;
  }
  return { recorded: frames.length, intact, torn, repeated, outOfOrder };
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

/** Splits a recording where frame numbers fall back (a new stream started at 0). */
export function runsOf(numbers: readonly (number | undefined)[]): number[][] {
  const runs: number[][] = [];
  let current: number[] = [];
  for (const n of numbers) {
    if (n === undefined) continue;
    const last = current[current.length - 1];
    if (last !== undefined && n <= last) {
      runs.push(current);
      current = [];
    }
    current.push(n);
  }
  if (current.length > 0) runs.push(current);
  return runs;
}

/** How the JPEGs stored in an MJPG recording compare, byte for byte, with what the sender sent. */
export interface JpegBytesVerdict {
  /** Stored JPEGs equal to the expected JPEG of the number read from that frame's pixels. */
  readonly same: number;
  /** ...not equal to it, or stored without a decodable frame in `frames` (or the other way round). */
  readonly differ: number;
  /** Frames whose number could not be read from their pixels. */
  readonly unnumbered: number;
}

/** The JPEG that a sender at `quality` makes of test-pattern frame `n` (`--source test --codec jpeg`). */
export function patternJpeg(n: number, width: number, height: number, quality: number): Uint8Array {
  return encodeJpeg(renderPatternFrame(n, width, height), quality);
}

/**
 * Reads the JPEGs stored in the MJPG recording at `path` and compares each, byte for byte, with
 * `expected(n)`, n the number its frame in `frames` (that recording's `inspectRecording`, same
 * order) reads from its pixels. A recording that does not store JPEG throws.
 */
export async function compareRecordedJpegs(
  path: string,
  frames: readonly RecordedFrame[],
  expected: (n: number) => Uint8Array,
): Promise<JpegBytesVerdict> {
  const source = await openJpegSource({ kind: "file", path }, { pace: "asap" });
  if (source === undefined) throw new Error(`${path} does not store JPEG`);
  let same = 0;
  let differ = 0;
  let unnumbered = 0;
  let index = 0;
  try {
    for await (const packet of source) {
      const number = frames[index++]?.number;
      if (number === undefined) unnumbered++;
      else if (Buffer.from(packet.jpeg.buffer, packet.jpeg.byteOffset, packet.jpeg.length).equals(expected(number)))
        same++;
      else differ++;
    }
  } finally {
    await source.close();
  }
  return { same, differ: differ + Math.abs(frames.length - index), unnumbered };
}

/** A clip of test-pattern frames 0..frames-1 (MJPG AVI), as a source every sender can read. */
export async function writePatternClip(
  path: string,
  options: { readonly width: number; readonly height: number; readonly frames: number; readonly fps?: number },
): Promise<void> {
  const recorder = await openRecorder(path, { fourcc: "MJPG", fps: options.fps ?? 25 });
  try {
    for (let n = 0; n < options.frames; n++) await recorder.write(renderPatternFrame(n, options.width, options.height));
  } finally {
    await recorder.close();
  }
}

/** Frames counted by decoding the whole file, as a player would (ffprobe). */
export function ffprobeFrameCount(path: string): number {
  const probe = spawnSync(
    "ffprobe",
    [
      "-v",
      "error",
      "-count_frames",
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=nb_read_frames",
      "-of",
      "csv=p=0",
      path,
    ],
    { encoding: "utf8" },
  );
  if (probe.status !== 0) throw new Error(`ffprobe cannot read ${path}: ${probe.stderr}`);
  return Number(probe.stdout.trim());
}

/** The video's frame rate as ffprobe reads it from the file's header, as a fraction: "30/1", "30000/1001". */
export function ffprobeFrameRate(path: string): string {
  const probe = spawnSync(
    "ffprobe",
    ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=r_frame_rate", "-of", "csv=p=0", path],
    { encoding: "utf8" },
  );
  if (probe.status !== 0) throw new Error(`ffprobe cannot read ${path}: ${probe.stderr}`);
  return probe.stdout.trim();
}
