/** What paced sources share (size, fps, description, pacing), and what those reading an OpenCV capture add. */
import type { cv } from "../opencv.js";
import { BaseSource, Pacer, type Pace } from "./source.js";

export abstract class PacedSource<T> extends BaseSource<T> {
  protected pacer: Pacer | undefined;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly fps: number,
    readonly description: string,
    pace: Pace,
  ) {
    super();
    this.pacer = pace === "realtime" ? new Pacer(1000 / fps) : undefined;
  }

  protected release(): void {
    this.pacer = undefined;
  }
}

export abstract class PacedCaptureSource<T> extends PacedSource<T> {
  constructor(
    protected readonly capture: InstanceType<typeof cv.VideoCapture>,
    width: number,
    height: number,
    fps: number,
    description: string,
    pace: Pace,
  ) {
    super(width, height, fps, description, pace);
  }

  protected override release(): void {
    super.release();
    this.capture.release();
  }
}
