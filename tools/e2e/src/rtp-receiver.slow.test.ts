/**
 * Real RTP/JPEG senders (GStreamer's rtpjpegpay, ffmpeg -f rtp) as separate processes ->
 * udpcam receiver --protocol rtp: every recorded frame judged by its pixels against the
 * test pattern; through netsim at 1% loss with reordering, nothing torn and every frame
 * accounted for; hostile packets counted by reason while the valid stream is recorded.
 * RTP carries no frame rate: the recording's is the one its timestamps step at (30, 15).
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startNetsim } from "@udpcam/netsim";
import { createRtpJpegReassembler, encodeRtpJpeg, packetizeRtpJpeg } from "@udpcam/protocol";
import {
  compareRecordedJpegs,
  ffprobeFrameRate,
  freePort,
  inspectRecording,
  judgeRecording,
  loopbackReceiveArgs,
  loopbackTargetArgs,
  patternJpeg,
  readReceiverStats,
  rtpCounters,
  sourceArgs,
  startReceiver,
  startSender,
  tempDir,
  writePatternClip,
} from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { udpSocket, useCleanup } from "./harness.js";
import { ffmpegRtpSender, gstRtpSender, type RtpSenderPeer } from "./rtp-peers.js";

const cleanup = useCleanup();
const SEED = 20_261_201;

type Peer = "gstreamer" | "ffmpeg";
const PEERS: readonly Peer[] = ["gstreamer", "ffmpeg"];
const SENDERS: Record<Peer, RtpSenderPeer> = { gstreamer: gstRtpSender, ffmpeg: ffmpegRtpSender };

async function receiveFrom(
  peer: Peer,
  frames: number,
  options: {
    impairment?: { loss: number; reorder: number };
    receiverArgs?: readonly string[];
    /** The clip's rate, which the peer's RTP timestamps step at (25 unless given). */
    fps?: number;
    fourcc?: "MJPG" | "DIVX";
    during?: (port: number) => Promise<void>;
  } = {},
) {
  const dir = tempDir();
  cleanup.add(dir.remove);
  const clip = join(dir.path, "clip.avi");
  await writePatternClip(clip, {
    width: 640,
    height: 480,
    frames,
    ...(options.fps === undefined ? {} : { fps: options.fps }),
  });
  const port = await freePort();
  const output = join(dir.path, "out.avi");
  const statsFile = join(dir.path, "stats.json");
  const receiver = await startReceiver([
    ...["--protocol", "rtp"],
    ...loopbackReceiveArgs(port, { output, fourcc: options.fourcc ?? "MJPG", stats: statsFile, idleExit: 2 }),
    ...(options.receiverArgs ?? []),
  ]);
  cleanup.kill(receiver);
  let target = port;
  let netsim: Awaited<ReturnType<typeof startNetsim>> | undefined;
  if (options.impairment !== undefined) {
    netsim = await startNetsim({ target: { host: "127.0.0.1", port }, seed: SEED, ...options.impairment });
    cleanup.add(() => void netsim?.close());
    target = netsim.port;
  }
  const sender = SENDERS[peer](clip, target);
  cleanup.kill(sender);
  await options.during?.(port);
  expect(await sender.exited, sender.stderr()).toBe(0);
  expect(await receiver.exited, receiver.stderr()).toBe(0);
  const lost = netsim?.stats().dropped ?? 0;
  await netsim?.close();
  const recorded = await inspectRecording(output, { tolerateCutOff: true });
  return {
    recorded,
    verdict: judgeRecording(recorded),
    stats: readReceiverStats(statsFile),
    lost,
    rate: ffprobeFrameRate(output),
    log: receiver.stderr(),
  };
}

/** A JPEG as RTP/JPEG carries it: RFC 2435 sends the scan and tables, the receiver rebuilds the headers around them. */
function asCarried(jpeg: Uint8Array): Uint8Array {
  const reassembler = createRtpJpegReassembler();
  const events = packetizeRtpJpeg({ ssrc: 1, sequence: 0, timestamp: 0, jpeg }).flatMap((packet) =>
    reassembler.push(packet, 0),
  );
  const frame = events.find((event) => event.type === "frame");
  if (frame === undefined) throw new Error("the JPEG did not come through RTP/JPEG whole");
  return frame.payload;
}

