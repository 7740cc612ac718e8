import type { Logger } from "@udpcam/appkit";
import { LEGACY_FRAME_HEIGHT, LEGACY_FRAME_WIDTH, packetizeFrame, packetizeLegacyFrame } from "@udpcam/protocol";
import { createHmacAuthenticator } from "@udpcam/protocol/node";
import { encodeJpegAsync, resizeFrameAsync, type Frame } from "@udpcam/video";
import type { SenderConfig } from "./config.js";

export interface FrameEncoder {
  /** One source frame in, the datagrams that carry it out (scaling and JPEG run off the event loop). */
  encode(frame: Frame): Promise<Uint8Array[]>;
}

export interface EncoderContext {
  readonly streamId: number;
  readonly datagramSize: number;
  readonly fec: number;
  readonly fps: number;
  readonly logger: Logger;
  readonly onScaled: () => void;
}

export function createFrameEncoder(config: SenderConfig, context: EncoderContext): FrameEncoder {
  return config.protocol === "legacy" ? legacyEncoder(context) : v1Encoder(config, context);
}

function legacyEncoder(context: EncoderContext): FrameEncoder {
  let noticed = false;
  return {
    async encode(frame) {
      if (frame.width !== LEGACY_FRAME_WIDTH || frame.height !== LEGACY_FRAME_HEIGHT) {
        if (!noticed) {
          context.logger.warn(`the legacy protocol carries only ${LEGACY_FRAME_WIDTH}x${LEGACY_FRAME_HEIGHT} frames: scaling ${frame.width}x${frame.height} frames to that size`);
          noticed = true;
        }
        context.onScaled();
        frame = await resizeFrameAsync(frame, LEGACY_FRAME_WIDTH, LEGACY_FRAME_HEIGHT);
      }
      return packetizeLegacyFrame(frame.bytes);
    },
  };
}

function v1Encoder(config: SenderConfig, context: EncoderContext): FrameEncoder {
  const authenticator = config.key === undefined ? undefined : createHmacAuthenticator(config.key);
  let frameNumber = 0;
  return {
    async encode(frame) {
      if (config.width !== undefined && config.height !== undefined && (frame.width !== config.width || frame.height !== config.height)) {
        frame = await resizeFrameAsync(frame, config.width, config.height);
        context.onScaled();
      }
      const payload = config.codec === "jpeg" ? await encodeJpegAsync(frame, config.quality) : frame.bytes;
      const datagrams = packetizeFrame(
        {
          streamId: context.streamId,
          frameNumber,
          codec: config.codec === "jpeg" ? "jpeg" : "raw-bgr24",
          width: frame.width,
          height: frame.height,
          fps: context.fps,
          timestampMs: frame.captureTime,
          payload,
        },
        { maxDatagramBytes: context.datagramSize, fecOverhead: context.fec, authenticator },
      );
      frameNumber = (frameNumber + 1) >>> 0;
      return datagrams;
    },
  };
}
