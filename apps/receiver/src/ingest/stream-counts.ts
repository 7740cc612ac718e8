/**
 * Frame totals per stream, counted from the reassembler's events in the ingest
 * thread: complete, rebuilt by FEC, dropped; and the datagrams read for it. A stream the reassembler forgets
 * (stream-ended) is forgotten here too, so the table is as bounded as its streams.
 */
import { looksLikeV1, type ReassemblyEvent } from "@udpcam/protocol";
import type { StreamFrameCounters } from "./messages.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class StreamCounts {
  readonly #streams = new Map<number, Mutable<StreamFrameCounters>>();
  /** The stream of the last datagram counted: a stream's datagrams come in runs. */
  #last: Mutable<StreamFrameCounters> | undefined;

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
        if (this.#last?.streamId === event.streamId) this.#last = undefined;
        break;
      case "stream-started":
        this.#stream(event.streamId);
        break;
    }
  }

  /** A datagram read that carries `streamId`: counted if the stream is tracked (a verified datagram started it). */
  datagram(streamId: number): void {
    const last = this.#last;
    if (last?.streamId === streamId) {
      last.datagramsReceived++;
      return;
    }
    const stream = this.#streams.get(streamId);
    if (stream === undefined) return;
    stream.datagramsReceived++;
    this.#last = stream;
  }

  /** For a format without the reassembler's events (legacy): a frame emitted. */
  complete(streamId: number): void {
    this.#stream(streamId).framesComplete++;
  }

  /** For a format without the reassembler's events (legacy): a frame given up. */
  dropped(streamId: number): void {
    this.#stream(streamId).framesDropped++;
  }

  /** For a format without stream ids (legacy): its one stream, tracked from the start. */
  track(streamId: number): void {
    this.#stream(streamId);
  }

  list(): StreamFrameCounters[] {
    return [...this.#streams.values()].map((stream) => ({ ...stream }));
  }

  #stream(streamId: number): Mutable<StreamFrameCounters> {
    let stream = this.#streams.get(streamId);
    if (stream === undefined) {
      stream = { streamId, datagramsReceived: 0, framesComplete: 0, framesRecovered: 0, framesDropped: 0 };
      this.#streams.set(streamId, stream);
    }
    return stream;
  }
}

/** The stream id of a v1 datagram (a source or a window FEC repair: both at offset 4), or undefined. */
export function v1StreamId(datagram: Uint8Array): number | undefined {
  if (datagram.length < 8 || !looksLikeV1(datagram)) return undefined;
  return readU32(datagram, 4);
}

/** The SSRC of an RTP packet (version 2, offset 8), or undefined. */
export function rtpSsrc(datagram: Uint8Array): number | undefined {
  if (datagram.length < 12 || datagram[0]! >> 6 !== 2) return undefined;
  return readU32(datagram, 8);
}

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}
