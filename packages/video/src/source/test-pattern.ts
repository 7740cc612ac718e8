/** The synthetic test pattern as a frame source (`--source test`). */
import { VideoError } from "../errors.js";
import type { Frame } from "../frame.js";
import { BuffersInTurn } from "./buffers-in-turn.js";
import { renderPatternFrame } from "./pattern.js";
import { BaseSource, checkFps, DEFAULT_FPS, Pacer, type FrameSource, type Pace } from "./source.js";

export interface TestPatternOptions {
  /** Default 640. */
  readonly width?: number;
  /** Default 480. */
  readonly height?: number;
  /** Default 25. */
  readonly fps?: number;
  /** Stop after this many frames; default: never. */
  readonly frames?: number;
  /** Number of the first frame; default 0. */
  readonly firstFrame?: number;
  /** Default `realtime`. */
  readonly pace?: Pace;
  /**
   * Render into this many buffers in turn (at least 2) instead of a fresh one a frame: a frame's
   * pixels are then overwritten `reuseBuffers` reads later. For a reader that is done with each frame
   * before it reads the one after next (the sender's pump, which reads one frame ahead); default: fresh.
   */
  readonly reuseBuffers?: number;
}

class TestPatternSource extends BaseSource {
  readonly kind = "test" as const;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly description: string;
  private readonly pacer: Pacer | undefined;
  private readonly end: number;
  private n: number;
  private readonly buffers: BuffersInTurn;

  constructor(options: TestPatternOptions) {
    super();
    this.width = options.width ?? 640;
    this.height = options.height ?? 480;
    this.fps = checkFps(options.fps ?? DEFAULT_FPS);
    this.n = options.firstFrame ?? 0;
    const frames = options.frames ?? Infinity;
    if (!(frames >= 0)) throw new VideoError("INVALID_OPTION", `frames must be >= 0, got ${frames}`);
    this.end = this.n + frames;
    this.pacer = (options.pace ?? "realtime") === "realtime" ? new Pacer(1000 / this.fps) : undefined;
    const first = renderPatternFrame(this.n, this.width, this.height); // validates size and first frame now
    this.buffers = new BuffersInTurn(options.reuseBuffers, first.bytes.byteLength, first.bytes);
    this.description = `test pattern (${this.width}x${this.height} @ ${this.fps} fps)`;
  }

  protected async produce(): Promise<Frame | undefined> {
    if (this.n >= this.end) return undefined;
    await this.pacer?.wait();
    return renderPatternFrame(this.n, this.width, this.height, Date.now(), this.buffers.for(this.n++));
  }

  protected release(): void {}
}

/** The synthetic test pattern (see `renderPatternFrame`); frame n has sequence n. */
export function openTestPattern(options: TestPatternOptions = {}): Promise<FrameSource> {
  return Promise.resolve().then(() => new TestPatternSource(options));
}
