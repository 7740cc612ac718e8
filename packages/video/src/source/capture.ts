/** An OpenCV capture (camera or video file) as a frame source. */
import type { Frame } from "../frame.js";
import { matToFrame } from "../mat.js";
import type { cv, Mat } from "../opencv.js";
import { BuffersInTurn } from "./buffers-in-turn.js";
import { PacedCaptureSource } from "./paced-capture.js";
import type { Pace } from "./source.js";

export class CaptureSource extends PacedCaptureSource<Frame> {
  /** Where frame n's pixels go once they are asked for (none: a fresh buffer). */
  private readonly buffers: BuffersInTurn;

  constructor(
    readonly kind: "camera" | "file",
    capture: InstanceType<typeof cv.VideoCapture>,
    width: number,
    height: number,
    fps: number,
    description: string,
    pace: Pace,
    /** Frames in the file as its header says (may be approximate); undefined for cameras. */
    readonly frameCount: number | undefined,
    /** Copy pixels into this many buffers in turn when asked for (`TestPatternOptions.reuseBuffers`); default fresh. */
    reuseBuffers?: number,
  ) {
    super(capture, width, height, fps, description, pace);
    this.buffers = new BuffersInTurn(reuseBuffers, width * height * 3);
  }

  protected async produce(): Promise<Frame | undefined> {
    await this.pacer?.wait();
    let mat: Mat;
    try {
      // A camera blocks until its next frame: read it on the thread pool. A file
      // decodes in about a millisecond: read it here, because the binding's async
      // workers keep the capture open until V8 collects them (release() would not
      // close the file).
      mat = this.kind === "camera" ? await this.capture.readAsync() : this.capture.read();
    } catch {
      return undefined;
    }
    const captureTime = Date.now();
    if (mat.empty) return undefined;
    const into = this.buffers.for(this.sequence);
    return matToFrame(mat, { captureTime, sequence: this.sequence++ }, into);
  }
}
