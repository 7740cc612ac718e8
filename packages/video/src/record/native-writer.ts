/**
 * The MPEG-4 Part 2 writer of native/video_writer.c (DIVX, XVID, FMP4, ... into .avi): OpenCV's settings and
 * file, at some 0.6 ms less CPU a 640x480 frame, because it converts bgr24 with libyuv and hands the encoder
 * a frame it can keep. Loaded at its first use, in the encoder process only.
 */
import { createRequire } from "node:module";
import { VideoError, type VideoErrorCode } from "../errors.js";

interface VideoWriterAddon {
  openVideoWriter(path: string, fourcc: string, fps: number, width: number, height: number): object | null;
  writeVideoFrame(handle: object, bgr: Uint8Array, stride: number): void;
  closeVideoWriter(handle: object): void;
}

const req = createRequire(import.meta.url);
let addon: VideoWriterAddon | undefined;

function videoWriterAddon(): VideoWriterAddon {
  // Built by scripts/build-native.mjs into the package's build/Release (from src/record or dist/record alike).
  addon ??= req("../../build/Release/video_writer.node") as VideoWriterAddon;
  return addon;
}

/** The addon's Error("CODE: message") as a VideoError of that code. */
function rethrow(cause: unknown, code: VideoErrorCode): never {
  const message = cause instanceof Error ? cause.message : String(cause);
  const prefix = `${code}: `;
  throw new VideoError(code, message.startsWith(prefix) ? message.slice(prefix.length) : message, { cause });
}

export interface NativeVideoWriter {
  /** One width x height bgr24 frame, `width * 3` bytes a row. Throws `VideoError` `WRITE_FAILED`. */
  write(bgr: Uint8Array): void;
  /** Drains the encoder and finalizes the file. Safe to call twice. */
  release(): void;
}

/**
 * A writer for `path`, or undefined when its container does not take `fourcc` as MPEG-4 Part 2 (OpenCV then
 * writes it). Throws `VideoError` `CODEC_UNAVAILABLE` saying what failed when the encoder or the file cannot be
 * opened.
 */
export function openNativeWriter(
  path: string,
  fourcc: string,
  fps: number,
  width: number,
  height: number,
): NativeVideoWriter | undefined {
  const native = videoWriterAddon();
  let handle: object | null;
  try {
    handle = native.openVideoWriter(path, fourcc, fps, width, height);
  } catch (cause) {
    rethrow(cause, "CODEC_UNAVAILABLE");
  }
  if (handle === null) return undefined;
  const stride = width * 3;
  return {
    write: (bgr) => {
      try {
        native.writeVideoFrame(handle, bgr, stride);
      } catch (cause) {
        rethrow(cause, "WRITE_FAILED");
      }
    },
    release: () => {
      try {
        native.closeVideoWriter(handle);
      } catch (cause) {
        rethrow(cause, "WRITE_FAILED");
      }
    },
  };
}
