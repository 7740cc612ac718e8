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

/** `--fourcc auto`: the fourcc is chosen per stream by `chooseFourcc`. */
export const AUTO_FOURCC = "auto";

/**
 * The fourcc `auto` stands for, for a stream of this codec into this file: a JPEG stream
 * is kept as JPEG (`MJPG`: stored as it arrives in `.avi`, where nothing is decoded or
 * encoded), a raw one is encoded like the seed (`DIVX`), each where the container takes
 * it, else the container's first codec (`.mp4`: `mp4v`). A fourcc other than `auto` is
 * returned as it is.
 */
export function chooseFourcc(path: string, fourcc: string, codec: "jpeg" | "raw-bgr24"): string {
  if (fourcc !== AUTO_FOURCC) return fourcc;
  const takes = SUPPORTED_FOURCCS[extname(path).toLowerCase()] ?? [];
  const wanted = codec === "jpeg" ? "MJPG" : DEFAULT_FOURCC;
  if (takes.includes(wanted)) return wanted;
  if (takes.includes(DEFAULT_FOURCC)) return DEFAULT_FOURCC;
  return takes[0] ?? DEFAULT_FOURCC;
}

/** `MJPG` into an `.avi` file stores JPEG frames as they arrive (the MJPEG AVI writer): no decode, no encode. */
export function recordingStoresJpeg(options: { readonly path: string; readonly fourcc: string }): boolean {
  return options.fourcc === "MJPG" && extname(options.path).toLowerCase() === ".avi";
}

/** Throws `CODEC_UNSUPPORTED` unless the path's container takes the fourcc (`SUPPORTED_FOURCCS`). */
export function checkContainer(path: string, fourcc: string): void {
  const ext = extname(path).toLowerCase();
  const fourccs = SUPPORTED_FOURCCS[ext];
  if (fourccs === undefined) {
    throw new VideoError(
      "CODEC_UNSUPPORTED",
      `cannot record to ${path}: use a file ending in ${Object.keys(SUPPORTED_FOURCCS).join(", ")}`,
    );
  }
  if (!fourccs.includes(fourcc)) {
    throw new VideoError(
      "CODEC_UNSUPPORTED",
      `fourcc '${fourcc}' is not supported in ${ext} files; use one of ${fourccs.join(", ")}`,
    );
  }
}
