// A program run as a child process for a test or a benchmark: its output collected, its
// exit awaited, a pattern in its output waited for, and every child still running
// remembered, so that an interrupted run can kill what it started.
import { spawn, type ChildProcess } from "node:child_process";
import { REPO_ROOT } from "./paths.js";

export interface ChildOptions {
  /** Shown in messages; default the command's name. */
  readonly name?: string;
  /** Default: the repository's root. */
  readonly cwd?: string;
  /** Laid over this process's environment; a variable set to undefined is removed. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Killed (SIGKILL) after this long; `exited` then reports "timeout". Default: no limit. */
  readonly timeoutMs?: number;
  /**
   * Its own process group, and `signal` goes to the whole group: for a program started
   * through a wrapper (`/usr/bin/time prog`) that the signal must reach.
   */
  readonly processGroup?: boolean;
}

export interface Child {
  readonly name: string;
  readonly child: ChildProcess;
  /**
   * Settles once the process has exited and its output is read: the exit code, the
   * signal's name, "timeout" when `timeoutMs` ran out, or the spawn error's code.
   */
  readonly exited: Promise<number | string>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the match once stderr (or stdout) matches; rejects on exit or after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends a signal (to its process group with `processGroup`); nothing once it has exited. */
  signal(name: NodeJS.Signals): void;
}

const DEFAULT_WAIT_MS = 30_000;
const POLL_MS = 10;
/** A grandchild that inherited the pipes can hold them open: after exit, wait this long for them at most. */
const OUTPUT_GRACE_MS = 2_000;
const TAIL_CHARS = 2_000;

const running = new Set<Child>();

/** Kills (SIGKILL) every child started here that is still running. For exit paths. */
export function killAllChildren(): void {
  for (const child of running) child.signal("SIGKILL");
  running.clear();
}

export function spawnChild(command: string, args: readonly string[], options: ChildOptions = {}): Child {
  const name = options.name ?? command;
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    // eslint-disable-next-line no-restricted-syntax -- a child inherits this environment, as a shell's would
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.processGroup === true,
  });
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));

  const signal = (which: NodeJS.Signals): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      if (options.processGroup === true) process.kill(-child.pid, which);
      else child.kill(which);
    } catch {
      // already gone
    }
  };

  let timedOut = false;
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          signal("SIGKILL");
        }, options.timeoutMs);

  const exited = new Promise<number | string>((done) => {
    let settled = false;
    const settle = (result: number | string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      running.delete(handle);
      done(timedOut ? "timeout" : result);
    };
    child.once("close", (code, sig) => settle(code ?? sig ?? -1));
    child.once("exit", (code, sig) => setTimeout(() => settle(code ?? sig ?? -1), OUTPUT_GRACE_MS).unref());
    child.once("error", (error: NodeJS.ErrnoException) => {
      err += `${name}: ${error.message}\n`;
      if (child.pid === undefined) settle(error.code ?? "error");
    });
  });

  const waitFor = (pattern: RegExp, timeoutMs = DEFAULT_WAIT_MS): Promise<RegExpExecArray> =>
    new Promise((done, fail) => {
      const check = (): boolean => {
        const match = pattern.exec(err) ?? pattern.exec(out);
        if (match === null) return false;
        stop();
        done(match);
        return true;
      };
      const poll = setInterval(check, POLL_MS);
      const giveUp = setTimeout(() => {
        stop();
        fail(new Error(`${name}: no ${String(pattern)} within ${timeoutMs} ms; stderr:\n${err.slice(-TAIL_CHARS)}`));
      }, timeoutMs);
      const stop = (): void => {
        clearInterval(poll);
        clearTimeout(giveUp);
      };
      void exited.then((code) => {
        if (check()) return;
        stop();
        fail(
          new Error(
            `${name} exited (${code}) before ${String(pattern)}; stderr:\n${err.slice(-TAIL_CHARS)}\nstdout:\n${out.slice(-TAIL_CHARS)}`,
          ),
        );
      });
    });

  const handle: Child = { name, child, exited, stdout: () => out, stderr: () => err, waitFor, signal };
  running.add(handle);
  return handle;
}
