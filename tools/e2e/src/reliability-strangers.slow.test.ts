/**
 * Strangers without a key: one host (127.0.0.2) sends 10,000 forged stream ids, each a few
 * complete one-datagram JPEG frames and a start announcing 64 MiB, at a receiver that records
 * each stream to its own file, while the real sender (127.0.0.1) streams. The receiver must never
 * open more files than --max-streams, must record the real stream whole, must hold bounded memory
 * and must count the refusals where --stats, /metrics and /api/streams show them.
 */
import { readdirSync, readlinkSync } from "node:fs";
import { createSocket, type Socket } from "node:dgram";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { encodeDatagram, packetizeFrame } from "@udpcam/protocol";
import {
  freePort,
  inspectRecording,
  judgeRecording,
  loopbackReceiveArgs,
  readReceiverStats,
  readSenderStats,
  startReceiver,
  startSender,
  tempDir,
  v1Counters,
} from "@udpcam/testkit";
import { encodeJpeg, renderPatternFrame } from "@udpcam/video";
import { describe, expect, it } from "vitest";
import { LOG_WARN, logLines, peakRssKiB, useCleanup } from "./harness.js";

const cleanup = useCleanup();

const FORGED_IDS = 10_000;
/** Complete frames each forged id sends, one round of all ids per frame. */
const ROUNDS = 4;
const FRAMES = 150;
/** The receiver's default --max-streams, and half of it per source address. */
const MAX_STREAMS = 8;
const PER_SOURCE = 4;

/** The forger's datagrams, round by round: each id's frame r, and in round 0 also a start announcing 64 MiB. */
function forgedDatagrams(): Uint8Array[] {
  const jpeg = encodeJpeg(renderPatternFrame(7, 64, 48), 80);
  const meta = { codec: "jpeg" as const, width: 64, height: 48, fps: 25, timestampMs: Date.now() };
  const out: Uint8Array[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < FORGED_IDS; i++) {
      const streamId = 0x5000_0000 + i;
      out.push(...packetizeFrame({ ...meta, streamId, frameNumber: round * 2 + 1, payload: jpeg }, { fecOverhead: 0 }));
      if (round === 0) {
        const chunkBytes = 1400;
        out.push(
          encodeDatagram(
            {
              ...meta,
              streamId,
              frameNumber: 0,
              frameBytes: 64 << 20,
              chunkIndex: 0,
              chunkCount: Math.ceil((64 << 20) / chunkBytes),
              chunkBytes,
              fecGroups: 1,
              fecParityPerGroup: 0,
              tagBytes: 0,
            },
            new Uint8Array(chunkBytes),
          ),
        );
      }
    }
  }
  return out;
}

/** A socket bound to 127.0.0.2: loopback is all of 127.0.0.0/8, so the forger is another source address. */
function forgerSocket(): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    socket.bind(0, "127.0.0.2", () => resolve(socket));
    cleanup.add(() => {
      try {
        socket.close();
      } catch {
        // already closed
      }
    });
  });
}

/** Sends `pool` in batches of 200 at about `perSecond`, within `maxMs`; calls `onProgress` after each batch. */
async function paced(
  socket: Socket,
  pool: readonly Uint8Array[],
  port: number,
  perSecond: number,
  maxMs: number,
  onProgress: (sent: number) => void,
): Promise<number> {
  const BATCH = 200;
  const started = performance.now();
  let sent = 0;
  while (sent < pool.length && performance.now() - started < maxMs) {
    const batch = pool.slice(sent, sent + BATCH);
    await new Promise<void>((resolve) => {
      let left = batch.length;
      for (const datagram of batch) socket.send(datagram, port, "127.0.0.1", () => --left === 0 && resolve());
    });
    sent += batch.length;
    onProgress(sent);
    const ahead = (sent / perSecond) * 1000 - (performance.now() - started);
    if (ahead > 0) await sleep(ahead);
  }
  return sent;
}

/** Recording files in `dir`, and how many of them the process has open now. */
function recordingFiles(dir: string, pid: number): { inDir: number; open: number } {
  const inDir = readdirSync(dir).filter((name) => name.endsWith(".avi")).length;
  let open = 0;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target.startsWith(dir) && target.endsWith(".avi")) open++;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // the process has exited
  }
  return { inDir, open };
}

