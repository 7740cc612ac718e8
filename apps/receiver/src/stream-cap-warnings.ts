/**
 * New streams the ingest thread's reassembler refused for a stream cap
 * (--max-streams-per-source, --max-streams): a line per cause at most every
 * 10 s, saying how many datagrams were refused since the last such line. A
 * flood of forged stream ids makes a few lines, never a flood of them.
 */
import type { ProtocolCounters } from "./ingest/messages.js";
import { LogThrottle } from "./log-throttle.js";

const EVERY_MS = 10_000;

export interface StreamCaps {
  readonly maxStreams: number;
  readonly maxStreamsPerSource: number;
}

type Cause = "datagramsOverSourceCap" | "datagramsOverStreamCap";

const MESSAGE: Readonly<Record<Cause, (caps: StreamCaps, refused: number) => string>> = {
  datagramsOverSourceCap: (caps, refused) =>
    `refused ${refused} datagrams of new streams from a source address that already has ${caps.maxStreamsPerSource} streams (--max-streams-per-source); more senders on one host need a higher --max-streams-per-source, while many stream ids from one address look like forged datagrams (set --key)`,
  datagramsOverStreamCap: (caps, refused) =>
    `refused ${refused} datagrams of new streams: ${caps.maxStreams} streams (--max-streams) are received and each completed a frame in the last 10 s; raise --max-streams to take more at once, or set --key if these are not your senders`,
};

export class StreamCapWatch {
  readonly #reported: Record<Cause, number> = { datagramsOverSourceCap: 0, datagramsOverStreamCap: 0 };
  readonly #throttle: Record<Cause, LogThrottle> = {
    datagramsOverSourceCap: new LogThrottle(EVERY_MS),
    datagramsOverStreamCap: new LogThrottle(EVERY_MS),
  };

  constructor(private readonly caps: StreamCaps) {}

  /** The lines to log now (none most of the time). */
  check(protocol: ProtocolCounters, now: number): { readonly counter: Cause; readonly message: string }[] {
    if (protocol.format === "legacy") return [];
    const lines: { counter: Cause; message: string }[] = [];
    for (const cause of ["datagramsOverSourceCap", "datagramsOverStreamCap"] as const) {
      const count = protocol[cause];
      if (count === this.#reported[cause] || this.#throttle[cause].take(now) === undefined) continue;
      lines.push({ counter: cause, message: MESSAGE[cause](this.caps, count - this.#reported[cause]) });
      this.#reported[cause] = count;
    }
    return lines;
  }
}
