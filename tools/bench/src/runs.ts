// The measurements the benchmark is made of, each repeated and summarized: one setup's runs
// (measure), the dgram ceiling, the highest sustained rate, and CPU profiles of our apps.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, freePort } from "@udpcam/testkit";
import { runOnce, type Impl, type RunResult, type RunSpec } from "./peers.js";
import { hotspots } from "./profile.js";
import { finish, start } from "./proc.js";
import { median, summarize, type Summary } from "./summary.js";

/** Where runs leave their files, how often each is repeated, and where progress goes. */
export interface BenchSetup {
  readonly dir: string;
  readonly runs: number;
  readonly progress: (line: string) => void;
}

export async function measure(setup: BenchSetup, spec: Omit<RunSpec, "dir">, runs = setup.runs): Promise<Summary> {
  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    results.push(await runOnce({ ...spec, dir: setup.dir }));
    removeRecordings(setup.dir);
  }
  const summary = summarize(results);
  setup.progress(
    `${spec.impl.id} ${spec.width}x${spec.height} fps=${spec.fps || "max"} loss=${spec.loss ?? "direct"} record=${spec.record}: ` +
      `intact ${summary.intact}/${summary.sent}, torn ${summary.torn}, lost ${summary.lost}, ${summary.sendFps.toFixed(0)} fps sent` +
      (summary.failures.length > 0 ? `; FAILED: ${summary.failures.join(" | ")}` : ""),
  );
  return summary;
}

/** Recordings and stats of finished runs (clips and profiles stay). */
function removeRecordings(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (/^(ours|seed|gst)-/.test(name)) rmSync(join(dir, name), { force: true });
  }
}

// ---------------------------------------------------------------- the dgram ceiling

export interface Ceiling {
  readonly datagramsPerS: number;
  readonly bytesPerS: number;
}

async function ceilingOnce(setup: BenchSetup, size: number): Promise<Ceiling | undefined> {
  const script = join(REPO_ROOT, "tools/bench/dist/ceiling.js");
  const port = await freePort();
  const receiver = start(
    "ceiling recv",
    process.execPath,
    [script, "--mode", "recv", "--port", String(port), "--seconds", "2.6"],
    { timeoutMs: 20_000, usageFile: join(setup.dir, "ceiling-rx.time") },
  );
  await receiver.waitFor(/listening/);
  const sender = start(
    "ceiling send",
    process.execPath,
    [script, "--mode", "send", "--port", String(port), "--bytes", String(size), "--seconds", "2"],
    { timeoutMs: 20_000, usageFile: join(setup.dir, "ceiling-tx.time") },
  );
  await finish(sender, 15_000);
  await finish(receiver, 15_000);
  try {
    return JSON.parse(receiver.stdout()) as Ceiling;
  } catch {
    return undefined;
  }
}

export async function ceiling(setup: BenchSetup, size: number): Promise<Ceiling> {
  const runs: Ceiling[] = [];
  for (let i = 0; i < setup.runs; i++) {
    const run = await ceilingOnce(setup, size);
    if (run !== undefined) runs.push(run);
  }
  const result = {
    datagramsPerS: median(runs.map((r) => r.datagramsPerS)) ?? 0,
    bytesPerS: median(runs.map((r) => r.bytesPerS)) ?? 0,
  };
  setup.progress(
    `dgram ceiling ${size} B: ${result.datagramsPerS.toFixed(0)} datagrams/s, ${(result.bytesPerS / 1e6).toFixed(0)} MB/s`,
  );
  return result;
}

// ---------------------------------------------------------------- highest sustained rate

export interface RateResult {
  readonly impl: Impl;
  readonly width: number;
  readonly height: number;
  readonly record: boolean;
  /** The flat-out attempt. */
  readonly flatOut: Summary;
  /** The fastest attempt where at least 2 of 3 runs delivered every frame intact, and its aimed rate (0 = flat out). */
  readonly sustained: { readonly fps: number; readonly aimed: number; readonly summary: Summary } | undefined;
  readonly tried: readonly number[];
}

export const clean = (s: Summary): boolean => s.cleanRuns * 2 > s.runs.length;

