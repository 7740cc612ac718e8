import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@udpcam/appkit";
import { Codec, type FrameEvent } from "@udpcam/protocol";
import { encodeJpeg, renderPatternFrame } from "@udpcam/video";
import { afterEach, describe, expect, it } from "vitest";
import { deliveredFrame } from "../delivery/delivered-frame.js";
import { RecordingSink } from "./recording-sink.js";

const logger = createLogger({ name: "test", level: "silent", format: "json", colors: false });
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function frame(streamId: number, frameNumber: number): ReturnType<typeof deliveredFrame> {
  const event: FrameEvent = {
    type: "frame",
    streamId,
    frameNumber,
    codec: Codec.Jpeg,
    width: 160,
    height: 120,
    fps: 25,
    timestampMs: 1_000 + frameNumber * 40,
    payload: encodeJpeg(renderPatternFrame(frameNumber, 160, 120), 80),
    recovered: false,
    firstArrivalMs: 0,
  };
  return deliveredFrame(event, event.timestampMs);
}

/** Files in `dir` this process has open. */
function openIn(dir: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) open.push(target.slice(dir.length + 1));
    } catch {
      // closed meanwhile
    }
  }
  return open;
}

/** A well-formed AVI: its RIFF size says how long the file is. */
function finished(path: string): boolean {
  const bytes = readFileSync(path);
  return bytes.toString("latin1", 0, 4) === "RIFF" && bytes.readUInt32LE(4) === bytes.length - 8;
}

describe("RecordingSink, one file per stream", () => {
  it("finishes a replaced stream's file before the newcomer's opens; a stream that comes back gets -r1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "udpcam-sink-"));
    dirs.push(dir);
    const sink = new RecordingSink(
      { path: join(dir, "out.avi"), fourcc: "MJPG", segmentSeconds: 0, perStream: true },
      logger,
    );
    for (let n = 0; n < 5; n++) await sink.deliver(frame(0xa, n));
    expect(sink.filesOpen).toBe(1);
    expect(sink.framesRecordedByStream).toEqual(new Map([[0xa, 5]]));
    sink.streamStarted(0xb, 0xa);
    await sink.deliver(frame(0xb, 0));
    expect(sink.filesOpen).toBe(1);
    expect(openIn(dir)).toEqual(["out-0000000b.avi"]);
    expect(finished(join(dir, "out-0000000a.avi"))).toBe(true);
    sink.streamStarted(0xa, 0xb);
    expect(openIn(dir)).toEqual(["out-0000000b.avi"]); // still open: finished before the next frame is written
    for (let n = 5; n < 8; n++) await sink.deliver(frame(0xa, n));
    expect(sink.filesOpen).toBe(1);
    expect(openIn(dir)).toEqual(["out-0000000a-r1.avi"]);
    // Per stream for /api/streams: a stream's count goes with its place; the one that came back counts anew.
    expect(sink.framesRecordedByStream).toEqual(new Map([[0xa, 3]]));
    await sink.close();
    expect(openIn(dir)).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(["out-0000000a-r1.avi", "out-0000000a.avi", "out-0000000b.avi"]);
    expect(sink.totals.framesWritten).toBe(9);
    expect(sink.totals.files).toHaveLength(3);
    for (const name of readdirSync(dir)) expect(finished(join(dir, name))).toBe(true);
  });
});
