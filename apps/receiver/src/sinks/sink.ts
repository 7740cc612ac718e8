/**
 * A consumer of delivered frames: the window, the recording, and whatever comes
 * next (a live view, a relay). Delivery hands every frame to every sink that
 * accepts it, each through its own bounded queue, so a slow sink skips frames
 * without slowing ingest or the other sinks.
 */
import type { FrameEvent } from "@udpcam/protocol";
import type { Frame } from "@udpcam/video";

/** A complete frame on its way to the sinks. */
export interface DeliveredFrame {
  /** The protocol's event: stream, number, codec, size, payload (JPEG or BGR bytes). */
  readonly event: FrameEvent;
  /** Frames per second to record or pace at: the sender's, or 25 when it did not say. */
  readonly fps: number;
  /** When the frame was captured (the sender's clock), or completed here when the format does not say. */
  readonly captureTime: number;
  /**
   * The frame's pixels: a JPEG is decoded at most once, on the first call, and shared
   * by every sink that asks. Rejects when the payload cannot be decoded.
   */
  pixels(): Promise<Frame>;
  /**
   * For a sink that references the frame's bytes after `deliver` settles (a recording whose encoder
   * has not read them yet): call the function returned once done with them (calling it twice is
   * harmless). Until every hold is released, the frame's buffer is not reused.
   */
  hold(): () => void;
}

export interface Sink {
  /** Names the sink in stats and logs: "display", "recording". */
  readonly name: string;
  /**
   * True when the sink references no frame's bytes once `deliver` settles, except through
   * `frame.hold()`: a raw frame that only such sinks took has its buffer reused for a later frame
   * (see delivery.ts). Unset (a sink that may keep frames, like the live view): never reused.
   */
  readonly releasesFrames?: boolean;
  /**
   * Frames the sink took and holds without having finished with them (the recording's RTP frames, until its file's
   * rate is known): its queue counts them against its bounds. Unset: none.
   */
  readonly heldFrames?: { readonly frames: number; readonly bytes: number };
  /** Whether this frame goes to this sink; asked once per frame, must be cheap. */
  accepts(event: FrameEvent): boolean;
  /** Takes one frame; the next is not delivered before this settles. */
  deliver(frame: DeliveredFrame): Promise<void>;
  /** A stream started (under `--streams first`, possibly replacing one that went silent). */
  streamStarted?(streamId: number, replaces: number | undefined): void;
  /** Finishes whatever the sink holds (a recording is finalized). Called once, after the last delivery. */
  close(): Promise<void>;
}
