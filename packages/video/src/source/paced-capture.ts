/** What the sources that read an OpenCV capture share: size, fps and description, pacing, and release. */
import type { cv } from "../opencv.js";
import { BaseSource, Pacer, type Pace } from "./source.js";

export abstract class PacedCaptureSource<T> extends BaseSource<T> {
  protected pacer: Pacer | undefined;

  constructor(
    protected readonly capture: InstanceType<typeof cv.VideoCapture>,
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
    this.capture.release();
  }
}
