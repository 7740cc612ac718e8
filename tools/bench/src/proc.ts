// Child processes for the benchmark: every one runs under /usr/bin/time (CPU seconds and
// peak resident memory, read by the kernel at exit: exact, unlike sampling /proc), in its
// own process group (so a stop signal reaches the program, not only `time`), with a hard
// timeout; testkit remembers it, so that an interrupted benchmark kills what it started.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { spawnChild, type Child } from "@udpcam/testkit";

export const TIME = "/usr/bin/time";

/** What GNU time reports about one process. */
export interface Usage {
  readonly wallSeconds: number;
  /** User + system CPU seconds. */
  readonly cpuSeconds: number;
  /** Peak resident set size (the kernel's maxrss: the process's VmHWM at exit), KiB. */
  readonly peakKiB: number;
}

/** A child run under GNU time: what testkit's child is, and its usage once it has exited. */
export interface TimedChild extends Child {
  /** Usage once exited; undefined if time did not write it (killed hard). */
  usage(): Usage | undefined;
}

export interface StartOptions {
  readonly timeoutMs: number;
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  /** Where time writes its line; removed after reading. */
  readonly usageFile: string;
}

export function start(name: string, command: string, args: readonly string[], options: StartOptions): TimedChild {
  const child = spawnChild(TIME, ["-f", "%e %U %S %M", "-o", options.usageFile, command, ...args], {
    name,
    timeoutMs: options.timeoutMs,
    processGroup: true,
    env: options.env,
    cwd: options.cwd,
  });
  let usage: Usage | undefined;
  return {
    ...child,
    usage: () => {
      usage ??= readUsage(options.usageFile);
      return usage;
    },
  };
}

function readUsage(path: string): Usage | undefined {
  if (!existsSync(path)) return undefined;
  // GNU time writes "Command exited with non-zero status N" first when the program failed.
  const lines = readFileSync(path, "utf8").trim().split("\n");
  rmSync(path, { force: true });
  const fields = (lines.at(-1) ?? "").split(" ").map(Number);
  const [wall, user, sys, peak] = fields;
  if (fields.length !== 4 || fields.some((f) => !Number.isFinite(f))) return undefined;
  return { wallSeconds: wall ?? 0, cpuSeconds: (user ?? 0) + (sys ?? 0), peakKiB: peak ?? 0 };
}

/** Waits for exit, or signals after graceMs and waits again (then SIGKILL). */
export async function finish(
  child: Child,
  graceMs: number,
  signal: NodeJS.Signals = "SIGINT",
): Promise<number | string> {
  const first = await Promise.race([child.exited, sleep(graceMs).then(() => undefined)]);
  if (first !== undefined) return first;
  child.signal(signal);
  const second = await Promise.race([child.exited, sleep(20_000).then(() => undefined)]);
  if (second !== undefined) return second;
  child.signal("SIGKILL");
  return child.exited;
}
