/**
 * Encryption with the shared key, against the real programs on loopback: the recording is the
 * sender's JPEG bytes exactly, what crosses the wire (captured by a forwarder in the middle) shows
 * neither JPEG markers nor runs of the frames' bytes, forged, altered, cut and replayed datagrams are
 * refused and counted while the stream records intact, keys rotate on SIGHUP without a lost frame, and
 * a wrong, short or missing key or passphrase is said in one line.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DEFAULT_MAX_DATAGRAM_BYTES,
  decodeDatagram,
  FLAG_ENCRYPTED,
  FLAG_TAGGED,
  FLAG_WINDOW,
  HEADER_BYTES,
  looksLikeRepair,
  Offset,
  SALT_BYTES,
} from "@udpcam/protocol";
import {
  RECEIVER_MAIN,
  SENDER_MAIN,
  freePort,
  inspectRecording,
  loopbackReceiveArgs,
  loopbackTargetArgs,
  readReceiverStats,
  sourceArgs,
  spawnChild,
  startReceiver,
  startSender,
  tempDir,
  v1Counters,
} from "@udpcam/testkit";
import { encodeJpeg, renderPatternFrame } from "@udpcam/video";
import { describe, expect, it } from "vitest";
import { LOG_WARN, logLines, recordedJpegs, sendAll, udpSocket, useCleanup } from "./harness.js";

const cleanup = useCleanup();
const KEY = "encryption-test-key-5d0c1f7a9e";
const NEW_KEY = "encryption-test-key-rotated-42b8";
const QUALITY = 85;
const SOI = [0xff, 0xd8];
const EOI = [0xff, 0xd9];

/** The sender's own JPEG of pattern frame n (what it sends, and what MJPG must store). */
const sourceJpeg = (n: number): Uint8Array => encodeJpeg(renderPatternFrame(n, 640, 480), QUALITY);

function patternSender(port: number, frames: number, extra: readonly string[], fps = 25): string[] {
  return [
    ...sourceArgs({ source: "test", codec: "jpeg", fps, frames }),
    ...["--quality", String(QUALITY), "--datagram-size", String(DEFAULT_MAX_DATAGRAM_BYTES)],
    ...loopbackTargetArgs(port),
    ...extra,
  ];
}

/**
 * Whether any 32-byte run of `sources` appears in `wire`. Every 32-byte run holds a whole 16-byte
 * block that starts at a multiple of 16 in its source, so indexing those blocks finds every run.
 */
function sharesRun(sources: readonly Uint8Array[], wire: readonly Uint8Array[]): boolean {
  const blocks = new Set<string>();
  for (const s of sources)
    for (let i = 0; i + 16 <= s.length; i += 16) blocks.add(Buffer.from(s.subarray(i, i + 16)).toString("latin1"));
  for (const w of wire)
    for (let i = 0; i + 16 <= w.length; i++)
      if (blocks.has(Buffer.from(w.subarray(i, i + 16)).toString("latin1"))) return true;
  return false;
}

/** One byte offset of each class of field, header to tag, in an encrypted datagram of `length` bytes. */
function alterOffsets(length: number): number[] {
  const header = [
    0, 1, 2, 3, 4, 7, 8, 11, 12, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 30, 32, 36, 40, 43,
  ];
  const salt = [HEADER_BYTES, HEADER_BYTES + SALT_BYTES - 1];
  const start = HEADER_BYTES + SALT_BYTES;
  const payload = [start, Math.floor((start + length - 16) / 2), length - 17];
  const tag = [length - 16, length - 1];
  return [...header, ...salt, ...payload, ...tag];
}

async function receiverIn(dir: string, port: number, args: readonly string[]) {
  const output = join(dir, "out.avi");
  const statsFile = join(dir, "stats.json");
  const receiver = await startReceiver([
    ...loopbackReceiveArgs(port, { output, fourcc: "MJPG", stats: statsFile, idleExit: 2 }),
    ...args,
  ]);
  cleanup.kill(receiver);
  return { receiver, output, statsFile };
}

