/** One entry point for apps: a source named by a string (`test`, a camera index, a URL, a file path). */
import { VideoError } from "../errors.js";
import { openCamera } from "./camera.js";
import type { JpegSource } from "./jpeg-frame.js";
import { openJpegFile } from "./jpeg-file.js";
import { openNetworkCamera, openNetworkJpegCamera, type NetworkCameraEvent } from "./network-camera.js";
import type { FrameSource, Pace } from "./source.js";
import { openTestPattern } from "./test-pattern.js";
import { isNetworkUrl } from "./url.js";
import { openVideoFile } from "./video-file.js";

export type SourceSpec =
  | { readonly kind: "camera"; readonly index: number }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "network"; readonly url: string }
  | { readonly kind: "test" };

/** `"test"` -> test pattern; digits (`"0"`) -> camera index; rtsp:// or http(s):// -> network camera; anything else -> a file path. */
export function parseSourceSpec(text: string): SourceSpec {
  const trimmed = text.trim();
  if (trimmed === "")
    throw new VideoError("INVALID_OPTION", "source must be 'test', a camera index like 0, or a video file path");
  if (trimmed === "test") return { kind: "test" };
  if (/^\d+$/.test(trimmed)) return { kind: "camera", index: Number(trimmed) };
  if (isNetworkUrl(trimmed)) return { kind: "network", url: trimmed };
  return { kind: "file", path: text };
}

export interface SourceOptions {
  /** Size for the test pattern; what to ask a camera for. Ignored for files. */
  readonly width?: number;
  readonly height?: number;
  /** Rate for the test pattern; what to ask a camera for; playback rate for a file. */
  readonly fps?: number;
  /** For the test pattern and files; cameras set their own pace. */
  readonly pace?: Pace;
  /** Test pattern only: stop after this many frames. */
  readonly frames?: number;
  /** Test pattern and files: pixels into this many buffers in turn (see `TestPatternOptions.reuseBuffers`). */
  readonly reuseBuffers?: number;
  /** Network cameras: bound on opening (and on a silent socket). Default 10 s. */
  readonly timeoutMs?: number;
  /** Network cameras: told when the camera drops (once per outage) and when it is back. */
  readonly onEvent?: (event: NetworkCameraEvent) => void;
}

/** Opens whichever source `spec` names (a string is parsed with `parseSourceSpec`). */
export async function openSource(spec: SourceSpec | string, options: SourceOptions = {}): Promise<FrameSource> {
  const parsed = typeof spec === "string" ? parseSourceSpec(spec) : spec;
  switch (parsed.kind) {
    case "test":
      return await openTestPattern(options);
    case "camera":
      return await openCamera(parsed.index, options);
    case "file":
      return await openVideoFile(parsed.path, options);
    case "network":
      return await openNetworkCamera(parsed.url, options);
  }
}

/**
 * The source as its JPEG bytes, when it already delivers JPEG (an MJPG file, an MJPEG or
 * RTP/JPEG network camera) and OpenCV hands them over (raw mode); undefined otherwise (the
 * test pattern, other codecs), and the caller opens it with `openSource`.
 */
export async function openJpegSource(spec: SourceSpec, options: SourceOptions = {}): Promise<JpegSource | undefined> {
  switch (spec.kind) {
    case "file":
      return await openJpegFile(spec.path, options);
    case "network":
      return await openNetworkJpegCamera(spec.url, options);
    case "camera":
    case "test":
      return undefined;
  }
}
