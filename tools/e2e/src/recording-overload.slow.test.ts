/**
 * Raw frames faster than the encoder can take them (the sender flat out, some 500 raw 640x480 frames a second,
 * against an encoder that manages about 300 beside the receiver on two cores): the recording's queue drops what it
 * cannot hold, and says so. Every frame delivered to the recording is either in the file, intact, or counted in
 * `framesNotRecorded` (the summary line, the stats file), never lost without a word.
 */
import { join } from "node:path";
import {
  freePort,
  inspectRecording,
  judgeRecording,
  loopbackReceiveArgs,
  readReceiverStats,
  startReceiver,
  startSender,
  tempDir,
} from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { useCleanup } from "./harness.js";

const cleanup = useCleanup();
const FRAMES = 300;

describe("recording, overloaded", () => {
  it("raw flat out into DIVX: each delivered frame is recorded intact or counted as not recorded", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const output = join(dir.path, "out.avi");
    const statsFile = join(dir.path, "stats.json");
    const receiver = await startReceiver(loopbackReceiveArgs(port, { output, stats: statsFile, idleExit: 1 }));
    cleanup.kill(receiver);
    const sender = startSender([
      ...["--host", "127.0.0.1", "--port", String(port)],
      ...["--source", "test", "--codec", "raw", "--fps", "1000", "--frames", String(FRAMES)],
    ]);
    cleanup.kill(sender);
    expect(await sender.exited, sender.stderr()).toBe(0);
    expect(await receiver.exited, receiver.stderr()).toBe(0);

    const stats = readReceiverStats(statsFile);
    const verdict = judgeRecording(await inspectRecording(output));
    expect(stats.framesRecorded + stats.framesNotRecorded).toBe(stats.sinks.recording?.delivered);
    expect(verdict).toMatchObject({ recorded: stats.framesRecorded, intact: stats.framesRecorded, torn: 0 });
    const summary = receiver.stdout();
    if (stats.framesNotRecorded > 0) {
      expect(summary).toContain(
        `${stats.framesRecorded} recorded (${stats.framesNotRecorded} not: encoding could not keep up)`,
      );
    }
  });
});