describe("real RTP/JPEG senders -> udpcam receiver --protocol rtp", () => {
  for (const peer of PEERS) {
    it(`${peer}: every frame recorded, and each matches the source by its pixels`, async () => {
      const frames = 50;
      const { recorded, verdict, stats } = await receiveFrom(peer, frames);
      expect(recorded.map((f) => f.number)).toEqual(Array.from({ length: frames }, (_, i) => i));
      expect(verdict).toMatchObject({ recorded: frames, intact: frames, torn: 0, repeated: 0, outOfOrder: 0 });
      expect(stats).toMatchObject({ framesComplete: frames, framesRecorded: frames, framesDropped: 0 });
      expect(rtpCounters(stats).datagramsMalformed).toBe(0);
    });

    it(`${peer} through netsim (1% loss, 2% reordered): nothing torn, every frame recorded whole or counted lost`, async () => {
      const frames = 200;
      const { verdict, stats, lost } = await receiveFrom(peer, frames, { impairment: { loss: 0.01, reorder: 0.02 } });
      console.log(
        `${peer} RTP/JPEG at 1% loss: ${verdict.intact}/${frames} intact, ${verdict.torn} torn, ${stats.framesDropped} dropped, ${stats.framesLate} late, ${lost} packets lost by netsim`,
      );
      expect(lost).toBeGreaterThan(0);
      expect(verdict.torn).toBe(0);
      expect(verdict.intact).toBe(verdict.recorded);
      expect(verdict.outOfOrder).toBe(0);
      expect(stats.framesRecorded).toBe(stats.framesComplete);
      // A frame whose every packet was lost is never seen; at ~20 packets a frame and 1% loss, none is.
      expect(stats.framesComplete + stats.framesDropped + stats.framesLate).toBe(frames);
      expect(stats.framesDropped).toBeGreaterThan(0);
    });
  }

  for (const [peer, fps, fourcc] of [
    ["gstreamer", 30, "MJPG"],
    ["gstreamer", 15, "MJPG"],
    ["ffmpeg", 30, "MJPG"],
    ["gstreamer", 30, "DIVX"],
  ] as const)
    it(`${peer} at ${fps} fps: the ${fourcc} recording is at ${fps} fps (its RTP timestamps' rate), every frame in order`, async () => {
      const frames = fps * 2;
      const { recorded, verdict, stats, rate, log } = await receiveFrom(peer, frames, { fps, fourcc });
      expect(rate).toBe(`${fps}/1`);
      expect(recorded.map((f) => f.number)).toEqual(Array.from({ length: frames }, (_, i) => i));
      expect(verdict).toMatchObject({ recorded: frames, intact: frames, torn: 0, repeated: 0, outOfOrder: 0 });
      expect(stats).toMatchObject({ framesComplete: frames, framesRecorded: frames });
      expect(log).toMatch(/\(RTP: rate not known yet, measured from its timestamps\)/);
      expect(log).toMatch(new RegExp(`recording to \\S+ at ${fps} fps \\(.*rate from its RTP timestamps over 3 steps`));
    });

  for (const fps of [30, 15])
    it(`udpcam's sender --protocol rtp at ${fps} fps (capture times in ms): recorded at ${fps} fps, every JPEG as sent`, async () => {
      const dir = tempDir();
      cleanup.add(dir.remove);
      const port = await freePort();
      const output = join(dir.path, "out.avi");
      const statsFile = join(dir.path, "stats.json");
      const receiver = await startReceiver([
        ...["--protocol", "rtp"],
        ...loopbackReceiveArgs(port, { output, fourcc: "MJPG", stats: statsFile, idleExit: 2 }),
      ]);
      cleanup.kill(receiver);
      const frames = fps * 2;
      const sender = startSender([
        ...sourceArgs({ source: "test", codec: "jpeg", width: 320, height: 240, fps, frames }),
        ...["--protocol", "rtp", "--quality", "80"],
        ...loopbackTargetArgs(port),
      ]);
      cleanup.kill(sender);
      expect(await sender.exited, sender.stderr()).toBe(0);
      expect(await receiver.exited, receiver.stderr()).toBe(0);
      expect(ffprobeFrameRate(output)).toBe(`${fps}/1`);
      const recorded = await inspectRecording(output);
      expect(recorded.map((f) => f.number)).toEqual(Array.from({ length: frames }, (_, i) => i));
      const bytes = await compareRecordedJpegs(output, recorded, (n) => asCarried(patternJpeg(n, 320, 240, 80)));
      expect(bytes).toEqual({ same: frames, differ: 0, unnumbered: 0 });
    });

  it("hostile and malformed RTP is counted by reason and dropped; the valid stream is still recorded whole", async () => {
    const frames = 75;
    const socket = await udpSocket(cleanup);
    const jpeg = {
      payloadType: 26,
      marker: false,
      sequence: 1,
      timestamp: 1,
      typeSpecific: 0,
      type: 1,
      q: 80,
      width: 64,
      height: 64,
      restartInterval: 0,
      tablePrecision: 0,
      tables: undefined,
      payload: new Uint8Array(100),
    };
    const hostile = (i: number): Uint8Array[] => [
      Uint8Array.of(0x40, 26, ...new Uint8Array(30)), // RTP version 1
      encodeRtpJpeg({ ...jpeg, ssrc: 7, payloadType: 96, fragmentOffset: 0 }),
      encodeRtpJpeg({ ...jpeg, ssrc: 8, fragmentOffset: 0xfff000 }), // past --max-frame-bytes
      encodeRtpJpeg({ ...jpeg, ssrc: 1000 + i, q: 255, fragmentOffset: 0, tables: new Uint8Array(0) }), // no tables, none sent before
      encodeRtpJpeg({ ...jpeg, ssrc: 10, timestamp: i, fragmentOffset: 100, marker: true }),
      encodeRtpJpeg({ ...jpeg, ssrc: 10, timestamp: i, fragmentOffset: 300 }), // past the end the marker set
      Uint8Array.of(0x80, 26, 0, 1, 0, 0, 0, 1, 0, 0, 0, 11, 0, 0, 0, 0, 2, 80, 8, 8), // JPEG type 2
    ];
    const rounds = 20;
    const send = (bytes: Uint8Array, port: number) =>
      new Promise<void>((done) => socket.send(bytes, port, "127.0.0.1", () => done()));
    const { verdict, stats } = await receiveFrom("gstreamer", frames, {
      receiverArgs: ["--max-frame-bytes", String(1 << 20)],
      during: async (port) => {
        for (let i = 0; i < rounds; i++) {
          for (const bytes of hostile(i)) await send(bytes, port);
          await sleep(50);
        }
      },
    });
    expect(verdict).toMatchObject({ recorded: frames, intact: frames, torn: 0 });
    const counters = rtpCounters(stats);
    expect(counters.malformedByCode).toMatchObject({
      UNSUPPORTED_VERSION: rounds,
      PAYLOAD_TYPE: rounds,
      TOO_LARGE: rounds,
      TABLES_MISSING: rounds,
      OFFSET_PAST_END: rounds,
      UNSUPPORTED_TYPE: rounds,
    });
    expect(counters.datagramsMalformed).toBe(6 * rounds);
  });
});
