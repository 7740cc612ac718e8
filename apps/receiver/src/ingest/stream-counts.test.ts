import type { FrameEvent } from "@udpcam/protocol";
import { describe, expect, it } from "vitest";
import { StreamCounts } from "./stream-counts.js";

const frame = (streamId: number, recovered: boolean) => ({ type: "frame", streamId, recovered }) as FrameEvent;

describe("per-stream frame counts in the ingest thread", () => {
  it("counts complete, rebuilt and dropped frames per stream, and forgets an ended stream", () => {
    const counts = new StreamCounts();
    counts.count({ type: "stream-started", streamId: 1 });
    counts.count(frame(1, false));
    counts.count(frame(1, true));
    counts.count({ type: "dropped", streamId: 1, frameNumber: 2, reason: "timeout", chunksReceived: 1, chunkCount: 3 });
    counts.count(frame(2, false));
    expect(counts.list()).toEqual([
      { streamId: 1, framesComplete: 2, framesRecovered: 1, framesDropped: 1 },
      { streamId: 2, framesComplete: 1, framesRecovered: 0, framesDropped: 0 },
    ]);
    counts.count({ type: "stream-ended", streamId: 1, reason: "idle" });
    expect(counts.list().map((s) => s.streamId)).toEqual([2]);
  });

  it("counts a format without events (legacy) by hand", () => {
    const counts = new StreamCounts();
    counts.complete(0);
    counts.dropped(0);
    expect(counts.list()).toEqual([{ streamId: 0, framesComplete: 1, framesRecovered: 0, framesDropped: 1 }]);
  });
});
