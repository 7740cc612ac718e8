/**
 * Datagrams the ingest thread's reassembler refused for a cap or a rule the
 * user set: new streams past --max-streams-per-source or --max-streams, and
 * (with a key) datagrams captured before this receiver started, less
 * --max-clock-skew. A line per cause at most every 10 s, saying how many were
 * refused since the last such line: a flood makes a few lines, never a flood
 * of them.
 */
import type { ProtocolCounters } from "./ingest/messages.js";
import { LogThrottle } from "./log-throttle.js";

const EVERY_MS = 10_000;

export interface RefusalSettings {
  readonly maxStreams: number;
  readonly maxStreamsPerSource: number;
  /** Seconds; undefined = off. */
  readonly maxClockSkew: number | undefined;
}

const CAUSES = ["datagramsOverSourceCap", "datagramsOverStreamCap", "datagramsStale"] as const;
type Cause = (typeof CAUSES)[number];

const MESSAGE: Readonly<Record<Cause, (settings: RefusalSettings, refused: number) => string>> = {
  datagramsOverSourceCap: (s, refused) =>
    `refused ${refused} datagrams of new streams from a source address that already has ${s.maxStreamsPerSource} streams (--max-streams-per-source); more senders on one host need a higher --max-streams-per-source, while many stream ids from one address look like forged datagrams (set --key)`,
  datagramsOverStreamCap: (s, refused) =>
    `refused ${refused} datagrams of new streams: ${s.maxStreams} streams (--max-streams) are received and each completed a frame in the last 10 s; raise --max-streams to take more at once, or set --key if these are not your senders`,
  datagramsStale: (s, refused) =>
    `refused ${refused} authenticated datagrams captured (by the sender's clock) more than --max-clock-skew ${s.maxClockSkew ?? 0} s before this receiver started: a recording of an earlier session replayed, or a sender whose clock is behind this receiver's (sync the clocks, e.g. NTP, or raise --max-clock-skew)`,
};

function count(protocol: ProtocolCounters, cause: Cause): number {
  if (protocol.format === "legacy") return 0;
  if (cause === "datagramsStale") return protocol.format === "v1" ? protocol.datagramsStale : 0;
  return protocol[cause];
}

export class RefusalWatch {
  readonly #reported: Record<Cause, number> = {
    datagramsOverSourceCap: 0,
    datagramsOverStreamCap: 0,
    datagramsStale: 0,
  };
  readonly #throttle: Record<Cause, LogThrottle> = {
    datagramsOverSourceCap: new LogThrottle(EVERY_MS),
    datagramsOverStreamCap: new LogThrottle(EVERY_MS),
    datagramsStale: new LogThrottle(EVERY_MS),
  };

  constructor(private readonly settings: RefusalSettings) {}

  /** The lines to log now (none most of the time). */
  check(protocol: ProtocolCounters, now: number): { readonly counter: Cause; readonly message: string }[] {
    const lines: { counter: Cause; message: string }[] = [];
    for (const cause of CAUSES) {
      const total = count(protocol, cause);
      if (total === this.#reported[cause] || this.#throttle[cause].take(now) === undefined) continue;
      lines.push({ counter: cause, message: MESSAGE[cause](this.settings, total - this.#reported[cause]) });
      this.#reported[cause] = total;
    }
    return lines;
  }
}