/** Shares of the flat-out send rate tried first, from the top, when flat out is not clean. */
const STEPS_DOWN = [0.75, 0.5, 0.3];
/** Halvings of the gap (at most a quarter of flat out's rate) between the first clean rate and the failed one above it. */
const REFINEMENTS = 3;

/** How `highestRate` searches, for the method lines of the docs. */
export const RATE_SEARCH_METHOD = `flat out first; if it is not clean, paced at ${STEPS_DOWN.map((s) => `${s * 100}%`).join(", ")} of the rate flat out reached until one is clean, then ${REFINEMENTS} halvings of the gap between that rate and the failed one above it (to within 1/${4 * 2 ** REFINEMENTS} of flat out's rate)`;

export async function highestRate(
  setup: BenchSetup,
  impl: Impl,
  clip: string,
  width: number,
  height: number,
  frames: number,
  record = true,
): Promise<RateResult> {
  const base = { impl, clip, width, height, frames, loss: undefined, record };
  const flatOut = await measure(setup, { ...base, fps: 0 });
  const tried = [0];
  if (clean(flatOut))
    return {
      impl,
      width,
      height,
      record,
      flatOut,
      sustained: { fps: flatOut.intactFps, aimed: 0, summary: flatOut },
      tried,
    };
  if (!impl.anyRate) return { impl, width, height, record, flatOut, sustained: undefined, tried };
  const attempt = async (fps: number): Promise<Summary> => {
    tried.push(fps);
    return measure(setup, { ...base, fps, frames: Math.min(frames, Math.max(50, Math.round(fps * 2))) });
  };
  // Paced below what flat out reached, in steps down to the first clean rate...
  const reached = Math.max(flatOut.sendFps, 10);
  let failed = reached;
  let best: { fps: number; aimed: number; summary: Summary } | undefined;
  for (const share of STEPS_DOWN) {
    const fps = Math.max(5, Math.round(reached * share));
    const summary = await attempt(fps);
    if (clean(summary)) {
      best = { fps: summary.intactFps, aimed: fps, summary };
      break;
    }
    failed = fps;
  }
  // ...then halving the gap between it and the failed rate above it: where the steps fall no longer decides the figure.
  for (let i = 0; best !== undefined && i < REFINEMENTS; i++) {
    const fps = Math.round((best.aimed + failed) / 2);
    if (fps <= best.aimed || fps >= failed) break;
    const summary = await attempt(fps);
    if (clean(summary)) best = { fps: summary.intactFps, aimed: fps, summary };
    else failed = fps;
  }
  return { impl, width, height, record, flatOut, sustained: best, tried };
}

// ---------------------------------------------------------------- profiles

export interface ProfileResult {
  readonly title: string;
  readonly sender: string[];
  readonly receiver: string[];
}

export async function profile(
  setup: BenchSetup,
  title: string,
  spec: Omit<RunSpec, "dir" | "senderNodeFlags" | "receiverNodeFlags">,
): Promise<ProfileResult> {
  const base = join(setup.dir, `prof-${Date.now()}`);
  const dirs = { tx: join(base, "tx"), rx: join(base, "rx") };
  mkdirSync(dirs.tx, { recursive: true });
  mkdirSync(dirs.rx, { recursive: true });
  await runOnce({
    ...spec,
    dir: setup.dir,
    senderNodeFlags: ["--cpu-prof", `--cpu-prof-dir=${dirs.tx}`],
    receiverNodeFlags: ["--cpu-prof", `--cpu-prof-dir=${dirs.rx}`],
  });
  removeRecordings(setup.dir);
  const top = (profDir: string): string[] => {
    const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
    return file === undefined
      ? ["(no profile written)"]
      : hotspots(join(profDir, file), 8).map((h) => `${(h.share * 100).toFixed(1)}% ${h.name}`);
  };
  setup.progress(`profiled: ${title}`);
  return { title, sender: top(dirs.tx), receiver: top(dirs.rx) };
}

export function profileMarkdown(list: readonly ProfileResult[]): string[] {
  const lines: string[] = [];
  for (const p of list) {
    lines.push(`**${p.title}**`, "", "| sender | receiver |", "| --- | --- |");
    for (let i = 0; i < Math.max(p.sender.length, p.receiver.length); i++)
      lines.push(`| ${p.sender[i] ?? ""} | ${p.receiver[i] ?? ""} |`);
    lines.push("");
  }
  return lines;
}
