import type { Logger } from "@udpcam/appkit";
import {
  createWindowFecEncoder,
  LEGACY_FRAME_HEIGHT,
  LEGACY_FRAME_WIDTH,
  packetizeFrame,
  packetizeFrameParts,
  packetizeLegacyFrame,
  type DatagramParts,
} from "@udpcam/protocol";
import { createKeyring, keyMaterial, type Keyring } from "@udpcam/protocol/node";
import { encodeJpegAsync, resizeFrameAsync, type Frame, type JpegFrame } from "@udpcam/video";
import type { SenderConfig } from "./config.js";
import { jpegReencoder } from "./reencode.js";
import type { FecChoice } from "./destination.js";
import { rtpEncoder } from "./rtp-encoder.js";

/**
 * A datagram to send: whole, or in two parts (a header and a view of the frame's payload, sent with one gather
 * `sendmsg`), which then borrow the frame's bytes until the send completes.
 */
export type Datagram = Uint8Array | DatagramParts;

export interface FrameEncoder {
  /**
   * One source frame in, the datagrams that carry it out (scaling and JPEG run off the event
   * loop). A `JpegFrame` (a source's own JPEG) goes out as it is, or re-encoded at --quality with
   * --jpeg-passthrough off.
   */
  encode(frame: Frame | JpegFrame): Promise<Datagram[]>;
  /** Signs or seals from the next frame on with this key (v1 with a key only; a rotation). */
  rekey?(key: Uint8Array): void;
}

export interface EncoderContext {
  readonly streamId: number;
  readonly datagramSize: number;
  readonly fec: FecChoice;
  readonly fps: number;
  readonly logger: Logger;
  readonly onScaled: () => void;
  readonly onPassedThrough: () => void;
  /** Something keeps the datagrams after their send (the retransmit store, --nack on): whole ones, never parts. */
  readonly keepsDatagrams: boolean;
}

/** Datagrams from this size on go out as header + a view of the payload (no copy); smaller ones whole. */
export const GATHER_MIN_DATAGRAM_BYTES = 4096;

export function createFrameEncoder(config: SenderConfig, context: EncoderContext): FrameEncoder {
  if (config.protocol === "rtp") return rtpEncoder(config, context);
  return config.protocol === "legacy" ? legacyEncoder(context) : v1Encoder(config, context);
}

function legacyEncoder(context: EncoderContext): FrameEncoder {
  let noticed = false;
  return {
    async encode(frame) {
      if ("kind" in frame) throw new Error("the legacy protocol carries raw frames: JPEG pass-through is for v1 only");
      if (frame.width !== LEGACY_FRAME_WIDTH || frame.height !== LEGACY_FRAME_HEIGHT) {
        if (!noticed) {
          context.logger.warn(
            `the legacy protocol carries only ${LEGACY_FRAME_WIDTH}x${LEGACY_FRAME_HEIGHT} frames: scaling ${frame.width}x${frame.height} frames to that size`,
          );
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
  const keys: Keyring | undefined = config.key === undefined ? undefined : createKeyring([keyMaterial(config.key)]);
  // With --encrypt on the payload is sealed (flag E); off, only signed (flag A), as before encryption.
  const protection =
    keys === undefined ? {} : config.encrypt === "on" ? { cipher: keys.cipher } : { authenticator: keys.authenticator };
  const reencode = jpegReencoder(config.quality, context.logger);
  let frameNumber = 0;
  const { scheme, overhead } = context.fec;
  const window =
    scheme === "window"
      ? createWindowFecEncoder({
          streamId: context.streamId,
          overhead,
          windowMs: config.latency,
          ...protection,
        })
      : undefined;
  // Tags, encryption and window FEC need each datagram whole; so does a retransmit store that keeps them. Small
  // datagrams are copied as before: a two-part send costs Node two more Buffers and an array a datagram, more
  // than copying 1-3 KB (efficiency bench, 2026-12-02 20:00 UTC: 1.83 -> 2.03 µs a datagram at 1,472 B).
  const gather =
    keys === undefined &&
    window === undefined &&
    !context.keepsDatagrams &&
    context.datagramSize >= GATHER_MIN_DATAGRAM_BYTES;
  // Whole datagrams are built in one buffer, reused from frame to frame where nothing keeps them (window FEC keeps
  // its sources for repairs, --nack its store): the pump encodes a frame only once the previous frame's sends
  // have all completed (`sendsDrained`).
  const reusable = window === undefined && !context.keepsDatagrams;
  let memory: Uint8Array | undefined;
  const allocate = (bytes: number): Uint8Array => {
    // A JPEG frame's size varies: grow with a quarter of headroom.
    if (memory === undefined || memory.length < bytes) memory = new Uint8Array(Math.ceil(bytes * 1.25));
    return memory.subarray(0, bytes);
  };
  return {
    ...(keys === undefined ? {} : { rekey: (key: Uint8Array) => keys.setKeys([key]) }),
    async encode(input) {
      let payload: Uint8Array;
      let frame: { readonly width: number; readonly height: number; readonly captureTime: number };
      if ("kind" in input) {
        frame = input;
        if (config.jpegPassthrough === "off") {
          const again = await reencode(input);
          if (again === undefined) return [];
          payload = again;
        } else {
          context.onPassedThrough();
          payload = input.jpeg;
        }
      } else {
        let pixels = input;
        if (
          config.width !== undefined &&
          config.height !== undefined &&
          (pixels.width !== config.width || pixels.height !== config.height)
        ) {
          pixels = await resizeFrameAsync(pixels, config.width, config.height);
          context.onScaled();
        }
        frame = pixels;
        payload = config.codec === "jpeg" ? await encodeJpegAsync(pixels, config.quality) : pixels.bytes;
      }
      const toSend = {
        streamId: context.streamId,
        frameNumber,
        codec: config.codec === "jpeg" || "kind" in input ? ("jpeg" as const) : ("raw-bgr24" as const),
        width: frame.width,
        height: frame.height,
        fps: context.fps,
        timestampMs: frame.captureTime,
        payload,
      };
      if (gather) {
        // The payload is not copied: the pump sends a frame's datagrams and waits for their sends to complete
        // before it reads the frame after next, the earliest a source reuses the payload's buffer.
        const parts = packetizeFrameParts(toSend, { maxDatagramBytes: context.datagramSize, fecOverhead: overhead });
        frameNumber = (frameNumber + 1) >>> 0;
        return parts;
      }
      const datagrams = packetizeFrame(toSend, {
        maxDatagramBytes: context.datagramSize,
        fecOverhead: window === undefined ? overhead : 0,
        ...protection,
        ...(window === undefined ? {} : { windowSequence: window.nextSequence }),
        ...(reusable ? { allocate } : {}),
      });
      frameNumber = (frameNumber + 1) >>> 0;
      // No await between packetizing and protecting: the sequence numbers stay in order.
      return window === undefined ? datagrams : window.protect(datagrams, Date.now());
    },
  };
}
