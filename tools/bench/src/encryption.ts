// Encryption end to end: udpcam's sender and receiver as processes on loopback with no key,
// with authentication only (--encrypt off) and with encryption (--encrypt on, the default with a
// key), at 1,472-byte datagrams (JPEG 640x480, recorded as MJPG) and 65,507-byte ones (raw 640x480,
// counted, not recorded): CPU per frame of each process and the highest rate with every frame
// intact, side by side in one run. CPU per datagram in-process is docs/benchmarks/encryption.md
// (the protocol package's bench). Writes docs/benchmarks/encryption-end-to-end.md.
// Usage: node dist/encryption.js [--quick]. A benchmark, not a test: the exit code stays 0.
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, writePatternClip } from "@udpcam/testkit";
import { readQuick } from "./options.js";
import { IMPLS, type Impl } from "./peers.js";
import { benchSession, ANALYSIS_MARKER, runBench, writeReport } from "./report.js";
import { RATE_SEARCH_METHOD, highestRate, type BenchSetup, type RateResult } from "./runs.js";

const quick = readQuick(
  "bench encryption",
  {
    usage: "node tools/bench/dist/encryption.js [--quick]",
    summary:
      "udpcam with no key, authentication only and encryption: CPU per frame and the highest intact rate at 1,472 and 65,507-byte datagrams; writes docs/benchmarks/encryption-end-to-end.md.",
  },
  "short runs, for development (figures not for comparison)",
);
const OUT = join(REPO_ROOT, "docs/benchmarks/encryption-end-to-end.md");
const RUNS = quick ? 1 : 3;
const FRAMES = quick ? 60 : 150;
const KEY = "bench-encryption-key-0123456789";

const { dir, log, cleanup } = benchSession("udpcam-bench-encryption-", "bench encryption");
const setup: BenchSetup = { dir, runs: RUNS, progress: log };

const MODES = [
  { label: "no key", args: [] as string[] },
  { label: "authentication only (--key, --encrypt off)", args: ["--key", KEY, "--encrypt", "off"] },
  { label: "encrypted (--key, --encrypt on)", args: ["--key", KEY] },
] as const;

function withKey(impl: Impl, args: readonly string[]): Impl {
  return {
    ...impl,
    senderArgs: [...(impl.senderArgs ?? []), ...args],
    receiverArgs: [...(impl.receiverArgs ?? []), ...args],
  };
}

const f2 = (v: number | undefined): string => (v === undefined ? "n/a" : v.toFixed(2));

async function main(): Promise<void> {
  const load = execFileSync("uptime", { encoding: "utf8" }).trim();
  const started = new Date().toISOString();
  const clip = join(dir, "clip-640x480.avi");
  await writePatternClip(clip, { width: 640, height: 480, frames: FRAMES });
  const configs = [
    {
      label: "JPEG 640x480, 1,472 B datagrams, FEC 10%, recorded as MJPG",
      impl: IMPLS["ours-jpeg-1472"],
      size: 1472,
      record: true,
    },
    {
      label: "raw 640x480, 65,507 B datagrams, no FEC, not recorded",
      impl: IMPLS["ours-raw"],
      size: 65_507,
      record: false,
    },
  ];
  const lines = [
    "# Encryption end to end: no key, authentication only, encrypted",
    "",
    `- Date (UTC): ${started}; machine: ${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${cpus().length} cores; Node ${process.version}`,
    `- Load at the start: \`${load}\` (the machine is shared with other work: compare rows of this run, not runs)`,
    `- \`pnpm bench\` (\`tools/bench/src/encryption.ts\`): sender and receiver as processes on loopback, the ${FRAMES}-frame test-pattern clip, ${RUNS} runs per attempt; clean means at least 2 of 3 runs deliver every frame intact: ${RATE_SEARCH_METHOD}.`,
    "- CPU ms per frame: user + system time of each process over the frames sent (process start included), median of the runs of the sustained attempt; datagrams per frame from the bytes the receiver got.",
    "",
    "| frames | mode | sustained intact fps (aimed) | flat out: intact / sent | sender CPU ms/frame | receiver CPU ms/frame | ≈ datagrams/frame | receiver CPU µs/datagram |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const results: { config: string; mode: string; r: RateResult }[] = [];
  for (const config of configs)
    for (const mode of MODES) {
      log(`${config.label}: ${mode.label}`);
      const r = await highestRate(setup, withKey(config.impl, mode.args), clip, 640, 480, FRAMES, config.record);
      results.push({ config: config.label, mode: mode.label, r });
      const s = r.sustained?.summary ?? r.flatOut;
      const perFrame = s.bytesPerS === undefined || s.sendFps <= 0 ? undefined : s.bytesPerS / s.sendFps / config.size;
      const datagrams = perFrame === undefined ? undefined : Math.max(1, Math.ceil(perFrame));
      const rx = s.receiverMsPerFrame;
      lines.push(
        `| ${config.label} | ${mode.label} | ${r.sustained === undefined ? "none found" : `${r.sustained.fps.toFixed(0)} (${r.sustained.aimed === 0 ? "flat out" : r.sustained.aimed})`} | ${r.flatOut.intact} / ${r.flatOut.sent} | ${f2(s.senderMsPerFrame)} | ${f2(rx)} | ${datagrams ?? "n/a"} | ${rx === undefined || datagrams === undefined ? "n/a" : ((1000 * rx) / datagrams).toFixed(1)} |`,
      );
    }
  lines.push("", "## Read", "");
  for (const config of configs) {
    const rows = results.filter((x) => x.config === config.label);
    const fps = (i: number) => rows[i]?.r.sustained?.fps;
    lines.push(
      `- ${config.label}: sustained intact fps ${rows.map((x) => `${x.mode}: ${x.r.sustained?.fps.toFixed(0) ?? "none"}`).join("; ")}` +
        (fps(0) !== undefined && fps(2) !== undefined
          ? `; encrypted / no key = ${(fps(2)! / fps(0)!).toFixed(2)}`
          : "") +
        ".",
    );
  }
  lines.push(
    `- Load at the end: ${loadavg()
      .map((n) => n.toFixed(2))
      .join(", ")}.`,
    "",
    ANALYSIS_MARKER,
    "",
    "## Analysis (kept across runs; update it when the numbers move)",
    "",
  );
  writeReport(OUT, lines);
  log(`wrote ${OUT}`);
}

await runBench(main, log, cleanup);
