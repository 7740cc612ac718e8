/**
 * The real RTP/JPEG peers of the rtp*.slow tests, as separate processes: GStreamer
 * (gst-launch-1.0 with rtpjpegpay / rtpjpegdepay) and ffmpeg (-f rtp, or an SDP file), each
 * sending the test pattern or writing what it decoded as raw BGR frames, which are judged
 * by their pixels against the regenerated pattern.
 */
import { readFileSync } from "node:fs";
import { inspectFrame, spawnChild, type Child, type RecordedFrame } from "@udpcam/testkit";
import { createFrame } from "@udpcam/video";

/** What udpsrc needs to know of a stream with no SDP. */
export const RTP_JPEG_CAPS = "application/x-rtp,media=video,clock-rate=90000,encoding-name=JPEG,payload=26";

export { waitForUdpPort } from "@udpcam/testkit";

/** A file of raw BGR frames (as ffmpeg -f rawvideo or GStreamer's filesink write them), each judged against the pattern. */
export function inspectRawFrames(path: string, width: number, height: number): RecordedFrame[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    return [];
  }
  const size = width * height * 3;
  const frames: RecordedFrame[] = [];
  for (let at = 0; at + size <= bytes.length; at += size)
    frames.push(inspectFrame(createFrame(bytes.subarray(at, at + size), width, height)));
  return frames;
}

/** ffmpeg reading an SDP file, writing every decoded frame as raw BGR (no frame dropped or repeated). */
export function ffmpegSdpReader(sdp: string, output: string, frames: number): Child {
  return spawnChild(
    "ffmpeg",
    [
      "-nostdin",
      "-v",
      "error",
      "-protocol_whitelist",
      "file,udp,rtp",
      "-i",
      sdp,
      "-fps_mode",
      "passthrough",
      "-frames:v",
      String(frames),
      "-f",
      "rawvideo",
      "-pix_fmt",
      "bgr24",
      "-y",
      output,
    ],
    { name: "ffmpeg", timeoutMs: 60_000 },
  );
}

/** GStreamer receiving RTP/JPEG on `port`: rtpjpegdepay ! jpegdec, raw BGR into `output`. Stop it with SIGINT (-e: EOS, file complete). */
export function gstRtpReader(port: number, output: string): Child {
  return spawnChild(
    "gst-launch-1.0",
    [
      "-q",
      "-e",
      "udpsrc",
      "address=127.0.0.1",
      `port=${port}`,
      `caps=${RTP_JPEG_CAPS}`,
      "!",
      "rtpjpegdepay",
      "!",
      "jpegdec",
      "!",
      "videoconvert",
      "!",
      "video/x-raw,format=BGR",
      "!",
      "filesink",
      `location=${output}`,
    ],
    { name: "gst-launch", timeoutMs: 60_000 },
  );
}

/** Stops a peer that runs until told (SIGINT, then SIGKILL after `graceMs`), and resolves with how it ended. */
export async function stopPeer(peer: Child, graceMs = 5_000): Promise<number | string> {
  peer.signal("SIGINT");
  const timer = setTimeout(() => peer.signal("SIGKILL"), graceMs);
  try {
    return await peer.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** A peer that sends a clip as RTP/JPEG to 127.0.0.1:`port`, paced by the clip's timestamps, and exits at its end. */
export type RtpSenderPeer = (clip: string, port: number) => Child;

/** GStreamer: the clip's frames decoded and encoded again by jpegenc, rtpjpegpay, udpsink (sync: real time). */
export const gstRtpSender: RtpSenderPeer = (clip, port) =>
  spawnChild(
    "gst-launch-1.0",
    [
      "-q",
      "filesrc",
      `location=${clip}`,
      "!",
      "avidemux",
      "!",
      "jpegdec",
      "!",
      "videoconvert",
      "!",
      "jpegenc",
      "quality=85",
      "!",
      "rtpjpegpay",
      "!",
      "udpsink",
      "host=127.0.0.1",
      `port=${port}`,
    ],
    { name: "gst-launch", timeoutMs: 120_000 },
  );

/** ffmpeg -re: the clip encoded by its mjpeg encoder (standard Huffman tables, as RFC 2435 requires), -f rtp. */
export const ffmpegRtpSender: RtpSenderPeer = (clip, port) =>
  spawnChild(
    "ffmpeg",
    [
      "-nostdin",
      "-v",
      "error",
      "-re",
      "-i",
      clip,
      "-c:v",
      "mjpeg",
      "-huffman",
      "default",
      "-q:v",
      "3",
      "-f",
      "rtp",
      `rtp://127.0.0.1:${port}`,
    ],
    {
      name: "ffmpeg",
      timeoutMs: 120_000,
    },
  );
