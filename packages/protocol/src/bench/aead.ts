/**
 * What encryption costs: CPU per datagram and per frame to packetize (sender) and reassemble (receiver)
 * with no key, authentication only (HMAC-SHA-256, flag A), and encryption (flag E) with ChaCha20-Poly1305
 * and with AES-256-GCM, at 1,472- and 65,507-byte datagrams; FEC off so the crypto is what differs. The
 * apps' AEAD is chosen from this table. Writes docs/benchmarks/encryption.md.
 * Run with `pnpm --filter @udpcam/protocol bench` (after build).
 */
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { DEFAULT_MAX_DATAGRAM_BYTES, MAX_DATAGRAM_BYTES } from "../header.js";
import { createKeyring, keyFromSecret, type AeadAlgorithm } from "../node/keyring.js";
import { packetizeFrame, type FrameToSend, type PacketizeOptions } from "../packetize.js";
import { createReassembler, type ReassemblerOptions } from "../reassembler.js";
import { prng, randomBytes } from "../testing/random.js";

const ROUND_MS = 500;
const ROUNDS = 3;
const KEY = keyFromSecret("a benchmark key of some length");

/** Calls per second of `step`: a warm-up, then the median of ROUNDS rounds. */
function rate(step: (i: number) => void): number {
  let count = 0;
  for (; count < 20; count++) step(count);
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    let calls = 0;
    while (performance.now() - start < ROUND_MS) {
      step(count++);
      calls++;
    }
    rounds.push(calls / ((performance.now() - start) / 1000));
  }
  return rounds.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)] ?? 0;
}

type Mode = "none" | "hmac" | AeadAlgorithm;
const MODES: readonly { mode: Mode; label: string }[] = [
  { mode: "none", label: "no key" },
  { mode: "hmac", label: "authentication only (HMAC-SHA-256)" },
  { mode: "chacha20-poly1305", label: "encrypted, ChaCha20-Poly1305" },
  { mode: "aes-256-gcm", label: "encrypted, AES-256-GCM" },
];

function options(mode: Mode): { send: PacketizeOptions; receive: () => ReassemblerOptions } {
  if (mode === "none") return { send: {}, receive: () => ({}) };
  if (mode === "hmac") {
    const keys = createKeyring([KEY]);
    return { send: { authenticator: keys.authenticator }, receive: () => ({ authenticator: keys.authenticator }) };
  }
  const sender = createKeyring([KEY], { algorithm: mode });
  const receiver = createKeyring([KEY], { algorithm: mode });
  return { send: { cipher: sender.cipher }, receive: () => ({ cipher: receiver.cipher }) };
}

interface Row {
  readonly size: number;
  readonly frame: string;
  readonly label: string;
  readonly mode: Mode;
  readonly datagrams: number;
  readonly sendUs: number;
  readonly receiveUs: number;
}

const random = prng(3);
const FRAMES: readonly { label: string; payload: Uint8Array }[] = [
  { label: "JPEG-sized (40,000 B)", payload: randomBytes(random, 40_000) },
  { label: "raw 640x480 (921,600 B)", payload: randomBytes(random, 921_600) },
];

function measure(size: number, frameLabel: string, payload: Uint8Array, mode: Mode, label: string): Row {
  const base: FrameToSend = {
    streamId: 1,
    frameNumber: 0,
    codec: "jpeg",
    width: 640,
    height: 480,
    fps: 25,
    timestampMs: 0,
    payload,
  };
  const { send, receive } = options(mode);
  const packetize = { ...send, maxDatagramBytes: size, fecOverhead: 0 };
  const datagrams = packetizeFrame(base, packetize).length;
  const sendRate = rate((i) => packetizeFrame({ ...base, frameNumber: i }, packetize));
  const pool = Array.from({ length: 16 }, (_, i) => packetizeFrame({ ...base, frameNumber: i }, packetize));
  let r = createReassembler(receive());
  const receiveRate = rate((i) => {
    if (i % 16 === 0) r = createReassembler(receive());
    let done = false;
    for (const d of pool[i % 16]!) for (const e of r.push(d, 0)) if (e.type === "frame") done = true;
    if (!done) throw new Error(`${label}: frame not reassembled`);
  });
  return { size, frame: frameLabel, label, mode, datagrams, sendUs: 1e6 / sendRate, receiveUs: 1e6 / receiveRate };
}

