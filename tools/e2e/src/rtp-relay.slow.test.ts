/**
 * udpcam sender (v1, over the lossy part) -> udpcam receiver --relay rtp://... --relay-sdp ->
 * ffmpeg opening the relay's SDP, as a player or a media server would: the frames that come
 * out are the frames that went in, by their pixels, and the recording is whole too.
 */
import { existsSync, readFileSync } from "node:fs";
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
import { ffmpegSdpReader, inspectRawFrames, waitForUdpPort } from "./rtp-peers.js";

const cleanup = useCleanup();
const FRAMES = 50;

describe("udpcam receiver --relay", () => {
  it("re-emits every frame of a v1 stream as RTP/JPEG that ffmpeg opens by the relay's SDP: frames out = frames in", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const relayPort = await freePort();
    const sdp = join(dir.path, "relay.sdp");
    const output = join(dir.path, "out.avi");
    const statsFile = join(dir.path, "stats.json");
    const receiver = await startReceiver([
      ...loopbackReceiveArgs(port, { output, fourcc: "MJPG", stats: statsFile, idleExit: 2 }),
      ...["--relay", `rtp://127.0.0.1:${relayPort}`, "--relay-sdp", sdp],
    ]);
    cleanup.kill(receiver);
    expect(existsSync(sdp)).toBe(true);
    expect(readFileSync(sdp, "utf8")).toContain(`c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video ${relayPort} RTP/AVP 26\r\n`);
    const relayed = join(dir.path, "relayed.bgr");
    const ffmpeg = ffmpegSdpReader(sdp, relayed, FRAMES);
    cleanup.kill(ffmpeg);
    await waitForUdpPort(relayPort);

    const sender = startSender([
      "--source",
      "test",
      "--codec",
      "jpeg",
      "--quality",
      "85",
      "--fps",
      "25",
      "--frames",
      String(FRAMES),
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
    ]);
    cleanup.kill(sender);
    expect(await sender.exited, sender.stderr()).toBe(0);
    expect(await ffmpeg.exited, ffmpeg.stderr()).toBe(0);
    expect(await receiver.exited, receiver.stderr()).toBe(0);

    const out = inspectRawFrames(relayed, 640, 480);
    expect(out.map((f) => f.number)).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    expect(judgeRecording(out)).toMatchObject({ intact: FRAMES, torn: 0 });
    const stats = readReceiverStats(statsFile);
    expect(stats.sinks["relay"]).toEqual({ delivered: FRAMES, skipped: 0, undecodable: 0 });
    expect(judgeRecording(await inspectRecording(output))).toMatchObject({ recorded: FRAMES, intact: FRAMES });
  });
});
