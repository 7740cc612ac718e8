/**
 * Splitting a recording into segments of `segmentSeconds` of video each, counted in
 * frames at the recording's rate (video time, not wall-clock time), so a file is
 * finalized every so often and a killed recording loses at most the last segment.
 * The one place that decides which file a frame goes into, for both writers: the
 * encoder process's (`segmented-writer.ts`) and the MJPEG pass-through's
 * (`mjpeg-segments.ts`).
 */
import { VideoError } from "../errors.js";
import { segmentPath } from "./file-names.js";

/** Frames in each segment; `null` for one file (`segmentSeconds` 0 or undefined). Throws `INVALID_OPTION` below 0. */
export function framesPerSegment(segmentSeconds: number | undefined, fps: number): number | null {
  if (segmentSeconds === undefined || segmentSeconds === 0) return null;
  if (!(segmentSeconds > 0) || !Number.isFinite(segmentSeconds)) {
    throw new VideoError(
      "INVALID_OPTION",
      `segmentSeconds must be 0 (one file) or a number above 0, got ${segmentSeconds}`,
    );
  }
  return Math.max(1, Math.round(segmentSeconds * fps));
}

export interface SegmentFile {
  /** The segment's number, `null` when the recording is one file. */
  readonly segment: number | null;
  readonly path: string;
}

/** The file that frame `frameIndex` (0, 1, ... in the order written) of a recording at `path` goes into. */
export function segmentFile(path: string, perSegment: number | null, frameIndex: number): SegmentFile {
  if (perSegment === null) return { segment: null, path };
  const segment = Math.floor(frameIndex / perSegment);
  return { segment, path: segmentPath(path, segment) };
}
