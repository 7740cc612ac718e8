import type { FrameEvent } from "@udpcam/protocol";
import { createFrame, decodeJpegAsync, type Frame } from "@udpcam/video";
import type { DeliveredFrame } from "../sinks/sink.js";

/** A frame's rate when its sender did not know it: the original scripts' 25. */
export const UNKNOWN_FPS_FALLBACK = 25;

export interface TrackedFrame extends DeliveredFrame {
  /** Set once `pixels()` has failed: the frame is counted undecodable, once. */
  readonly undecodable: boolean;
  /** Whether a `hold()` is not released yet. */
  readonly held: boolean;
  /** Resolves once every `hold()` taken so far is released (at once when none is held). */
  released(): Promise<void>;
}

export function deliveredFrame(event: FrameEvent, captureTime: number): TrackedFrame {
  let pixels: Promise<Frame> | undefined;
  let undecodable = false;
  const meta = { captureTime, sequence: event.frameNumber };
  const decode = async (): Promise<Frame> =>
    event.codec === "jpeg"
      ? decodeJpegAsync(event.payload, meta)
      : createFrame(event.payload, event.width, event.height, meta);
  let holds = 0;
  let whenFree: (() => void) | undefined;
  return {
    event,
    captureTime,
    fps: event.fps > 0 ? event.fps : UNKNOWN_FPS_FALLBACK,
    get undecodable() {
      return undecodable;
    },
    get held() {
      return holds > 0;
    },
    pixels() {
      pixels ??= decode().catch((error: unknown) => {
        undecodable = true;
        throw error;
      });
      return pixels;
    },
    hold() {
      holds++;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        if (--holds === 0) whenFree?.();
      };
    },
    released() {
      return holds === 0 ? Promise.resolve() : new Promise<void>((resolve) => (whenFree = resolve));
    },
  };
}
