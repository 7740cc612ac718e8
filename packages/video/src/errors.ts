/**
 * The package's one error type. `code` is stable: apps switch on it to turn a
 * user's mistake into one clear line (and exit code 2); the message is for people.
 */
export type VideoErrorCode =
  /** No camera at the requested index (or it cannot be opened). */
  | "CAMERA_NOT_FOUND"
  /** A video file path that does not exist. */
  | "FILE_NOT_FOUND"
  /** A file that exists but cannot be opened or decoded as video. */
  | "FILE_UNREADABLE"
  /** A network camera (RTSP, HTTP) that does not answer, or answers with no video, within the timeout. */
  | "SOURCE_UNREACHABLE"
  /** A fourcc this package does not offer (see `SUPPORTED_FOURCCS`). */
  | "CODEC_UNSUPPORTED"
  /** A supported fourcc/container pair that OpenCV's FFmpeg cannot open here. */
  | "CODEC_UNAVAILABLE"
  /** The recording's folder is missing or not writable, or the path is a folder. */
  | "OUTPUT_NOT_WRITABLE"
  /** A frame whose size differs from what the receiver of the frame expects. */
  | "FRAME_SIZE_MISMATCH"
  /** A frame whose fields are inconsistent (bytes length, format, size). */
  | "INVALID_FRAME"
  /** An option out of range (quality, fps, size, ...). */
  | "INVALID_OPTION"
  /** Bytes that are not a decodable JPEG. */
  | "JPEG_INVALID"
  /** `display: 'on'` asked for a window but no X display answers. */
  | "DISPLAY_UNAVAILABLE"
  /** Use of a source, recorder or display after `close()`. */
  | "CLOSED"
  /** OpenCV failed while writing a frame to the recording. */
  | "WRITE_FAILED";

const MARKER = Symbol.for("@udpcam/video/VideoError");

export class VideoError extends Error {
  readonly code: VideoErrorCode;
  /** Marks instances so `isInstance` works across two installed copies of this package. */
  readonly [MARKER] = true;

  constructor(code: VideoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "VideoError";
    this.code = code;
  }

  static isInstance(value: unknown): value is VideoError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** OpenCV's binding throws strings as well as Errors; this gives one line either way. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}

/** A promise rejected with what a synchronous step threw (an `Error`, as everything here throws), for functions that return promises without being `async`. */
export function rejectedWith(thrown: unknown): Promise<never> {
  return Promise.reject(thrown instanceof Error ? thrown : new Error(String(thrown)));
}
