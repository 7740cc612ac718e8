/**
 * Loss in bursts (issue 18): the real sender -> netsim -> the real receiver, with window FEC
 * (the default for JPEG: `--fec auto --fec-scheme auto`, `--latency 100`). Every recorded frame
 * is judged by its pixels against the test pattern and, for JPEG, its stored bytes against the
 * JPEG the sender made of that frame (recorded as MJPG, the default for JPEG streams: stored as
 * it arrived). Each run is at most 10 s of video.
 */
import { join } from "node:path";
import { startNetsim, type NetsimOptions, type NetsimStats } from "@udpcam/netsim";
import { DEFAULT_MAX_DATAGRAM_BYTES } from "@udpcam/protocol";
import {
  compareRecordedJpegs,
  freePort,
  inspectRecording,
  judgeRecording,
  loopbackReceiveArgs,
  loopbackTargetArgs,
  patternJpeg,
  readReceiverStats,
  readSenderStats,
  sourceArgs,
  startReceiver,
  startSender,
  tempDir,
  v1Counters,
  type JpegBytesVerdict,
  type ReceiverStats,
  type RecordingVerdict,
  type SenderStats,
} from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { useCleanup } from "./harness.js";

const cleanup = useCleanup();
const WIDTH = 640;
const HEIGHT = 480;
const FPS = 25;
const QUALITY = 80;
/** The issue's link: 1% of fragments lost in bursts of mean 4 (Gilbert), 1% reordered. */
const BURSTY = { loss: 0.01, burst: 4, reorder: 0.01 } as const;

type Link = Omit<NetsimOptions, "target">;

interface Run {
  readonly numbers: readonly (number | undefined)[];
  readonly verdict: RecordingVerdict;
  /** JPEG streams only. */
  readonly bytes: JpegBytesVerdict | undefined;
  readonly receiver: ReceiverStats;
  readonly sender: SenderStats;
  readonly netsim: NetsimStats;
}

const expectedJpegs = new Map<number, Uint8Array>();
const expectedJpeg = (n: number): Uint8Array => {
  let jpeg = expectedJpegs.get(n);
  if (jpeg === undefined) expectedJpegs.set(n, (jpeg = patternJpeg(n, WIDTH, HEIGHT, QUALITY)));
  return jpeg;
};

async function throughLink(link: Link, codec: "jpeg" | "raw", frames: number): Promise<Run> {
  const dir = tempDir();
  cleanup.add(dir.remove);
  const port = await freePort();
  const output = join(dir.path, "out.avi");
  const receiverStats = join(dir.path, "rx.json");
  const senderStats = join(dir.path, "tx.json");
  const receiver = await startReceiver(loopbackReceiveArgs(port, { output, stats: receiverStats, idleExit: 1.5 }));
  cleanup.kill(receiver);
  const netsim = await startNetsim({ target: { host: "127.0.0.1", port }, ...link });
  cleanup.add(() => void netsim.close());
  const sender = startSender([
    ...sourceArgs({ source: "test", codec, width: WIDTH, height: HEIGHT, fps: FPS, frames }),
    ...["--quality", String(QUALITY), "--datagram-size", String(DEFAULT_MAX_DATAGRAM_BYTES)],
    ...loopbackTargetArgs(netsim.port),
    ...["--stats", senderStats],
  ]);
  cleanup.kill(sender);
  expect(await sender.exited, sender.stderr()).toBe(0);
  expect(await receiver.exited, receiver.stderr()).toBe(0);
  const netsimStats = await netsim.close();
  const recorded = await inspectRecording(output);
  return {
    numbers: recorded.map((frame) => frame.number),
    verdict: judgeRecording(recorded),
    bytes: codec === "jpeg" ? await compareRecordedJpegs(output, recorded, expectedJpeg) : undefined,
    receiver: readReceiverStats(receiverStats),
    sender: readSenderStats(senderStats),
    netsim: netsimStats,
  };
}

function report(name: string, frames: number, run: Run): void {
  const { verdict, receiver, netsim, bytes } = run;
  const v1 = v1Counters(receiver);
  console.log(
    `${name}: ${verdict.intact}/${frames} intact, ${verdict.torn} torn, ${bytes === undefined ? "" : `${bytes.same} byte for byte, `}` +
      `${receiver.framesRecovered} rebuilt, ${receiver.framesDropped} dropped, ${receiver.framesSkippedBusy} skipped busy; ` +
      `netsim lost ${netsim.dropped} + ${netsim.outageDropped} (outage) of ${netsim.datagramsIn}; ` +
      `repairs ${v1.repairsReceived}, sources rebuilt ${v1.sourcesRecovered}; latency p50/p99 ${receiver.latencyMs.p50}/${receiver.latencyMs.p99} ms`,
  );
}

