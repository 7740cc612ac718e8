/**
 * An RTP/JPEG stream's frame rate, from its RTP timestamps: RFC 2435 fixes the clock at 90 kHz, so
 * the step between frames says the rate the sender sends at. The rate is the mean of the last
 * steps, leaving out those far from their median: a frame lost (a double step) does not move it,
 * and a sender whose timestamps are its capture times in ms (steps of 33 and 34 ms for 30 fps)
 * still reads 30. RTP carries no rate of its own: 0 until a stream's second frame.
 */
import type { FrameEvent } from "@udpcam/protocol";

/** The RTP/JPEG clock (RFC 2435 section 3.1). */
export const RTP_JPEG_CLOCK_HZ = 90_000;
/** Steps remembered per stream: 2 s at 25 fps, as long as the rate measured from arrivals is averaged over. */
const STEPS = 50;
/** A step longer than this (10 s) is a pause or a new run, not a frame interval. */
const MAX_STEP = 10 * RTP_JPEG_CLOCK_HZ;

interface StreamRate {
  last: number;
  readonly steps: number[];
  fps: number;
}

export class RtpFrameRate {
  readonly #streams = new Map<number, StreamRate>();

  /** A frame of `ssrc` emitted with `rtpTimestamp` (in order): the stream's rate now, fps (0 = not known yet). */
  frame(ssrc: number, rtpTimestamp: number): number {
    const stream = this.#streams.get(ssrc);
    if (stream === undefined) {
      this.#streams.set(ssrc, { last: rtpTimestamp, steps: [], fps: 0 });
      return 0;
    }
    const step = clockStep(stream.last, rtpTimestamp);
    stream.last = rtpTimestamp;
    if (step === undefined) return stream.fps;
    stream.steps.push(step);
    if (stream.steps.length > STEPS) stream.steps.shift();
    const { sum, count } = keptSteps(stream.steps);
    stream.fps = Math.round((100 * RTP_JPEG_CLOCK_HZ * count) / sum) / 100;
    return stream.fps;
  }

  /** The stream ended. */
  forget(ssrc: number): void {
    this.#streams.delete(ssrc);
  }
}

/** The 90 kHz ticks from one frame's timestamp to the next's (wrapping), or undefined for none (equal) or a pause. */
export function clockStep(previous: number, next: number): number | undefined {
  const step = (next - previous) >>> 0;
  return step === 0 || step > MAX_STEP ? undefined : step;
}

/** The steps near their median (half to 1.5 times it), summed: a lost frame's double step is left out. `steps` not empty. */
export function keptSteps(steps: readonly number[]): { sum: number; count: number; kept: number[] } {
  const median = [...steps].sort((a, b) => a - b)[(steps.length - 1) >> 1] ?? 0;
  const kept = steps.filter((s) => s >= median / 2 && s <= median * 1.5);
  return { sum: kept.reduce((a, b) => a + b, 0), count: kept.length, kept };
}

/** The RTP timestamp an RTP/JPEG frame carries (the ingest passes the reassembler's event on whole); v1: undefined. */
export function rtpTimestampOf(event: FrameEvent): number | undefined {
  return "rtpTimestamp" in event && typeof event.rtpTimestamp === "number" ? event.rtpTimestamp : undefined;
}
