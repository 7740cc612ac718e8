// Child processes for the benchmark: every one runs under /usr/bin/time (CPU seconds and
// peak resident memory, read by the kernel at exit: exact, unlike sampling /proc), in its
// own process group (so a stop signal reaches the program, not only `time`), with a hard
// timeout, and is remembered so that an interrupted benchmark kills what it started.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";

export const TIME = "/usr/bin/time";

/** What GNU time reports about one process. */
export interface Usage {
  readonly wallSeconds: number;
  /** User + system CPU seconds. */
  readonly cpuSeconds: number;
  /** Peak resident set size (the kernel's maxrss: the process's VmHWM at exit), KiB. */
  readonly peakKiB: number;
}

export interface Child {
  readonly name: string;
  readonly child: ChildProcess;
  /** Exit code, or the signal's name; a timed-out child is killed and reports "timeout". */
  readonly exited: Promise<number | string>;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout or stderr matches; rejects on exit or after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends a signal to the program (the whole process group). */
  signal(name: NodeJS.Signals): void;
  /** Usage once exited; undefined if time did not write it (killed hard). */
  usage(): Usage | undefined;
}

const live = new Set<Child>();

/** Kills every child still running (SIGKILL to its group). For exit paths. */
export function killAll(): void {
  for (const child of live) child.signal("SIGKILL");
  live.clear();
}

export interface StartOptions {
  readonly timeoutMs: number;
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  /** Where time writes its line; removed after reading. */
  readonly usageFile: string;
}

export function start(name: string, command: string, args: readonly string[], options: StartOptions): Child {
  const child = spawn(TIME, ["-f", "%e %U %S %M", "-o", options.usageFile, command, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  let timedOut = false;
  const signal = (name: NodeJS.Signals): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, name);
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    signal("SIGKILL");
  }, options.timeoutMs);
  const exited = new Promise<number | string>((done) =>
    child.once("close", (code, sig) => {
      clearTimeout(timer);
      live.delete(handle);
      done(timedOut ? "timeout" : (code ?? sig ?? -1));
    }),
  );
  let usage: Usage | undefined | null = null;
  const handle: Child = {
    name,
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    signal,
    waitFor: (pattern, timeoutMs = 20_000) =>
      new Promise((done, fail) => {
        const check = (): boolean => {
          const match = pattern.exec(err) ?? pattern.exec(out);
          if (match === null) return false;
          clearInterval(poll);
          clearTimeout(giveUp);
          done(match);
          return true;
        };
        const poll = setInterval(check, 10);
        const giveUp = setTimeout(() => {
          clearInterval(poll);
          fail(new Error(`${name}: no ${String(pattern)} within ${timeoutMs} ms; stderr: ${err.slice(-500)}`));
        }, timeoutMs);
        void exited.then((code) => {
          if (check()) return;
          clearInterval(poll);
          clearTimeout(giveUp);
          fail(new Error(`${name} exited (${code}) before ${String(pattern)}; stderr: ${err.slice(-500)}`));
        });
      }),
    usage: () => {
      if (usage !== null) return usage;
      usage = readUsage(options.usageFile);
      return usage;
    },
  };
  live.add(handle);
  return handle;
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

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Waits for exit, or signals after graceMs and waits again (then SIGKILL). */
export async function finish(child: Child, graceMs: number, signal: NodeJS.Signals = "SIGINT"): Promise<number | string> {
  const first = await Promise.race([child.exited, sleep(graceMs).then(() => undefined)]);
  if (first !== undefined) return first;
  child.signal(signal);
  const second = await Promise.race([child.exited, sleep(20_000).then(() => undefined)]);
  if (second !== undefined) return second;
  child.signal("SIGKILL");
  return child.exited;
}
