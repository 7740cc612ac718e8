/** The window: shows one stream (the first, or the one that replaced it), like the seed's imshow. */
import type { FrameEvent } from "@udpcam/protocol";
import type { Display } from "@udpcam/video";
import type { DeliveredFrame, Sink } from "./sink.js";

export class DisplaySink implements Sink {
  readonly name = "display";
  /** imshow copies the pixels into the window before `deliver` returns. */
  readonly releasesFrames = true;
  framesShown = 0;
  #shownStream: number | undefined;

  constructor(
    private readonly display: Display,
    /** The user pressed q (or closed the window). */
    private readonly onQuit: () => void,
  ) {}

  streamStarted(streamId: number, replaces: number | undefined): void {
    if (this.#shownStream === undefined || replaces === this.#shownStream) this.#shownStream = streamId;
  }

  accepts(event: FrameEvent): boolean {
    return this.display.status === "window" && event.streamId === this.#shownStream;
  }

  async deliver(frame: DeliveredFrame): Promise<void> {
    const pixels = await frame.pixels();
    this.framesShown++;
    if (this.display.show(pixels)) this.onQuit();
  }

  close(): Promise<void> {
    this.display.close();
    return Promise.resolve();
  }
}
