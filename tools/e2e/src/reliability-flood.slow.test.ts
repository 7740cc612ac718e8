/**
 * Hostile input: a million random and mutated datagrams thrown at a receiver
 * between the datagrams of a real stream. The receiver must neither crash nor
 * grow past a memory bound, and must keep recording the real stream intact.
 */
import type { Socket } from "node:dgram";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createRandom } from "@udpcam/netsim";
import {
  DEFAULT_MAX_DATAGRAM_BYTES,
  encodeDatagram,
  fecLayout,
  HEADER_BYTES,
  Offset,
  packetizeFrame,
  type DatagramHeader,
} from "@udpcam/protocol";
import {
  freePort,
  inspectRecording,
  judgeRecording,
  readReceiverStats,
  readSenderStats,
  startReceiver,
  startSender,
  tempDir,
  v1Counters,
  loopbackReceiveArgs,
} from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { LOG_WARN, logLines, peakRssKiB, udpSocket, useCleanup } from "./harness.js";

const cleanup = useCleanup();

export const HOSTILE_KINDS = [
  "random",
  "truncated",
  "wrong-version",
  "huge-chunk-count",
  "absurd-size",
  "bit-flipped",
  "forged-frame",
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

/**
 * `count` hostile datagrams, kinds in turn: random bytes; real datagrams cut
 * inside the header; wrong versions; chunk counts of 65,535; well-formed
 * headers announcing frames of up to 64 MiB (and past it) from random
 * streams; real datagrams with bytes flipped; and complete one-datagram
 * frames from random streams.
 */
export function hostileDatagrams(
  count: number,
  seed: number,
): { datagrams: Uint8Array[]; byKind: Record<HostileKind, number> } {
  const random = createRandom(seed);
  const next = () => random.next();
  const int = (below: number) => random.int(below);
  const bytes = (n: number) => {
    const out = new Uint8Array(n);
    random.fill(out);
    return out;
  };
  const meta = { frameNumber: 0, codec: "jpeg" as const, width: 640, height: 480, fps: 25, timestampMs: Date.now() };
  const real = packetizeFrame(
    { ...meta, streamId: 0x0badf00d, payload: bytes(20_000) },
    { maxDatagramBytes: DEFAULT_MAX_DATAGRAM_BYTES },
  );
  const byKind = Object.fromEntries(HOSTILE_KINDS.map((k) => [k, 0])) as Record<HostileKind, number>;
  const datagrams: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const kind = HOSTILE_KINDS[i % HOSTILE_KINDS.length]!;
    byKind[kind]++;
    const base = real[int(real.length)]!;
    switch (kind) {
      case "random":
        datagrams.push(bytes(int(1500)));
        break;
      case "truncated":
        datagrams.push(base.slice(0, int(HEADER_BYTES)));
        break;
      case "wrong-version": {
        const copy = base.slice();
        copy[Offset.version] = [0, 2, 255][int(3)]!;
        datagrams.push(copy);
        break;
      }
      case "huge-chunk-count": {
        const copy = base.slice();
        new DataView(copy.buffer).setUint16(Offset.chunkCount, 0xffff);
        new DataView(copy.buffer).setUint32(Offset.streamId, int(2 ** 32));
        datagrams.push(copy);
        break;
      }
      case "absurd-size": {
        // Valid headers: the frame sizes are legal for the format, absurd for a camera.
        const frameBytes = [64 << 20, (64 << 20) + 1, 0xffff_ffff, 1 + int(64 << 20)][int(4)]!;
        const chunkBytes = 1428;
        const chunkCount = Math.ceil(frameBytes / chunkBytes);
        if (chunkCount > 0xffff) {
          // Past what the chunk count can say: the header is rewritten by hand.
          const copy = base.slice();
          const view = new DataView(copy.buffer);
          view.setUint32(Offset.streamId, int(2 ** 32));
          view.setUint32(Offset.frameBytes, frameBytes);
          datagrams.push(copy);
          break;
        }
        const layout = fecLayout(chunkCount, 0.1);
        const chunkIndex = int(chunkCount);
        const header: DatagramHeader = {
          ...meta,
          streamId: int(2 ** 32),
          frameNumber: int(2 ** 32),
          frameBytes,
          chunkIndex,
          chunkCount,
          chunkBytes,
          fecGroups: layout.groups,
          fecParityPerGroup: layout.parityPerGroup,
          tagBytes: 0,
        };
        const length = chunkIndex < chunkCount - 1 ? chunkBytes : frameBytes - chunkBytes * (chunkCount - 1);
        datagrams.push(encodeDatagram(header, bytes(length)));
        break;
      }
      case "bit-flipped": {
        const copy = base.slice();
        for (let f = 1 + int(8); f > 0; f--) {
          const at = int(copy.length);
          copy[at] = (copy[at] ?? 0) ^ (1 << int(8));
        }
        datagrams.push(copy);
        break;
      }
      case "forged-frame": {
        const raw = next() < 0.5;
        const frame = raw
          ? { ...meta, codec: "raw-bgr24" as const, width: 8, height: 8, payload: bytes(8 * 8 * 3) }
          : { ...meta, payload: bytes(200 + int(1000)) };
        datagrams.push(
          ...packetizeFrame(
            { ...frame, streamId: int(2 ** 32), frameNumber: int(2 ** 32) },
            { maxDatagramBytes: DEFAULT_MAX_DATAGRAM_BYTES, fecOverhead: 0 },
          ),
        );
        break;
      }
    }
  }
  return { datagrams, byKind };
}

