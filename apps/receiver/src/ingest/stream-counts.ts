/**
 * Frame totals per stream, counted from the reassembler's events in the ingest
 * thread: complete, rebuilt by FEC, dropped. A stream the reassembler forgets
 * (stream-ended) is forgotten here too, so the table is as bounded as its streams.
 */
import type { ReassemblyEvent } from "@udpcam/protocol";
import type { StreamFrameCounters } from "./messages.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class StreamCounts {
  readonly #streams = new Map<number, Mutable<StreamFrameCounters>>();

  /** Counts one event of the reassembler (or of a format that emits only frames). */
  count(event: ReassemblyEvent): void {
    switch (event.type) {
      case "frame": {
        const stream = this.#stream(event.streamId);
        stream.framesComplete++;
        if (event.recovered) stream.framesRecovered++;
        break;
      }
      case "dropped":
        this.#stream(event.streamId).framesDropped++;
        break;
      case "stream-ended":
        this.#streams.delete(event.streamId);
        break;
      case "stream-started":
        break;
    }
  }

  /** For a format without the reassembler's events (legacy): a frame emitted. */
  complete(streamId: number): void {
    this.#stream(streamId).framesComplete++;
  }

  /** For a format without the reassembler's events (legacy): a frame given up. */
  dropped(streamId: number): void {
    this.#stream(streamId).framesDropped++;
  }

  list(): StreamFrameCounters[] {
    return [...this.#streams.values()].map((stream) => ({ ...stream }));
  }

  #stream(streamId: number): Mutable<StreamFrameCounters> {
    let stream = this.#streams.get(streamId);
    if (stream === undefined) {
      stream = { streamId, framesComplete: 0, framesRecovered: 0, framesDropped: 0 };
      this.#streams.set(streamId, stream);
    }
    return stream;
  }
}