describe("strangers without a key", () => {
  it(`${FORGED_IDS} forged stream ids from another address against --streams separate: never more files than --max-streams, the real stream recorded whole`, async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const output = join(dir.path, "out.avi");
    const statsFile = join(dir.path, "stats.json");
    const senderStats = join(dir.path, "sender.json");
    const receiver = await startReceiver([
      ...loopbackReceiveArgs(port, { output, stats: statsFile, idleExit: 2 }),
      ...["--streams", "separate", "--http", "127.0.0.1:0"],
    ]);
    cleanup.kill(receiver);
    const pid = receiver.child.pid!;
    const url = (await receiver.waitFor(/"msg":"live view on (http:\/\/[^ "]+\/)/))[1]!;

    let most = { inDir: 0, open: 0 };
    const watch = setInterval(() => {
      const now = recordingFiles(dir.path, pid);
      most = { inDir: Math.max(most.inDir, now.inDir), open: Math.max(most.open, now.open) };
    }, 25);
    cleanup.add(() => clearInterval(watch));

    const pool = forgedDatagrams();
    const forger = await forgerSocket();
    const before = peakRssKiB(pid);
    let sender: ReturnType<typeof startSender> | undefined;
    const started = performance.now();
    // The forger is at its cap before the real sender starts: the real stream must still get in.
    const sent = await paced(forger, pool, port, 6_000, 60_000, (count) => {
      if (sender !== undefined || count < FORGED_IDS) return;
      sender = startSender([
        ...["--source", "test", "--codec", "jpeg", "--fps", "25", "--frames", String(FRAMES)],
        ...["--host", "127.0.0.1", "--port", String(port), "--stats", senderStats],
      ]);
      cleanup.kill(sender);
    });
    const seconds = (performance.now() - started) / 1000;
    const apiStreams = (await (await fetch(`${url}api/streams`)).json()) as {
      refused: { datagramsOverSourceCap: number };
    };
    const metrics = await (await fetch(`${url}metrics`)).text();
    const peak = peakRssKiB(pid);
    expect(sender).toBeDefined();
    expect(await sender!.exited).toBe(0);
    expect(await receiver.exited).toBe(0);
    clearInterval(watch);

    const stats = readReceiverStats(statsFile);
    const counters = v1Counters(stats);
    const { streamId, framesSent } = readSenderStats(senderStats);
    const realFile = join(dir.path, `out-${streamId.toString(16).padStart(8, "0")}.avi`);
    const frames = await inspectRecording(realFile);
    const verdict = judgeRecording(frames);
    const files = readdirSync(dir.path).filter((name) => name.endsWith(".avi"));
    const overSource = /udpcam_receiver_datagrams_refused_total\{reason="over_source_cap"\} (\d+)/.exec(metrics);
    console.log(
      `strangers: ${sent} forged datagrams (${FORGED_IDS} ids) in ${seconds.toFixed(1)} s; files at most ${most.inDir} in the folder, ${most.open} open at once, ${files.length} at the end; ` +
        `refused ${counters.datagramsOverSourceCap} over the per-source cap, ${counters.datagramsOverStreamCap} over --max-streams, ${stats.streamsRefused} streams by delivery; ` +
        `real stream ${verdict.intact} of ${framesSent} intact; peak RSS ${(before / 1024).toFixed(0)} -> ${(peak / 1024).toFixed(0)} MiB`,
    );

    expect(sent).toBe(pool.length);
    // Files: the real stream's and one per place the forger's address holds, never more than the cap.
    expect(most.inDir).toBeLessThanOrEqual(MAX_STREAMS);
    expect(most.open).toBeLessThanOrEqual(MAX_STREAMS);
    expect(files.length).toBeLessThanOrEqual(1 + PER_SOURCE);
    expect(files).toContain(`out-${streamId.toString(16).padStart(8, "0")}.avi`);
    // The real stream, frame by frame from its pixels: every frame sent, whole and in order.
    expect(verdict.torn).toBe(0);
    expect(verdict.intact).toBe(framesSent);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: framesSent }, (_, i) => i));
    // Counted where counters show: --stats, /api/streams, /metrics.
    expect(counters.datagramsOverSourceCap).toBeGreaterThan((FORGED_IDS - PER_SOURCE) * ROUNDS * 0.9);
    expect(apiStreams.refused.datagramsOverSourceCap).toBeGreaterThan(0);
    expect(Number(overSource?.[1])).toBeGreaterThan(0);
    // Bounded memory: refused streams cost nothing kept, admitted forgeries their few frames.
    expect(peak - before).toBeLessThan(64 * 1024);
    // One line per cause per 10 s, not one per forged stream.
    expect(logLines(receiver.stderr()).filter((l) => l.level >= LOG_WARN).length).toBeLessThan(10);
  }, 120_000);
});
