/**
 * The sender's source: opened from --source, as JPEG bytes when they can be passed through
 * (--codec jpeg with v1, or rtp; no resize; a source that delivers JPEG), else as decoded frames. Network
 * cameras report their outages here, once each, and count their reconnections.
 */
import { UserError, type Logger } from "@udpcam/appkit";
import {
  VideoError,
  openJpegSource,
  openSource,
  type FrameSource,
  type JpegSource,
  type NetworkCameraEvent,
} from "@udpcam/video";
import type { SenderConfig } from "./config.js";

const VIDEO_USER_ERRORS = new Set([
  "CAMERA_NOT_FOUND",
  "FILE_NOT_FOUND",
  "FILE_UNREADABLE",
  "INVALID_OPTION",
  "SOURCE_UNREACHABLE",
]);

export interface SenderSource {
  readonly source: FrameSource | JpegSource;
  /** The source's JPEG bytes go out as they are. */
  readonly passthrough: boolean;
  /** The source's JPEG bytes are re-encoded at --quality (--jpeg-passthrough off), never leaving YCbCr. */
  readonly reencode: boolean;
  /** Outages of a network camera it came back from. */
  reconnects(): number;
}

export async function openSenderSource(config: SenderConfig, logger: Logger): Promise<SenderSource> {
  let reconnects = 0;
  const onEvent = (event: NetworkCameraEvent): void => {
    if (event.type === "lost") {
      logger.warn(
        { source: event.url },
        `source ${event.url} stopped sending: reconnecting (with backoff, until it is back or the sender stops)`,
      );
    } else {
      reconnects++;
      logger.info(
        { source: event.url, attempts: event.attempts, outageMs: Math.round(event.outageMs) },
        `source ${event.url} is back after ${(event.outageMs / 1000).toFixed(1)} s (${event.attempts} attempts)`,
      );
    }
  };
  const size =
    config.source.kind === "file" || config.source.kind === "network"
      ? {}
      : { width: config.width ?? 640, height: config.height ?? 480 };
  const options = {
    ...size,
    ...(config.fps === undefined ? {} : { fps: config.fps }),
    pace: "realtime" as const,
    // The pump reads one frame ahead and is done with a frame before it reads the one after: two buffers do.
    reuseBuffers: 2,
    timeoutMs: config.sourceTimeout * 1000,
    onEvent,
  };
  try {
    if (wantsJpegSource(config)) {
      const jpeg = await openJpegSource(config.source, options);
      if (
        jpeg !== undefined &&
        (config.width === undefined || (config.width === jpeg.width && config.height === jpeg.height))
      ) {
        const passthrough = config.jpegPassthrough === "auto";
        return { source: jpeg, passthrough, reencode: !passthrough, reconnects: () => reconnects };
      }
      await jpeg?.close();
    }
    return {
      source: await openSource(config.source, options),
      passthrough: false,
      reencode: false,
      reconnects: () => reconnects,
    };
  } catch (error) {
    if (VideoError.isInstance(error) && VIDEO_USER_ERRORS.has(error.code))
      throw new UserError(`--source: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * A source's own JPEG is wanted when JPEG goes out and nothing is resized: sent as it is (--jpeg-passthrough
 * auto), or re-encoded at --quality from its YCbCr samples (off), which costs a third of decoding to BGR and
 * encoding that again.
 */
function wantsJpegSource(config: SenderConfig): boolean {
  return (
    // RTP/JPEG always carries JPEG; the legacy format carries raw frames only.
    (config.codec === "jpeg" || config.protocol === "rtp") &&
    config.protocol !== "legacy" &&
    (config.source.kind === "file" || config.source.kind === "network")
  );
}