function main(): void {
  const started = new Date().toISOString();
  const load = execFileSync("uptime", { encoding: "utf8" }).trim();
  const rows: Row[] = [];
  for (const size of [DEFAULT_MAX_DATAGRAM_BYTES, MAX_DATAGRAM_BYTES])
    for (const f of FRAMES)
      for (const { mode, label } of MODES) {
        rows.push(measure(size, f.label, f.payload, mode, label));
        process.stderr.write(`aead bench: ${size} ${f.label} ${label}\n`);
      }
  const us = (n: number) => n.toFixed(n < 10 ? 2 : 1);
  const lines = [
    "# Encryption: CPU per datagram and per frame (in-process)",
    "",
    `- Date (UTC): ${started}`,
    `- Machine: ${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${cpus().length} cores; Node ${process.version} (OpenSSL ${process.versions.openssl})`,
    `- Load at the start: \`${load}\`; at the end: ${loadavg()
      .map((n) => n.toFixed(2))
      .join(", ")} (the machine is shared: compare rows of this run only)`,
    `- \`pnpm --filter @udpcam/protocol bench\` (\`src/bench/aead.ts\`): packetizeFrame and the reassembler, one call at a time, FEC off; each figure the median of ${ROUNDS} rounds of ${ROUND_MS} ms. Random bytes as frames.`,
    "- µs per datagram = µs per frame / datagrams; the crypto's share is the difference from the no-key row.",
    "",
    "| datagram | frame | mode | datagrams | send µs/frame | send µs/datagram | receive µs/frame | receive µs/datagram | send x no key | receive x no key |",
    "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const row of rows) {
    const none = rows.find((r) => r.size === row.size && r.frame === row.frame && r.mode === "none")!;
    lines.push(
      `| ${row.size} | ${row.frame} | ${row.label} | ${row.datagrams} | ${us(row.sendUs)} | ${us(row.sendUs / row.datagrams)} | ${us(row.receiveUs)} | ${us(row.receiveUs / row.datagrams)} | ${(row.sendUs / none.sendUs).toFixed(2)} | ${(row.receiveUs / none.receiveUs).toFixed(2)} |`,
    );
  }
  const pick = (size: number, mode: Mode) =>
    rows.filter((r) => r.size === size && r.mode === mode).reduce((sum, r) => sum + r.sendUs + r.receiveUs, 0);
  lines.push("", "## The choice", "");
  for (const size of [DEFAULT_MAX_DATAGRAM_BYTES, MAX_DATAGRAM_BYTES]) {
    const chacha = pick(size, "chacha20-poly1305");
    const gcm = pick(size, "aes-256-gcm");
    lines.push(
      `- ${size}-byte datagrams: AES-256-GCM takes ${(gcm / chacha).toFixed(2)}x the time of ChaCha20-Poly1305 (both frames, send + receive).`,
    );
  }
  const faster = pick(MAX_DATAGRAM_BYTES, "chacha20-poly1305") <= pick(MAX_DATAGRAM_BYTES, "aes-256-gcm");
  lines.push(
    `- Picked: **ChaCha20-Poly1305** (the apps' AEAD, \`DEFAULT_AEAD\`). This run ${faster ? "agrees" : "DISAGREES: AES-256-GCM was faster here; revisit the choice"}.`,
    "",
  );
  const markdown = lines.join("\n");
  process.stdout.write(markdown);
  const out = fileURLToPath(new URL("../../../../docs/benchmarks/encryption.md", import.meta.url));
  writeFileSync(out, markdown);
  process.stdout.write(`\nwritten to ${out}\n`);
}

main();
