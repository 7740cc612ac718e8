import { describe, expect, it } from "vitest";
import { EMPTY_INGEST_COUNTERS, type ProtocolCounters } from "./ingest/messages.js";
import { RefusalWatch } from "./refusal-warnings.js";

const counters = (overSource: number, overTotal: number, stale = 0): ProtocolCounters => ({
  ...(EMPTY_INGEST_COUNTERS.protocol as Extract<ProtocolCounters, { format: "v1" }>),
  datagramsOverSourceCap: overSource,
  datagramsOverStreamCap: overTotal,
  datagramsStale: stale,
});

describe("RefusalWatch", () => {
  it("says so once per cause per 10 s, with the count since the last line", () => {
    const watch = new RefusalWatch({ maxStreams: 8, maxStreamsPerSource: 4, maxClockSkew: 5 });
    expect(watch.check(counters(0, 0), 0)).toEqual([]);
    const first = watch.check(counters(5, 0), 100);
    expect(first.map((l) => l.counter)).toEqual(["datagramsOverSourceCap"]);
    expect(first[0]!.message).toMatch(/^refused 5 datagrams .* already has 4 streams \(--max-streams-per-source\)/);
    expect(watch.check(counters(9_000, 0), 5_000)).toEqual([]);
    expect(watch.check(counters(9_000, 2), 5_100).map((l) => l.message)).toEqual([
      expect.stringMatching(/^refused 2 datagrams of new streams: 8 streams \(--max-streams\)/),
    ]);
    expect(watch.check(counters(10_000, 2), 10_100)[0]!.message).toMatch(/^refused 9995 datagrams/);
    expect(watch.check(counters(10_000, 2, 40), 10_200)[0]!.message).toMatch(
      /^refused 40 authenticated datagrams captured .* more than --max-clock-skew 5 s before this receiver started/,
    );
  });
});