/** Nothing torn, repeated or out of order; every frame recorded is intact, and for JPEG what was sent, byte for byte. */
function expectWholeFramesOnly(run: Run): void {
  const { verdict, bytes } = run;
  expect(verdict.torn).toBe(0);
  expect(verdict.repeated).toBe(0);
  expect(verdict.outOfOrder).toBe(0);
  expect(verdict.intact).toBe(verdict.recorded);
  if (bytes !== undefined) expect(bytes).toEqual({ same: verdict.recorded, differ: 0, unnumbered: 0 });
}

const everyFrame = (frames: number): number[] => Array.from({ length: frames }, (_, i) => i);

describe("window FEC (JPEG default) through loss in bursts: real sender -> netsim -> receiver", () => {
  // Seeds and floors from repeated runs of this test (2026-12-02 05:47-05:55 UTC, 2-core machine
  // shared with four other engineers' builds and tests, load 7.6-10.4): intact of 250 by seed:
  // 8: 243, 243, 243; 18: 248, 247, 248; 28: 249, 249 (the losses are seeded: a seed's count
  // barely moves). The floors are 2 below the lowest seen; per-frame FEC on seed 8's link records
  // 239 (docs/benchmarks/loss-bursts.md), below the floor. The issue's 99.6% is not asserted: at
  // a 100 ms budget FEC cannot rebuild the longest bursts (see the benchmark's analysis).
  it.each([
    { seed: 8, minIntact: 241 },
    { seed: 18, minIntact: 245 },
  ])(
    "1% loss in bursts of 4, 1% reordered, seed $seed: nothing torn, at least $minIntact of 250 intact, byte for byte",
    async ({ seed, minIntact }) => {
      const frames = 250;
      const run = await throughLink({ ...BURSTY, seed }, "jpeg", frames);
      report(`bursty seed ${seed}`, frames, run);
      expect(run.netsim.dropped).toBeGreaterThan(0);
      expectWholeFramesOnly(run);
      // Window FEC was at work: repairs arrived and rebuilt sources.
      expect(v1Counters(run.receiver).sourcesRecovered).toBeGreaterThan(0);
      expect(run.verdict.intact).toBeGreaterThanOrEqual(minIntact);
    },
  );

  it.each([{ loss: 0.002 }, { loss: 0.01 }])(
    "independent loss $loss, 1% reordered: every one of 250 frames intact, byte for byte",
    async ({ loss }) => {
      const frames = 250;
      const run = await throughLink({ loss, reorder: 0.01, seed: 20_261_202 }, "jpeg", frames);
      report(`independent ${loss}`, frames, run);
      expect(run.netsim.dropped).toBeGreaterThan(0);
      expectWholeFramesOnly(run);
      expect(run.numbers).toEqual(everyFrame(frames));
    },
  );

  it("a 300 ms outage: the frames in it are dropped, every frame before and after it is there, nothing torn", async () => {
    const frames = 150;
    const run = await throughLink({ outageMs: 300, outageAtMs: 2500, seed: 1 }, "jpeg", frames);
    report("outage 300 ms", frames, run);
    expectWholeFramesOnly(run);
    const { outageDropped } = run.netsim;
    expect(outageDropped).toBeGreaterThan(0);
    const recorded = new Set(run.numbers);
    const missing = everyFrame(frames).filter((n) => !recorded.has(n));
    // One gap, and the stream goes on at the next whole frame after it: all frames after it are there.
    expect(missing.length).toBeGreaterThan(0);
    expect(missing[missing.length - 1]! - missing[0]! + 1).toBe(missing.length);
    // No more frames lost than the outage took datagrams of, plus the two it cut into at its edges.
    const datagramsPerFrame = run.sender.datagramsSent / run.sender.framesSent;
    expect(missing.length).toBeLessThanOrEqual(Math.ceil(outageDropped / (0.9 * datagramsPerFrame)) + 2);
  });

  // Raw frames are 921,600 bytes, about 640 datagrams each at 1,472 bytes (with per-frame FEC, the
  // raw default): each meets 1.6 bursts on average. Measured in the runs above: 91, 100, 97 of 100
  // intact (the 91: netsim's socket lost datagrams on the loaded machine, 2,800 of 71,600). Asserted
  // loosely: more than half.
  it("raw 640x480 in 1,472-byte datagrams at 25 fps through the bursty link: nothing torn, most frames intact", async () => {
    const frames = 100;
    const run = await throughLink({ ...BURSTY, seed: 8 }, "raw", frames);
    report("raw bursty seed 8", frames, run);
    expect(run.netsim.dropped).toBeGreaterThan(0);
    expectWholeFramesOnly(run);
    expect(run.verdict.intact).toBeGreaterThan(frames / 2);
  });
});
