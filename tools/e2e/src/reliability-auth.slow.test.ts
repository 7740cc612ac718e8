/**
 * The shared key: frames flow when both sides have it (however it is given),
 * forged and replayed datagrams are dropped and counted, and a key on one side
 * only (or two different keys) earns one warning that says what to fix. The
 * key never appears in any output.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_MAX_DATAGRAM_BYTES, HEADER_BYTES, looksLikeRepair } from "@udpcam/protocol";
import {
  freePort,
  inspectRecording,
  readReceiverStats,
  startReceiver,
  startSender,
  tempDir,
  v1Counters,
  type Child,
} from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { LOG_WARN, logLines, sendAll, udpSocket, useCleanup } from "./harness.js";

const cleanup = useCleanup();
const KEY = "reliability-shared-secret-7f3a9c";
const OTHER_KEY = "another-secret-of-some-length-42";
const FRAMES = 40;

function expectKeyNeverShown(...processes: Child[]): void {
  for (const p of processes) {
    expect(p.stdout()).not.toContain(KEY);
    expect(p.stderr()).not.toContain(KEY);
    expect(p.stdout()).not.toContain(OTHER_KEY);
    expect(p.stderr()).not.toContain(OTHER_KEY);
  }
}

function senderArgs(port: number): string[] {
  return [
    "--source",
    "test",
    "--codec",
    "jpeg",
    "--fps",
    "50",
    "--frames",
    String(FRAMES),
    "--datagram-size",
    String(DEFAULT_MAX_DATAGRAM_BYTES),
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
  ];
}

async function receiverIn(
  dir: string,
  port: number,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
) {
  const output = join(dir, "out.avi");
  const statsFile = join(dir, "stats.json");
  const receiver = await startReceiver(
    [
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--output",
      output,
      "--stats",
      statsFile,
      "--idle-exit",
      "1.5",
      ...args,
    ],
    { env },
  );
  cleanup.kill(receiver);
  return { receiver, output, statsFile };
}

describe("shared key", () => {
  it.each([
    { how: "flags", receiver: { args: ["--key", KEY], env: {} }, sender: { args: ["--key", KEY], env: {} } },
    {
      how: "environment",
      receiver: { args: [], env: { RECEIVER_KEY: KEY } },
      sender: { args: [], env: { SENDER_KEY: KEY } },
    },
    {
      how: "key files",
      receiver: { args: ["--key-file", "KEYFILE"], env: {} },
      sender: { args: ["--key-file", "KEYFILE"], env: {} },
    },
  ])(
    "the same key on both sides ($how): every frame arrives, the key is never logged",
    async ({ receiver: r, sender: s }) => {
      const dir = tempDir();
      cleanup.add(dir.remove);
      const keyFile = join(dir.path, "key.txt");
      writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
      const withFile = (args: readonly string[]) => args.map((a) => (a === "KEYFILE" ? keyFile : a));
      const port = await freePort();
      const { receiver, output, statsFile } = await receiverIn(
        dir.path,
        port,
        [...withFile(r.args), "--log-level", "debug"],
        r.env,
      );
      const sender = startSender([...senderArgs(port), ...withFile(s.args), "--log-level", "debug"], { env: s.env });
      cleanup.kill(sender);
      expect(await sender.exited).toBe(0);
      expect(await receiver.exited).toBe(0);

      const frames = await inspectRecording(output);
      expect(frames.map((f) => f.number)).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
      const counters = v1Counters(readReceiverStats(statsFile));
      expect(counters.datagramsUnauthenticated + counters.datagramsUntagged).toBe(0);
      expect(logLines(receiver.stderr()).filter((l) => l.level >= LOG_WARN)).toEqual([]);
      expectKeyNeverShown(receiver, sender);
    },
    60_000,
  );

  it("forged and replayed datagrams are dropped and counted; each frame is recorded once", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const { receiver, output, statsFile } = await receiverIn(dir.path, port, ["--key", KEY]);
    // A relay in the middle keeps a copy of every datagram, as an eavesdropper would.
    const relay = await udpSocket(cleanup);
    const copies: Buffer[] = [];
    relay.on("message", (datagram) => {
      copies.push(Buffer.from(datagram));
      relay.send(datagram, port, "127.0.0.1");
    });
    const sender = startSender([...senderArgs(relay.address().port), "--key", KEY]);
    cleanup.kill(sender);
    expect(await sender.exited).toBe(0);

    // Forged: one payload byte changed, or the tag of another key's length and content.
    const forged = copies.map((copy, i) => {
      const bytes = Buffer.from(copy);
      const at = HEADER_BYTES + (i % Math.max(1, bytes.length - HEADER_BYTES - 16));
      bytes[at] = (bytes[at] ?? 0) ^ 0x5a;
      return bytes;
    });
    await sendAll(relay, forged, port);
    // Replayed: the exact datagrams again, all of them.
    await sendAll(relay, copies, port);
    expect(await receiver.exited).toBe(0);

    const stats = readReceiverStats(statsFile);
    const counters = v1Counters(stats);
    expect(counters.datagramsUnauthenticated).toBe(forged.length);
    // A replay lands with the late or surplus datagrams (for frames already finished) and emits nothing; the
    // window FEC repairs among them (JPEG with a key goes with window FEC) cover nothing missing: unneeded.
    const repairs = copies.filter((copy) => looksLikeRepair(copy)).length;
    expect(repairs).toBeGreaterThan(0);
    expect(counters.datagramsLate + counters.datagramsSurplus).toBeGreaterThanOrEqual(copies.length - repairs);
    expect(counters.repairsUnneeded).toBeGreaterThanOrEqual(repairs);
    expect(stats.framesComplete).toBe(FRAMES);
    const frames = await inspectRecording(output);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    const warnings = logLines(receiver.stderr()).filter((l) => l.level >= LOG_WARN);
    expect(warnings.map((w) => w.msg)).toEqual([expect.stringMatching(/does not match --key.*forged/)]);
    expectKeyNeverShown(receiver, sender);
  }, 60_000);

  it.each([
    {
      name: "key at the sender only",
      receiverArgs: [],
      senderKey: ["--key", KEY],
      expected: /tag but no --key is configured.*give the receiver the same --key/,
    },
    {
      name: "key at the receiver only",
      receiverArgs: ["--key", KEY],
      senderKey: [],
      expected: /without an authentication tag.*give the sender the same --key/,
    },
    {
      name: "different keys",
      receiverArgs: ["--key", KEY],
      senderKey: ["--key", OTHER_KEY],
      expected: /does not match --key.*different key/,
    },
  ])(
    "$name: nothing is recorded, and the receiver says once what to fix",
    async ({ receiverArgs, senderKey, expected }) => {
      const dir = tempDir();
      cleanup.add(dir.remove);
      const port = await freePort();
      const { receiver, statsFile } = await receiverIn(dir.path, port, receiverArgs);
      const sender = startSender([...senderArgs(port), ...senderKey]);
      cleanup.kill(sender);
      expect(await sender.exited).toBe(0);
      expect(await receiver.exited).toBe(0);

      const stats = readReceiverStats(statsFile);
      expect(stats.framesComplete).toBe(0);
      expect(stats.framesRecorded).toBe(0);
      expect(stats.datagramsReceived).toBeGreaterThan(FRAMES);
      const warnings = logLines(receiver.stderr()).filter((l) => l.level >= LOG_WARN);
      expect(warnings.map((w) => w.msg)).toEqual([expect.stringMatching(expected)]);
      expectKeyNeverShown(receiver, sender);
    },
    60_000,
  );
});
