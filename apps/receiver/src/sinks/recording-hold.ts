/**
 * An RTP stream's first frames, held (in memory, at most `MAX_HOLD_MS`) for a file not opened
 * yet, until their timestamps say the stream's rate (recording-rate.ts): then the file opens at
 * that rate and the frames are written in the order they came. Per path; no file I/O here: the
 * recording sink writes what `offer` or `settle` hands back.
 */
import type { Logger } from "@udpcam/appkit";
import { rtpTimestampOf } from "../ingest/rtp-frame-rate.js";
import { MAX_HOLD_MS, RecordingRateProbe, type RateDecision } from "./recording-rate.js";
import type { DeliveredFrame } from "./sink.js";

/** A frame held until its file opens, with its hold on the frame's buffer. */
export interface HeldFrame {
  readonly frame: DeliveredFrame;
  readonly release: () => void;
}

/** A file's held frames, to be written now at `fps`; `note` goes on the file's "recording to" line. */
export interface Opening {
  readonly frames: readonly HeldFrame[];
  readonly fps: number;
  readonly note: string;
}

/** A file not opened yet: an RTP stream's first frames, while its rate is measured. */
interface Pending {
  /** The stream whose timestamps say the rate (the one that opens the file). */
  readonly streamId: number;
  readonly probe: RecordingRateProbe;
  readonly frames: HeldFrame[];
  bytes: number;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class RateHolds {
  readonly #pending = new Map<string, Pending>();

  constructor(
    /** Called `MAX_HOLD_MS` after a file's first frame while its frames are still held: `settle` it. */
    private readonly onTimeout: (path: string) => void,
    private readonly logger: Logger,
  ) {}

  /** Frames held until their file's rate is known: the sink queue counts them against its bounds. */
  get held(): { readonly frames: number; readonly bytes: number } {
    let frames = 0;
    let bytes = 0;
    for (const pending of this.#pending.values()) {
      frames += pending.frames.length;
      bytes += pending.bytes;
    }
    return { frames, bytes };
  }

  /** Paths with frames held. */
  get paths(): string[] {
    return [...this.#pending.keys()];
  }

  /**
   * A frame for `path`: `undefined` when it is not held (write it now: its file is open, or it is not RTP);
   * `"held"`; or the file's held frames, this one last, once their rate is known (the hold is over).
   */
  offer(path: string, frame: DeliveredFrame, fileOpen: boolean): Opening | "held" | undefined {
    const pending = this.#pending.get(path) ?? (fileOpen ? undefined : this.#start(path, frame));
    if (pending === undefined) return undefined;
    pending.frames.push({ frame, release: frame.hold() });
    pending.bytes += frame.event.payload.byteLength;
    const timestamp = rtpTimestampOf(frame.event);
    if (frame.event.streamId === pending.streamId && timestamp !== undefined) pending.probe.add(timestamp);
    const decision = pending.probe.decide(Date.now());
    return decision === undefined ? "held" : this.#open(path, pending, decision);
  }

  /** Ends the hold of `path` at the rate known by now; undefined when nothing is held for it. */
  settle(path: string): Opening | undefined {
    const pending = this.#pending.get(path);
    return pending === undefined ? undefined : this.#open(path, pending, pending.probe.settle());
  }

  /** An RTP stream's first frame for a file not open: held, with a timer that opens the file at the latest. */
  #start(path: string, frame: DeliveredFrame): Pending | undefined {
    if (rtpTimestampOf(frame.event) === undefined) return undefined;
    const timer = setTimeout(() => this.onTimeout(path), MAX_HOLD_MS);
    timer.unref();
    const pending: Pending = {
      streamId: frame.event.streamId,
      probe: new RecordingRateProbe(Date.now()),
      frames: [],
      bytes: 0,
      timer,
    };
    this.#pending.set(path, pending);
    return pending;
  }

  #open(path: string, pending: Pending, decision: RateDecision): Opening {
    this.#pending.delete(path);
    clearTimeout(pending.timer);
    const waited = Date.now() - pending.probe.startedAt;
    const stream = pending.streamId.toString(16).padStart(8, "0");
    const held = `${pending.frames.length} frames held ${waited} ms`;
    const note =
      decision.kind === "measured"
        ? `, stream ${stream}'s rate from its RTP timestamps over ${decision.steps} steps, ${held}`
        : `, stream ${stream}'s rate not measurable (${decision.why}), ${held}`;
    if (decision.kind === "fallback")
      this.logger.warn(
        { path, streamId: pending.streamId },
        `stream ${stream} sends RTP, which carries no frame rate, and its timestamps did not step (${decision.why}): recording at ${decision.fps} fps`,
      );
    return { frames: pending.frames, fps: decision.fps, note };
  }
}