/** Sends `total` datagrams cycling through `pool`, a batch at a time, until done or out of time. */
async function flood(
  socket: Socket,
  pool: readonly Uint8Array[],
  total: number,
  port: number,
  maxMs: number,
): Promise<number> {
  const BATCH = 200;
  const started = performance.now();
  let sent = 0;
  while (sent < total && performance.now() - started < maxMs) {
    const batch = Math.min(BATCH, total - sent);
    await new Promise<void>((resolve) => {
      let left = batch;
      for (let i = 0; i < batch; i++) {
        socket.send(pool[(sent + i) % pool.length]!, port, "127.0.0.1", () => {
          if (--left === 0) resolve();
        });
      }
    });
    sent += batch;
  }
  return sent;
}

/** Resident memory the receiver may reach, flood or not: its own ~200 MB plus the reassembler's 256 MiB budget for incomplete frames. */
const RSS_LIMIT_KIB = 600 * 1024;
const FLOOD_DATAGRAMS = 1_000_000;
const CLEAN_AFTER_MS = 8_000;

const KEY = "flood-test-shared-key-0123456789";

describe("hostile input", () => {
  it.each([
    { name: "no key", keyArgs: [] as string[] },
    { name: "a shared key", keyArgs: ["--key", KEY] },
  ])(
    "a million random and mutated datagrams between real ones ($name): no crash, bounded memory, the real stream still recorded",
    async ({ name, keyArgs }) => {
      const dir = tempDir();
      cleanup.add(dir.remove);
      const port = await freePort();
      const output = join(dir.path, "out.avi");
      const statsFile = join(dir.path, "stats.json");
      const senderStatsFile = join(dir.path, "sender.json");
      const receiver = await startReceiver([
        ...loopbackReceiveArgs(port, { output, stats: statsFile, idleExit: 2 }),
        ...keyArgs,
      ]);
      cleanup.kill(receiver);
      const sender = startSender([
        "--source",
        "test",
        "--codec",
        "jpeg",
        "--fps",
        "25",
        "--datagram-size",
        String(DEFAULT_MAX_DATAGRAM_BYTES),
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--stats",
        senderStatsFile,
        ...keyArgs,
      ]);
      cleanup.kill(sender);
      await receiver.waitFor(/"msg":"recording to /);
      await sleep(500);
      const before = peakRssKiB(receiver.child.pid!);

      const { datagrams: pool, byKind } = hostileDatagrams(50_000, 7);
      const attacker = await udpSocket(cleanup);
      const started = performance.now();
      const sent = await flood(attacker, pool, FLOOD_DATAGRAMS, port, 90_000);
      const seconds = (performance.now() - started) / 1000;
      // Clean seconds after the flood: the receiver works off its socket buffer (seconds of forged
      // frame starts without a key), the last forged stream that took over goes silent for the 2 s
      // takeover, and the real stream is recorded again.
      await sleep(CLEAN_AFTER_MS);
      const peak = peakRssKiB(receiver.child.pid!);
      sender.child.kill("SIGTERM");
      expect(await sender.exited).toBe(0);
      expect(await receiver.exited).toBe(0);

      const stats = readReceiverStats(statsFile);
      const { framesSent } = readSenderStats(senderStatsFile);
      const frames = await inspectRecording(output);
      const verdict = judgeRecording(frames);
      const counters = v1Counters(stats);
      const rejected = counters.datagramsMalformed + counters.datagramsUntagged + counters.datagramsUnauthenticated;
      console.log(
        `flood (${name}): ${sent} datagrams in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s), ${JSON.stringify(byKind)} per 50,000; ` +
          `receiver read ${stats.datagramsReceived}, rejected ${rejected} (malformed ${JSON.stringify(counters.malformedByCode)}); ` +
          `peak RSS ${(before / 1024).toFixed(0)} MiB before, ${(peak / 1024).toFixed(0)} MiB after; ` +
          `real stream: ${verdict.intact} of ${framesSent} frames sent recorded intact, ${stats.framesDropped} frames dropped, ${stats.framesUndecodable} undecodable, ${stats.streamsRefused} streams refused`,
      );
      expect(sent).toBe(FLOOD_DATAGRAMS);
      expect(rejected).toBeGreaterThan(10_000);
      expect(peak).toBeLessThan(RSS_LIMIT_KIB);
      expect(verdict.torn).toBe(0);
      expect(verdict.outOfOrder).toBe(0);
      const real = frames.filter((f) => f.number !== undefined);
      // Every frame that shows a test-pattern number is whole.
      expect(verdict.intact).toBe(real.length);
      if (keyArgs.length > 0) {
        // With a key nothing forged gets in: every recorded frame is the real stream's.
        expect(verdict.intact).toBe(verdict.recorded);
      }
      expect(stats.files).toEqual([output]);
      // The real stream is recorded again, in full, once the flood is over.
      const numbers = real.map((f) => f.number!);
      const last = numbers[numbers.length - 1]!;
      expect(last).toBeGreaterThanOrEqual(framesSent - 3);
      expect(numbers.slice(-25)).toEqual(Array.from({ length: 25 }, (_, i) => last - 24 + i));
      // A flood of refused streams is not a flood of log lines.
      expect(logLines(receiver.stderr()).filter((l) => l.level >= LOG_WARN).length).toBeLessThan(10);
    },
    150_000,
  );
});
