/** What a recording may be: containers and fourccs, and which pairs store JPEG frames as they arrive. */
import { extname } from "node:path";
import { VideoError } from "../errors.js";

/** Containers (file extensions) and the fourccs each takes without FFmpeg complaining. */
export const SUPPORTED_FOURCCS: Readonly<Record<string, readonly string[]>> = {
  ".avi": ["DIVX", "XVID", "FMP4", "mp4v", "MJPG", "H264", "avc1"],
  ".mkv": ["DIVX", "XVID", "FMP4", "mp4v", "MJPG", "H264", "avc1"],
  ".mp4": ["mp4v", "avc1"],
  ".mov": ["DIVX", "XVID", "mp4v", "avc1"],
};

export const DEFAULT_FOURCC = "DIVX";

/** `MJPG` into an `.avi` file stores JPEG frames as they arrive (the MJPEG AVI writer): no decode, no encode. */
export function recordingStoresJpeg(options: { readonly path: string; readonly fourcc: string }): boolean {
  return options.fourcc === "MJPG" && extname(options.path).toLowerCase() === ".avi";
}

/** Throws `CODEC_UNSUPPORTED` unless the path's container takes the fourcc (`SUPPORTED_FOURCCS`). */
export function checkContainer(path: string, fourcc: string): void {
  const ext = extname(path).toLowerCase();
  const fourccs = SUPPORTED_FOURCCS[ext];
  if (fourccs === undefined) {
    throw new VideoError("CODEC_UNSUPPORTED", `cannot record to ${path}: use a file ending in ${Object.keys(SUPPORTED_FOURCCS).join(", ")}`);
  }
  if (!fourccs.includes(fourcc)) {
    throw new VideoError("CODEC_UNSUPPORTED", `fourcc '${fourcc}' is not supported in ${ext} files; use one of ${fourccs.join(", ")}`);
  }
}
