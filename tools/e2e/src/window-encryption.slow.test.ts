/**
 * Window FEC with encryption, against the real programs: an encrypting sender (`--key-file`, encryption on
 * by default) through netsim's bursty link (1% loss in bursts of mean 4, 1% reordering, seeded) to an
 * encrypting receiver recording MJPG. Every recorded frame is one of the sender's JPEGs byte for byte (so
 * nothing torn), in order, and window FEC (the JPEG default, `--fec-scheme auto`) records at least as many
 * as per-frame FEC through the same link model and seed.
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startNetsim } from "@udpcam/netsim";
import { DEFAULT_MAX_DATAGRAM_BYTES } from "@udpcam/protocol";
import {
  freePort,
  loopbackReceiveArgs,
  patternJpeg,
  readReceiverStats,
  sourceArgs,
  startReceiver,
  startSender,
  tempDir,
  v1Counters,
} from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { recordedJpegs, useCleanup } from "./harness.js";

const cleanup = useCleanup();
const KEY = "window-encryption-test-key-7c41e0";
const QUALITY = 85;
const FRAMES = 250;
const SEED = 8;
const LINK = { loss: 0.01, burst: 4, reorder: 0.01, seed: SEED } as const;

const digest = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** The sender's own JPEG of each pattern frame, by digest: what MJPG must store. */
const SENT = new Map(Array.from({ length: FRAMES }, (_, n) => [digest(patternJpeg(n, 640, 480, QUALITY)), n]));

interface Run {
  /** The sent frame number of each recorded frame, or -1 for one that is not a sent JPEG byte for byte. */
  readonly numbers: number[];
  readonly counters: ReturnType<typeof v1Counters>;
  readonly lost: number;
}

async function throughBurstyLink(scheme: "auto" | "frame"): Promise<Run> {
  const dir = tempDir();
  cleanup.add(dir.remove);
  const keyFile = join(dir.path, "key");
  writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
  const port = await freePort();
  const output = join(dir.path, "out.avi");
  const statsFile = join(dir.path, "stats.json");
  const receiver = await startReceiver([
    ...loopbackReceiveArgs(port, { output, fourcc: "MJPG", stats: statsFile, idleExit: 2 }),
    ...["--key-file", keyFile],
  ]);
  cleanup.kill(receiver);
  const netsim = await startNetsim({ target: { host: "127.0.0.1", port }, ...LINK });
  cleanup.add(() => void netsim.close());
  const sender = startSender([
    ...sourceArgs({ source: "test", codec: "jpeg", fps: 25, frames: FRAMES }),
    ...["--quality", String(QUALITY), "--datagram-size", String(DEFAULT_MAX_DATAGRAM_BYTES)],
    ...["--host", "127.0.0.1", "--port", String(netsim.port), "--key-file", keyFile, "--fec-scheme", scheme],
  ]);
  cleanup.kill(sender);
  expect(await sender.exited).toBe(0);
  expect(await receiver.exited).toBe(0);
  const lost = netsim.stats().dropped;
  await netsim.close();
  const numbers = recordedJpegs(output, dir.path).map((jpeg) => SENT.get(digest(jpeg)) ?? -1);
  const counters = v1Counters(readReceiverStats(statsFile));
  console.log(
    `encrypted, --fec-scheme ${scheme}: ${numbers.filter((n) => n >= 0).length}/${FRAMES} recorded byte for byte, ` +
      `${numbers.filter((n) => n < 0).length} other; ${lost} datagrams lost by netsim; ` +
      `${counters.sourcesRecovered} sources rebuilt from ${counters.datagramsRepair} repairs, ${counters.framesRecovered} frames by parity, ` +
      `${counters.datagramsDecrypted} datagrams decrypted`,
  );
  return { numbers, counters, lost };
}

describe("window FEC with encryption through a bursty link (1% loss in bursts of 4, 1% reordering)", () => {
  it("every recorded frame is a sent JPEG byte for byte, in order; window FEC records at least as many as per-frame FEC", async () => {
    const window = await throughBurstyLink("auto");
    const frame = await throughBurstyLink("frame");
    for (const run of [window, frame]) {
      expect(run.lost).toBeGreaterThan(0);
      // Nothing torn or foreign: each recorded frame is one the sender sent, exactly, each once, in order.
      expect(run.numbers.filter((n) => n < 0)).toEqual([]);
      expect(run.numbers).toEqual([...run.numbers].sort((a, b) => a - b));
      expect(new Set(run.numbers).size).toBe(run.numbers.length);
      // Nothing refused: the receiver holds the key of every datagram, repairs included.
      expect(run.counters.datagramsUnauthenticated + run.counters.datagramsUnencrypted).toBe(0);
    }
    // The default chose window FEC for the encrypted stream, and its repairs rebuilt lost datagrams.
    expect(window.counters.datagramsRepair).toBeGreaterThan(0);
    expect(window.counters.sourcesRecovered).toBeGreaterThan(0);
    expect(window.counters.repairsUnmatched).toBe(0);
    expect(frame.counters.datagramsRepair).toBe(0);
    // Which scheme wins by how much is the bench's (loss-bursts.md: 737 vs 722 of 750 over three seeds); here the
    // two runs share a seed but not the machine's timing, so within 3 frames of per-frame FEC is what one run can say.
    expect(window.numbers.length).toBeGreaterThanOrEqual(frame.numbers.length - 3);
    expect(window.numbers.length).toBeGreaterThanOrEqual(Math.floor(0.95 * FRAMES));
  }, 120_000);
});
