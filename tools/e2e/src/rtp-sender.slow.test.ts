import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { INTACT_MIN_PSNR, freePort, startSender, tempDir, writePatternClip } from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { useCleanup } from "./harness.js";
import { ffmpegSdpReader, gstRtpReader, inspectRawFrames, stopPeer, waitForUdpPort } from "./rtp-peers.js";

const cleanup = useCleanup();
const FRAMES = 40;

const bytesIn = (path: string): number => statSync(path, { throwIfNoEntry: false })?.size ?? 0;

/** Two JPEG qualities (tables in-band either way) and two sizes, each through both peers. */
const CASES = [
  { quality: 90, width: 640, height: 480, datagramSize: "auto" },
  { quality: 30, width: 320, height: 240, datagramSize: "1472" },
] as const;

async function sendPattern(port: number, args: readonly string[]): Promise<void> {
  const sender = startSender([
    "--source",
    "test",
    "--protocol",
    "rtp",
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--fps",
    "25",
    ...args,
  ]);
  cleanup.kill(sender);
  expect(await sender.exited, sender.stderr()).toBe(0);
}

function expectEveryFrame(output: string, width: number, height: number): void {
  const frames = inspectRawFrames(output, width, height);
  expect(frames.map((f) => f.number)).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
  expect(frames.filter((f) => f.torn)).toEqual([]);
  expect(Math.min(...frames.map((f) => f.worstBandPsnr))).toBeGreaterThan(INTACT_MIN_PSNR);
}

describe("udpcam sender --protocol rtp -> real RTP/JPEG peers", () => {
  it("a file's own JPEGs that RFC 2435 cannot carry (optimised Huffman tables) are decoded and encoded again, and GStreamer decodes every frame", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const clip = join(dir.path, "clip.avi");
    // OpenCV's VideoWriter (FFmpeg's mjpeg) writes optimised Huffman tables.
    await writePatternClip(clip, { width: 320, height: 240, frames: FRAMES });
    const port = await freePort();
    const output = join(dir.path, "gst.bgr");
    const gst = gstRtpReader(port, output);
    cleanup.kill(gst);
    await waitForUdpPort(port);
    const sender = startSender([
      "--source",
      clip,
      "--protocol",
      "rtp",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--fps",
      "25",
    ]);
    cleanup.kill(sender);
    expect(await sender.exited, sender.stderr()).toBe(0);
    expect(sender.stderr()).toContain(
      "Huffman tables other than the standard ones (an optimised JPEG); RTP/JPEG rebuilds the standard tables: decoding the source's JPEGs and encoding them again at quality 80",
    );
    for (let i = 0; i < 100 && bytesIn(output) < 320 * 240 * 3 * FRAMES; i++)
      await new Promise((done) => setTimeout(done, 50));
    expect(await stopPeer(gst), gst.stderr()).toBe(0);
    expectEveryFrame(output, 320, 240);
  });

  for (const { quality, width, height, datagramSize } of CASES) {
    const args = [
      "--quality",
      String(quality),
      "--width",
      String(width),
      "--height",
      String(height),
      "--datagram-size",
      datagramSize,
    ];

    it(`ffmpeg opens the sender's --sdp and decodes every frame (quality ${quality}, ${width}x${height})`, async () => {
      const dir = tempDir();
      cleanup.add(dir.remove);
      const port = await freePort();
      const sdp = join(dir.path, "stream.sdp");
      // The SDP comes first (a player opens it before the stream starts): one frame to nobody.
      await sendPattern(port, [...args, "--frames", "1", "--sdp", sdp]);
      expect(readFileSync(sdp, "utf8")).toContain(`m=video ${port} RTP/AVP 26\r\na=rtpmap:26 JPEG/90000\r\n`);
      const output = join(dir.path, "ffmpeg.bgr");
      const ffmpeg = ffmpegSdpReader(sdp, output, FRAMES);
      cleanup.kill(ffmpeg);
      await waitForUdpPort(port);
      await sendPattern(port, [...args, "--frames", String(FRAMES)]);
      expect(await ffmpeg.exited, ffmpeg.stderr()).toBe(0);
      expectEveryFrame(output, width, height);
    });

    it(`GStreamer udpsrc ! rtpjpegdepay ! jpegdec decodes every frame (quality ${quality}, ${width}x${height})`, async () => {
      const dir = tempDir();
      cleanup.add(dir.remove);
      const port = await freePort();
      const output = join(dir.path, "gst.bgr");
      const gst = gstRtpReader(port, output);
      cleanup.kill(gst);
      await waitForUdpPort(port);
      await sendPattern(port, [...args, "--frames", String(FRAMES)]);
      // Until the last frame is through the pipeline and written.
      const size = width * height * 3 * FRAMES;
      for (let i = 0; i < 100 && bytesIn(output) < size; i++) await new Promise((done) => setTimeout(done, 50));
      expect(await stopPeer(gst), gst.stderr()).toBe(0);
      expect(readFileSync(output).length).toBe(size);
      expectEveryFrame(output, width, height);
    });
  }
});
