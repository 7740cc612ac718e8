/**
 * Replay after a restart: a keyed session's datagrams are captured on the way (a forwarder on
 * loopback between the sender and the receiver), the receiver is stopped and started again, and
 * the capture is sent to it. With a key, the new receiver refuses every datagram captured (by the
 * sender's clock) more than --max-clock-skew before it started: nothing of the capture is recorded,
 * all of it is counted, and a live sender started afterwards is recorded whole.
 */
import { createSocket, type Socket } from "node:dgram";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { decodeDatagram, looksLikeRepair } from "@udpcam/protocol";
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
import { describe, expect, it } from "vitest";
import { LOG_WARN, logLines, sendAll, udpSocket, useCleanup } from "./harness.js";

const cleanup = useCleanup();

const KEY = "replay-after-restart-key-5d1e8b";
const FRAMES = 50;
/** The skew the receivers tolerate here: the capture must be older than this when the second one starts. */
const SKEW_S = 1;

/** A forwarder on 127.0.0.1: every datagram to it goes on to `to`, and a copy is kept. */
function captureForwarder(to: number): Promise<{ port: number; captured: Buffer[]; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    const captured: Buffer[] = [];
    socket.on("message", (datagram) => {
      captured.push(Buffer.from(datagram));
      socket.send(datagram, to, "127.0.0.1");
    });
    socket.bind(0, "127.0.0.1", () => resolve({ port: socket.address().port, captured, socket }));
    cleanup.add(() => {
      try {
        socket.close();
      } catch {
        // already closed
      }
    });
  });
}

function sender(port: number, statsFile: string): ReturnType<typeof startSender> {
  const child = startSender([
    ...["--source", "test", "--codec", "jpeg", "--fps", "25", "--frames", String(FRAMES)],
    ...["--host", "127.0.0.1", "--port", String(port), "--key", KEY, "--stats", statsFile],
    // About 20 datagrams a frame, as on a real network: the replay is many datagrams, not one per frame.
    ...["--datagram-size", "1472"],
  ]);
  cleanup.kill(child);
  return child;
}

describe("replay after a receiver restart", () => {
  it("a keyed session captured on the wire and replayed to the restarted receiver: refused and counted, nothing recorded; a live sender after it is recorded", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const receiverArgs = (name: string) => [
      ...loopbackReceiveArgs(port, { output: join(dir.path, `${name}.avi`), stats: join(dir.path, `${name}.json`) }),
      ...["--key", KEY, "--max-clock-skew", String(SKEW_S)],
    ];

    // The first run: a live session through the forwarder, recorded whole.
    const first = await startReceiver(receiverArgs("first"));
    cleanup.kill(first);
    const forwarder = await captureForwarder(port);
    const recorded = sender(forwarder.port, join(dir.path, "recorded.json"));
    expect(await recorded.exited).toBe(0);
    await sleep(300);
    first.signal("SIGTERM");
    expect(await first.exited).toBe(0);
    const firstFrames = await inspectRecording(join(dir.path, "first.avi"));
    expect(judgeRecording(firstFrames).intact).toBe(FRAMES);
    const capture = forwarder.captured;
    // JPEG with a key goes with window FEC: its repair datagrams carry no capture time of their own.
    const repairs = capture.filter((d) => looksLikeRepair(d)).length;
    const lastCapture = Math.max(
      ...capture.filter((d) => !looksLikeRepair(d)).map((d) => decodeDatagram(d).timestampMs),
    );
    expect(repairs).toBeGreaterThan(0);
    expect(capture.length).toBeGreaterThan(FRAMES * 10);

    // The restart, once the capture is older than the skew the receiver tolerates.
    await sleep(Math.max(0, lastCapture + SKEW_S * 1000 + 200 - Date.now()));
    const second = await startReceiver(receiverArgs("second"));
    cleanup.kill(second);
    const attacker = await udpSocket(cleanup);
    await sendAll(attacker, capture, port);
    await sleep(1000);
    const live = sender(port, join(dir.path, "live.json"));
    expect(await live.exited).toBe(0);
    await sleep(300);
    second.signal("SIGTERM");
    expect(await second.exited).toBe(0);

    const stats = readReceiverStats(join(dir.path, "second.json"));
    const counters = v1Counters(stats);
    const liveSent = readSenderStats(join(dir.path, "live.json"));
    const frames = await inspectRecording(join(dir.path, "second.avi"));
    const verdict = judgeRecording(frames);
    console.log(
      `replay: ${capture.length} captured datagrams replayed after the restart, ${counters.datagramsStale} refused as stale, ${counters.repairsUnmatched} repairs unmatched; ` +
        `second recording ${frames.length} frames (${verdict.intact} intact) of the live sender's ${liveSent.framesSent}`,
    );
    // Every replayed datagram refused and counted: the sources as stale, the repairs as unmatched (no source of
    // theirs was taken, so they start nothing); only the live sender's frames recorded, once each.
    expect(counters.datagramsStale).toBe(capture.length - repairs);
    expect(counters.repairsUnmatched).toBeGreaterThanOrEqual(repairs);
    expect(stats.streamsSeen).toBe(1);
    expect(stats.framesComplete).toBe(liveSent.framesSent);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: liveSent.framesSent }, (_, i) => i));
    expect(verdict.intact).toBe(liveSent.framesSent);
    // One line says why (not one per datagram).
    const staleLines = logLines(second.stderr()).filter(
      (l) => l.level >= LOG_WARN && l.msg.includes("--max-clock-skew"),
    );
    expect(staleLines).toHaveLength(1);
    expect(staleLines[0]!.msg).toContain("replayed");
  }, 90_000);
});
