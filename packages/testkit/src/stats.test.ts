import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { emptyReceiverStats } from "@udpcam/receiver/stats";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "./files.js";
import { legacyCounters, readReceiverStats, readSenderStats, v1Counters, type SenderStats } from "./stats.js";

const dirs: (() => void)[] = [];
afterEach(() => {
  for (const remove of dirs.splice(0)) remove();
});

/** Writes `value` as the apps do (JSON.stringify: undefined fields vanish) and returns the path. */
function statsFile(value: unknown): string {
  const dir = tempDir();
  dirs.push(dir.remove);
  const path = join(dir.path, "stats.json");
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

const SENDER: SenderStats = {
  streamId: 1,
  framesSent: 2,
  datagramsSent: 3,
  bytesSent: 4,
  sendErrors: 0,
  refusals: 0,
  framesScaled: 0,
  framesPassedThrough: 0,
  sourceReconnects: 0,
  startedAt: 5,
  elapsedSeconds: 6,
  nack: {
    nacksReceived: 0,
    datagramsRequested: 0,
    datagramsRetransmitted: 0,
    bytesRetransmitted: 0,
    datagramsUnavailable: 0,
    datagramsRateLimited: 0,
    nacksMalformed: 0,
    nacksUnauthenticated: 0,
    nacksOtherStream: 0,
  },
};

describe("readReceiverStats", () => {
  it("reads what the receiver writes, with its v1 protocol counters", () => {
    const stats = readReceiverStats(statsFile(emptyReceiverStats(1)));
    expect(stats.framesRecorded).toBe(0);
    expect(v1Counters(stats).datagramsUnauthenticated).toBe(0);
    expect(() => legacyCounters(stats)).toThrow(/for v1, not legacy/);
  });

  it("fails loudly on a field that is missing or of another kind", () => {
    const { framesRecorded: _, ...withoutOne } = emptyReceiverStats(1);
    expect(() => readReceiverStats(statsFile(withoutOne))).toThrow(
      /field "framesRecorded" should be a number, found nothing/,
    );
    expect(() => readReceiverStats(statsFile({ ...emptyReceiverStats(1), files: "out.avi" }))).toThrow(
      /field "files" should be a array, found a string/,
    );
    expect(() => readReceiverStats(statsFile([1]))).toThrow(/expected a JSON object/);
  });

  it("fails loudly on a protocol counter that is missing", () => {
    const stats = emptyReceiverStats(1);
    const { datagramsUntagged: _, ...protocol } = stats.protocol as unknown as Record<string, unknown>;
    const read = readReceiverStats(statsFile({ ...stats, protocol }));
    expect(() => v1Counters(read)).toThrow(/stats.protocol: field "datagramsUntagged"/);
  });
});

describe("readSenderStats", () => {
  it("reads every field, and names the one missing", () => {
    expect(readSenderStats(statsFile(SENDER))).toEqual(SENDER);
    const { streamId: _, ...rest } = SENDER;
    expect(() => readSenderStats(statsFile(rest))).toThrow(/field "streamId"/);
  });
});
