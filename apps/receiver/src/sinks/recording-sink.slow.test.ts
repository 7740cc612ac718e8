import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@udpcam/appkit";
import { Codec, type FrameEvent } from "@udpcam/protocol";
import { encodeJpeg, openJpegSource, renderPatternFrame } from "@udpcam/video";
import { afterEach, describe, expect, it } from "vitest";
import { deliveredFrame } from "../delivery/delivered-frame.js";
import { MAX_HOLD_MS } from "./recording-rate.js";
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

/** Whole JPEG chunks (00dc) in an open MJPG recording, after its 224-byte header: what a SIGKILL now would keep. */
function chunksWritten(path: string): number {
  const bytes = readFileSync(path);
  let count = 0;
  for (let at = 224; at + 8 <= bytes.length;) {
    const size = bytes.readUInt32LE(at + 4);
    if (at + 8 + size > bytes.length) break;
    if (bytes.toString("latin1", at, at + 4) === "00dc") count++;
    at += 8 + size + (size % 2);
  }
  return count;
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

/** An RTP/JPEG frame as the ingest hands it on: no rate (0 until its second frame), its 90 kHz timestamp. */
function rtpFrame(streamId: number, n: number, rtpTimestamp: number): ReturnType<typeof deliveredFrame> {
  const event = {
    type: "frame",
    streamId,
    frameNumber: n,
    codec: Codec.Jpeg,
    width: 160,
    height: 120,
    fps: n === 0 ? 0 : 30,
    timestampMs: Date.now(),
    payload: encodeJpeg(renderPatternFrame(n, 160, 120), 80),
    recovered: false,
    firstArrivalMs: 0,
    rtpTimestamp,
  } as const satisfies FrameEvent & { rtpTimestamp: number };
  return deliveredFrame(event, event.timestampMs);
}

/** ffprobe's rate and decoded frame count of `path`'s video. */
function probe(path: string): { rate: string; frames: number } {
  const out = execFileSync(
    "ffprobe",
    [
      "-v",
      "error",
      "-count_frames",
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=r_frame_rate,nb_read_frames",
    ].concat(["-of", "json", path]),
    { encoding: "utf8" },
  );
  const [stream] = (JSON.parse(out) as { streams: { r_frame_rate: string; nb_read_frames: string }[] }).streams;
  return { rate: stream?.r_frame_rate ?? "", frames: Number(stream?.nb_read_frames) };
}

/** The JPEGs stored in an MJPG recording, in order. */
async function storedJpegs(path: string): Promise<Buffer[]> {
  const source = await openJpegSource({ kind: "file", path }, { pace: "asap" });
  if (source === undefined) throw new Error(`${path} stores no JPEG`);
  const jpegs: Buffer[] = [];
  try {
    for await (const packet of source) jpegs.push(Buffer.from(packet.jpeg));
  } finally {
    await source.close();
  }
  return jpegs;
}

describe("RecordingSink, an RTP stream (no rate of its own)", () => {
  function sinkIn(): { sink: RecordingSink; path: string; dir: string } {
    const dir = mkdtempSync(join(tmpdir(), "udpcam-sink-"));
    dirs.push(dir);
    const path = join(dir, "out.avi");
    return {
      sink: new RecordingSink({ path, fourcc: "MJPG", segmentSeconds: 0, perStream: false }, logger),
      path,
      dir,
    };
  }

  for (const [fps, step] of [
    [30, 3000],
    [15, 6000],
    [29.97, 3003],
  ] as const)
    it(`holds its first frames until 3 timestamp steps say ${fps} fps, then records them all in order at that rate`, async () => {
      const { sink, path, dir } = sinkIn();
      const frames = Array.from({ length: 12 }, (_, n) => rtpFrame(0x5, n, (0xffff_f000 + n * step) >>> 0));
      for (const frame of frames.slice(0, 3)) await sink.deliver(frame);
      // Nothing on disk yet: the three frames wait in memory (and count against the sink's queue).
      expect(readdirSync(dir)).toEqual([]);
      expect(sink.heldFrames).toEqual({
        frames: 3,
        bytes: frames.slice(0, 3).reduce((sum, f) => sum + f.event.payload.byteLength, 0),
      });
      for (const frame of frames.slice(3)) await sink.deliver(frame);
      expect(sink.heldFrames).toEqual({ frames: 0, bytes: 0 });
      await sink.close();
      expect(probe(path)).toEqual({ rate: fps === 29.97 ? "30000/1001" : `${fps}/1`, frames: 12 });
      expect(await storedJpegs(path)).toEqual(frames.map((f) => Buffer.from(f.event.payload)));
    });

  it(`records a stream of one frame at 25 fps within ${MAX_HOLD_MS} ms of it, without waiting for the next`, async () => {
    const { sink, path } = sinkIn();
    const only = rtpFrame(0x6, 0, 1234);
    const at = Date.now();
    await sink.deliver(only);
    expect(existsSync(path)).toBe(false);
    while (!(existsSync(path) && chunksWritten(path) === 1) && Date.now() - at < 5_000)
      await new Promise((r) => setTimeout(r, 20));
    expect(Date.now() - at).toBeGreaterThanOrEqual(MAX_HOLD_MS - 5);
    expect(Date.now() - at).toBeLessThan(MAX_HOLD_MS + 1_000);
    // The MJPG writer's chunk is whole and its header claims it: a SIGKILL now loses nothing.
    expect(probe(path)).toEqual({ rate: "25/1", frames: 1 });
    expect(sink.framesWritten).toBe(1);
    await sink.close();
    expect(await storedJpegs(path)).toEqual([Buffer.from(only.event.payload)]);
  });

  it("one file per stream: a held stream whose place is taken has its frames written, at its rate, before the newcomer's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "udpcam-sink-"));
    dirs.push(dir);
    const sink = new RecordingSink(
      { path: join(dir, "out.avi"), fourcc: "MJPG", segmentSeconds: 0, perStream: true },
      logger,
    );
    const first = [rtpFrame(0xa, 0, 0), rtpFrame(0xa, 1, 6000)];
    for (const f of first) await sink.deliver(f);
    expect(readdirSync(dir)).toEqual([]);
    sink.streamStarted(0xb, 0xa);
    await sink.deliver(rtpFrame(0xb, 0, 0));
    expect(finished(join(dir, "out-0000000a.avi"))).toBe(true);
    expect(probe(join(dir, "out-0000000a.avi"))).toEqual({ rate: "15/1", frames: 2 });
    expect(await storedJpegs(join(dir, "out-0000000a.avi"))).toEqual(first.map((f) => Buffer.from(f.event.payload)));
    expect(readdirSync(dir)).toEqual(["out-0000000a.avi"]); // b's frame is held in turn
    await sink.close();
    expect(probe(join(dir, "out-0000000b.avi"))).toEqual({ rate: "25/1", frames: 1 });
  });

  it("writes held frames at close, and a v1 stream (its rate in its header) is not held", async () => {
    const { sink, path } = sinkIn();
    await sink.deliver(rtpFrame(0x7, 0, 0));
    await sink.deliver(rtpFrame(0x7, 1, 6000));
    await sink.close();
    expect(probe(path)).toEqual({ rate: "15/1", frames: 2 });
    const v1 = sinkIn();
    await v1.sink.deliver(frame(0x8, 0));
    expect(v1.sink.heldFrames.frames).toBe(0);
    expect(v1.sink.framesWritten).toBe(1);
    await v1.sink.close();
    expect(probe(v1.path)).toEqual({ rate: "25/1", frames: 1 });
  });
});
