/**
 * The sender's RTP/JPEG (RFC 2435) branch: every frame as a baseline JPEG (a source's own JPEG
 * passed through, or the pixels encoded at --quality), cut into RTP packets with Q 255 and the
 * tables in-band, a random SSRC and first sequence number, and 90 kHz timestamps from the
 * capture time. What RFC 2435 cannot carry is refused with one line naming the limit.
 */
import { randomInt } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { UserError } from "@udpcam/appkit";
import {
  RTP_JPEG_MAX_SIDE,
  packetizeRtpJpeg,
  rtpJpegSdp,
  rtpTimestamp,
  serial16Add,
  type RtpJpegSdpOptions,
} from "@udpcam/protocol";
import { decodeJpegAsync, encodeJpegAsync, resizeFrameAsync, type JpegFrame } from "@udpcam/video";
import type { SenderConfig } from "./config.js";
import type { EncoderContext, FrameEncoder } from "./encoder.js";
import { jpegReencoder } from "./reencode.js";

/** A side RFC 2435 carries: 8 to 2040 pixels in steps of 8. */
export function rtpSideProblem(width: number, height: number): string | undefined {
  for (const [name, side] of [
    ["width", width],
    ["height", height],
  ] as const) {
    if (side < 8 || side > RTP_JPEG_MAX_SIDE || side % 8 !== 0) {
      return `frames of ${width}x${height}: RTP/JPEG carries sides from 8 to ${RTP_JPEG_MAX_SIDE} pixels in steps of 8 (${name} ${side}); set --width and --height to such a size, e.g. --width 640 --height 480`;
    }
  }
  return undefined;
}

export function rtpEncoder(config: SenderConfig, context: EncoderContext): FrameEncoder {
  const ssrc = context.streamId;
  const clockBase = randomInt(0, 2 ** 32);
  let sequence = randomInt(0, 2 ** 16);
  if (config.codec === "raw")
    context.logger.info(
      `--protocol rtp carries JPEG (RFC 2435): frames are JPEG-encoded at quality ${config.quality} (--codec jpeg implied)`,
    );
  const packetize = (jpeg: Uint8Array, captureTime: number, what: string): Uint8Array[] => {
    try {
      return packetizeRtpJpeg(
        { ssrc, sequence, timestamp: rtpTimestamp(captureTime, clockBase), jpeg },
        { maxDatagramBytes: context.datagramSize },
      );
    } catch (error) {
      if (error instanceof RangeError && error.message.startsWith("jpeg:"))
        throw new UserError(`--protocol rtp: ${what} ${error.message.slice(5).trim()}`);
      throw error;
    }
  };
  const reencode = jpegReencoder(config.quality, context.logger);
  let reencoding = false;
  /**
   * A source's own JPEG as it is (or re-encoded at --quality with --jpeg-passthrough off, same sampling), or
   * undefined (said once) when RFC 2435 cannot carry it: it is then decoded and encoded again through BGR.
   */
  const passThrough = async (input: JpegFrame): Promise<Uint8Array[] | undefined> => {
    if (reencoding) return undefined;
    const jpeg = config.jpegPassthrough === "off" ? await reencode(input) : input.jpeg;
    if (jpeg === undefined) return [];
    try {
      return packetize(jpeg, input.captureTime, "the source's own JPEG is");
    } catch (error) {
      if (!UserError.isInstance(error)) throw error;
      reencoding = true;
      context.logger.info(
        `${error.message}: decoding the source's JPEGs and encoding them again at quality ${config.quality}`,
      );
      return undefined;
    }
  };
  return {
    async encode(input) {
      let packets: Uint8Array[];
      const passed = "kind" in input ? await passThrough(input) : undefined;
      if (passed !== undefined) {
        if (config.jpegPassthrough !== "off") context.onPassedThrough();
        packets = passed;
      } else {
        let pixels = "kind" in input ? await decodeJpegAsync(input.jpeg, { captureTime: input.captureTime }) : input;
        if (
          config.width !== undefined &&
          config.height !== undefined &&
          (pixels.width !== config.width || pixels.height !== config.height)
        ) {
          pixels = await resizeFrameAsync(pixels, config.width, config.height);
          context.onScaled();
        }
        const problem = rtpSideProblem(pixels.width, pixels.height);
        if (problem !== undefined) throw new UserError(`--protocol rtp: ${problem}`);
        packets = packetize(await encodeJpegAsync(pixels, config.quality), pixels.captureTime, "the encoded JPEG is");
      }
      sequence = serial16Add(sequence, packets.length);
      return packets;
    },
  };
}

/** Writes the SDP that players open for this stream (--sdp). A path that cannot be written is the user's to fix. */
export async function writeSdpFile(path: string, options: RtpJpegSdpOptions): Promise<void> {
  try {
    await writeFile(path, rtpJpegSdp(options));
  } catch (error) {
    throw new UserError(`--sdp: cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
      cause: error,
    });
  }
}