describe("encryption (--key, --encrypt on by default)", () => {
  it("records the sender's JPEGs bit for bit; the wire shows no marker or run of them; forged, altered, cut and replayed datagrams are refused and counted", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const FRAMES = 40;
    const port = await freePort();
    const { receiver, output, statsFile } = await receiverIn(dir.path, port, ["--key", KEY]);
    // The forwarder in the middle keeps every datagram, and after each real one sends an altered
    // copy (one bit flipped, a different field class each time) and one cut short.
    const forwarder = await udpSocket(cleanup);
    const wire: Buffer[] = [];
    let altered = 0;
    let cut = 0;
    forwarder.on("message", (datagram) => {
      wire.push(Buffer.from(datagram));
      forwarder.send(datagram, port, "127.0.0.1");
      const offsets = alterOffsets(datagram.length);
      const i = wire.length;
      const bad = Buffer.from(datagram);
      const at = offsets[i % offsets.length]!;
      bad[at] = bad[at]! ^ (1 << (i % 8));
      forwarder.send(bad, port, "127.0.0.1");
      altered++;
      forwarder.send(datagram.subarray(0, 1 + ((i * 37) % (datagram.length - 1))), port, "127.0.0.1");
      cut++;
    });
    const sender = startSender(patternSender(forwarder.address().port, FRAMES, ["--key", KEY]));
    cleanup.kill(sender);
    expect(await sender.exited).toBe(0);
    // Forged: random bytes shaped as a datagram (a real header, a fresh salt, noise after it).
    const forged = wire.slice(0, 50).map((copy, i) => {
      const bytes = Buffer.from(copy);
      for (let j = HEADER_BYTES; j < bytes.length; j++) bytes[j] = (j * 131 + i * 7) & 0xff;
      return bytes;
    });
    await sendAll(forwarder, forged, port);
    // Replayed: every datagram again.
    await sendAll(forwarder, wire, port);
    expect(await receiver.exited).toBe(0);

    // What arrived is what was sent: frame n of the file is the sender's JPEG of pattern frame n.
    const recorded = recordedJpegs(output, dir.path);
    expect(recorded).toHaveLength(FRAMES);
    const sources = Array.from({ length: FRAMES }, (_, n) => sourceJpeg(n));
    recorded.forEach((jpeg, n) => expect(Buffer.compare(jpeg, sources[n]!), `frame ${n}`).toBe(0));

    // The wire: every datagram encrypted; a frame's first chunk does not start with SOI, its last does
    // not end with EOI (as the plaintext's do: allowing one chance match in 2^16 each), no run of 32
    // bytes of any frame. The same check finds the runs in the recording, so it can fail.
    // JPEG goes with window FEC, encrypted too: its repair datagrams set W, E and A, and are combinations of the
    // sources' ciphertext (checked for runs below with the rest).
    const repairs = wire.filter((bytes) => looksLikeRepair(bytes));
    expect(repairs.length).toBeGreaterThan(FRAMES);
    expect(repairs.every((r) => r[Offset.flags] === (FLAG_WINDOW | FLAG_ENCRYPTED | FLAG_TAGGED))).toBe(true);
    expect(sharesRun(sources, repairs)).toBe(false);
    const decoded = wire.filter((bytes) => !looksLikeRepair(bytes)).map((bytes) => decodeDatagram(bytes));
    expect(decoded.every((d) => d.encrypted && d.tagBytes === 16 && d.windowSequence !== undefined)).toBe(true);
    const starts = (d: (typeof decoded)[number], marker: number[]) =>
      d.payload[0] === marker[0] && d.payload[1] === marker[1];
    const ends = (d: (typeof decoded)[number], marker: number[]) =>
      d.payload.at(-2) === marker[0] && d.payload.at(-1) === marker[1];
    const firsts = decoded.filter((d) => d.chunkIndex === 0);
    const lasts = decoded.filter((d) => d.chunkIndex === d.chunkCount - 1);
    expect(firsts).toHaveLength(FRAMES);
    expect(firsts.filter((d) => starts(d, SOI)).length).toBeLessThanOrEqual(1);
    expect(lasts.filter((d) => ends(d, EOI)).length).toBeLessThanOrEqual(1);
    expect(decoded.filter((d) => starts(d, SOI) || starts(d, EOI)).length).toBeLessThanOrEqual(2);
    expect(
      sharesRun(
        sources,
        decoded.map((d) => d.payload),
      ),
    ).toBe(false);
    expect(sharesRun(sources, [recorded[FRAMES - 1]!])).toBe(true);

    const stats = readReceiverStats(statsFile);
    const c = v1Counters(stats);
    // Every injected datagram is refused before it changes anything, and lands in one counter.
    expect(c.datagramsUnauthenticated + c.datagramsMalformed + c.datagramsUnencrypted + c.datagramsUntagged).toBe(
      altered + cut + forged.length,
    );
    expect(c.datagramsUnauthenticated).toBeGreaterThanOrEqual(forged.length);
    // Replays land with the late or surplus datagrams (repairs: unneeded) and emit nothing.
    expect(c.datagramsLate + c.datagramsSurplus).toBeGreaterThanOrEqual(decoded.length);
    expect(c.repairsUnneeded).toBeGreaterThanOrEqual(repairs.length);
    expect(stats.framesComplete).toBe(FRAMES);
    expect(stats.framesRecorded).toBe(FRAMES);
    // One line per cause: forgeries (a tag that does not open) and the flag-E flips (authenticated only).
    const warned = logLines(receiver.stderr())
      .filter((l) => l.level >= LOG_WARN)
      .map((w) => w.counter);
    expect(warned).toContain("datagramsUnauthenticated");
    expect(new Set(warned).size).toBe(warned.length);
    expect(warned.every((w) => w === "datagramsUnauthenticated" || w === "datagramsUnencrypted")).toBe(true);
    for (const p of [receiver, sender]) expect(p.stderr() + p.stdout()).not.toContain(KEY);
  }, 90_000);

  it("rotation: the receiver's key file, SIGHUP, then the sender's, SIGHUP: no frame lost; a bad file on SIGHUP keeps the key", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const FRAMES = 200;
    const receiverKey = join(dir.path, "receiver.key");
    const senderKey = join(dir.path, "sender.key");
    writeFileSync(receiverKey, `${KEY}\n`, { mode: 0o600 });
    writeFileSync(senderKey, `${KEY}\n`, { mode: 0o600 });
    const port = await freePort();
    const output = join(dir.path, "out.avi");
    const statsFile = join(dir.path, "stats.json");
    const receiver = await startReceiver([
      ...loopbackReceiveArgs(port, { output, stats: statsFile, idleExit: 2 }),
      ...["--key-file", receiverKey],
    ]);
    cleanup.kill(receiver);
    const sender = startSender(patternSender(port, FRAMES, ["--key-file", senderKey]));
    cleanup.kill(sender);
    await receiver.waitFor(/"msg":"recording to /);

    // A file that became invalid: one line, the key stays.
    writeFileSync(receiverKey, "short\n");
    receiver.signal("SIGHUP");
    await receiver.waitFor(/SIGHUP: --key-file: the key in .* is shorter than 16 characters.*still accepting/);
    writeFileSync(receiverKey, `${NEW_KEY}\n`);
    receiver.signal("SIGHUP");
    await receiver.waitFor(/SIGHUP: key reread from .*receiver\.key: accepting the new one, and the previous one/);
    await sleep(1000);
    writeFileSync(senderKey, `${NEW_KEY}\n`);
    sender.signal("SIGHUP");
    await sender.waitFor(/SIGHUP: key reread from .*sender\.key: sending with the new one/);
    expect(await sender.exited).toBe(0);
    expect(await receiver.exited).toBe(0);

    const frames = await inspectRecording(output);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    const stats = readReceiverStats(statsFile);
    expect(stats.framesComplete).toBe(FRAMES);
    expect(v1Counters(stats).datagramsUnauthenticated).toBe(0);
    const warnings = logLines(receiver.stderr()).filter((l) => l.level >= LOG_WARN);
    expect(warnings.map((w) => w.msg)).toEqual([expect.stringMatching(/^SIGHUP: --key-file: the key in/)]);
    for (const p of [receiver, sender]) {
      expect(p.stderr()).not.toContain(KEY);
      expect(p.stderr()).not.toContain(NEW_KEY);
    }
  }, 90_000);

  it.each([
    {
      name: "a different passphrase",
      receiverArgs: ["--passphrase", "the receiver's passphrase"],
      senderArgs: ["--passphrase", "the sender's other passphrase"],
      line: /does not match --key \(or --passphrase\).*different key or passphrase/,
      counter: "datagramsUnauthenticated" as const,
    },
    {
      name: "a sender with --encrypt off at a receiver with encryption on",
      receiverArgs: ["--key", KEY],
      senderArgs: ["--key", KEY, "--encrypt", "off"],
      line: /authenticated but not encrypted.*--encrypt off/,
      counter: "datagramsUnencrypted" as const,
    },
  ])(
    "$name: nothing recorded, every datagram counted, one line says so",
    async ({ receiverArgs, senderArgs, line, counter }) => {
      const dir = tempDir();
      cleanup.add(dir.remove);
      const port = await freePort();
      const { receiver, statsFile } = await receiverIn(dir.path, port, receiverArgs);
      const sender = startSender(patternSender(port, 20, senderArgs));
      cleanup.kill(sender);
      expect(await sender.exited).toBe(0);
      expect(await receiver.exited).toBe(0);
      const stats = readReceiverStats(statsFile);
      expect(stats.framesRecorded).toBe(0);
      expect(stats.datagramsReceived).toBeGreaterThan(20);
      // Window FEC repairs included: an encrypted stream's are tagged under the key (another passphrase:
      // unauthenticated), and an --encrypt off sender's carry its HMAC tag (an encrypting receiver: unencrypted).
      expect(v1Counters(stats)[counter]).toBe(stats.datagramsReceived);
      const warnings = logLines(receiver.stderr()).filter((l) => l.level >= LOG_WARN);
      expect(warnings.map((w) => w.msg)).toEqual([expect.stringMatching(line)]);
    },
    60_000,
  );

  it("a receiver with --encrypt off takes an encrypting sender's stream, and notes it once", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const { receiver, statsFile } = await receiverIn(dir.path, port, ["--key", KEY, "--encrypt", "off"]);
    const sender = startSender(patternSender(port, 20, ["--key", KEY]));
    cleanup.kill(sender);
    expect(await sender.exited).toBe(0);
    expect(await receiver.exited).toBe(0);
    expect(readReceiverStats(statsFile).framesRecorded).toBe(20);
    const notes = logLines(receiver.stderr()).filter((l) => /arrive encrypted and are accepted/.test(l.msg));
    expect(notes).toHaveLength(1);
    expect(logLines(receiver.stderr()).filter((l) => l.level >= LOG_WARN)).toEqual([]);
  }, 60_000);

  it.each([
    {
      app: "receiver",
      args: ["--passphrase", "too short"],
      line: /^udpcam receiver: --passphrase: .*at least 10 characters$/,
    },
    {
      app: "sender",
      args: ["--passphrase", "too short"],
      line: /^udpcam sender: --passphrase: .*at least 10 characters$/,
    },
    {
      app: "sender",
      args: ["--passphrase-file", "SHORT"],
      line: /^udpcam sender: --passphrase-file: the passphrase in .* is shorter than 10/,
    },
    { app: "sender", args: ["--key-file", "MISSING"], line: /^udpcam sender: --key-file: cannot read / },
    {
      app: "receiver",
      args: ["--passphrase-file", "MISSING"],
      line: /^udpcam receiver: --passphrase-file: cannot read /,
    },
  ])(
    "$app $args: one line, exit 2",
    async ({ app, args, line }) => {
      const dir = tempDir();
      cleanup.add(dir.remove);
      const short = join(dir.path, "short.txt");
      writeFileSync(short, "nine char\n");
      const argv = args.map((a) => (a === "SHORT" ? short : a === "MISSING" ? join(dir.path, "no-such-file") : a));
      const port = String(await freePort());
      const child = spawnChild(
        process.execPath,
        app === "sender"
          ? [SENDER_MAIN, "--source", "test", "--port", port, ...argv]
          : [RECEIVER_MAIN, "--port", port, "--host", "127.0.0.1", "--output", "none", ...argv],
        { timeoutMs: 20_000 },
      );
      cleanup.kill(child);
      expect(await child.exited).toBe(2);
      const lines = child.stderr().trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(line);
    },
    30_000,
  );
});
