/**
 * The rate an RTP/JPEG stream is recorded at. RTP carries no frame rate, and an AVI's header
 * needs one before its first frame (OpenCV's writers cannot change it later), so the recording
 * holds a stream's first frames until their 90 kHz timestamps have stepped often enough to
 * say the rate, or `MAX_HOLD_MS` passed, or `MAX_HELD_FRAMES` are held, whichever comes first.
 * Synchronous, no timers: the sink asks again at each frame and when its timer fires.
 */
import { clockStep, keptSteps, RTP_JPEG_CLOCK_HZ } from "../ingest/rtp-frame-rate.js";

/** Steps that settle the rate when they agree (4 frames: 100 ms at 30 fps). */
export const STEPS_WANTED = 3;
/** Frames are held at most this long (ms) after the first: the only frames a SIGKILL can lose before the file exists. */
export const MAX_HOLD_MS = 1_000;
/** And at most this many (a stream whose timestamps do not step). */
export const MAX_HELD_FRAMES = 16;
/** The rate of a stream whose timestamps never stepped: the original scripts' 25 (UNKNOWN_FPS_FALLBACK). */
export const FALLBACK_FPS = 25;
/** Steps agree when each kept one is within this of their mean. */
const AGREE = 0.1;
/** A capture time's own jitter, in ticks (3 ms): timestamps made of capture times in ms read 29.85 for 30 fps. */
const JITTER_TICKS = 270;
/** 29.97 (30000/1001), 59.94, 23.976: taken when the measured rate is this close. */
const NTSC_TOLERANCE = 0.0005;

export type RateDecision =
  | { readonly kind: "measured"; readonly fps: number; readonly steps: number }
  | { readonly kind: "fallback"; readonly fps: number; readonly why: string };

export class RecordingRateProbe {
  readonly #steps: number[] = [];
  #last: number | undefined;
  #frames = 0;

  constructor(readonly startedAt: number) {}

  /** Frames seen so far. */
  get frames(): number {
    return this.#frames;
  }

  /** A frame of the stream, in order. */
  add(rtpTimestamp: number): void {
    this.#frames++;
    const step = this.#last === undefined ? undefined : clockStep(this.#last, rtpTimestamp);
    this.#last = rtpTimestamp;
    if (step !== undefined) this.#steps.push(step);
  }

  /**
   * The rate to open the file at once `STEPS_WANTED` steps agree, or `MAX_HOLD_MS` after the first frame, or at
   * `MAX_HELD_FRAMES` frames; undefined: hold on.
   */
  decide(now: number): RateDecision | undefined {
    if (now - this.startedAt >= MAX_HOLD_MS || this.#frames >= MAX_HELD_FRAMES) return this.settle();
    if (this.#steps.length < STEPS_WANTED) return undefined;
    const { sum, count, kept } = keptSteps(this.#steps);
    const mean = sum / count;
    const agree = count >= STEPS_WANTED && kept.every((s) => Math.abs(s - mean) <= mean * AGREE);
    return agree ? { kind: "measured", fps: recordingFps(kept), steps: count } : undefined;
  }

  /** The rate from what is known now (the hold is over, or the stream ended): 25 when no timestamp stepped. */
  settle(): RateDecision {
    if (this.#steps.length === 0) {
      const why = this.#frames <= 1 ? "one frame only" : `${this.#frames} frames, their timestamps all equal`;
      return { kind: "fallback", fps: FALLBACK_FPS, why };
    }
    const { count, kept } = keptSteps(this.#steps);
    return { kind: "measured", fps: recordingFps(kept), steps: count };
  }
}

/**
 * The rate for steps (90 kHz ticks) near each other: 30000/1001 when they say 29.97 within 0.05% (as from a
 * 90 kHz clock), a whole number when 3 ms over the steps explain the difference (capture times in ms, or a
 * sender's jitter: 33 ms steps read 30.3; a 29.5 fps stream is taken for 30 too), else to 0.01 fps (12.5, 7.5).
 */
export function recordingFps(steps: readonly number[]): number {
  const sum = steps.reduce((a, b) => a + b, 0);
  const fps = (RTP_JPEG_CLOCK_HZ * steps.length) / sum;
  const ntsc = (Math.round((fps * 1001) / 1000) * 1000) / 1001;
  if (Math.abs(fps - ntsc) <= ntsc * NTSC_TOLERANCE) return ntsc;
  const whole = Math.round(fps);
  if (whole > 0 && Math.abs(fps - whole) <= whole * Math.max(0.01, JITTER_TICKS / sum)) return whole;
  return Math.round(fps * 100) / 100;
}
