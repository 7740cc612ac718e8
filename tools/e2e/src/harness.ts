import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const SENDER_MAIN = join(ROOT, "apps/sender/dist/main.js");
export const RECEIVER_MAIN = join(ROOT, "apps/receiver/dist/main.js");
/** Debian's python3, which has cv2 (python3-opencv); the one on PATH may not. */
export const SYSTEM_PYTHON = "/usr/bin/python3";

export function tempDir(prefix = "udpcam-e2e-"): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A UDP port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const socket = createSocket("udp4");
    socket.once("error", fail);
    socket.bind(0, "127.0.0.1", () => {
      const { port } = socket.address();
      socket.close(() => done(port));
    });
  });
}

export interface Running {
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  readonly exited: Promise<number | string>;
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr (or stdout) matches, rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

export function run(command: string, args: readonly string[], options: { env?: Record<string, string | undefined>; cwd?: string } = {}): Running {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<number | string>((done) => child.once("exit", (code, signal) => done(code ?? signal ?? -1)));
  return {
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise<void>((done, fail) => {
        const check = setInterval(() => {
          if (pattern.test(err) || pattern.test(out)) {
            clearInterval(check);
            clearTimeout(timer);
            done();
          }
        }, 20);
        const timer = setTimeout(() => {
          clearInterval(check);
          fail(new Error(`timed out waiting for ${String(pattern)}; stderr:\n${err}`));
        }, timeoutMs);
        void exited.then((code) => {
          if (pattern.test(err) || pattern.test(out)) return;
          clearInterval(check);
          clearTimeout(timer);
          fail(new Error(`exited (${code}) before ${String(pattern)}; stderr:\n${err}\nstdout:\n${out}`));
        });
      }),
  };
}

/** The receiver as a child process; resolves once it listens. */
export async function startReceiver(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<Running> {
  const receiver = run(process.execPath, [RECEIVER_MAIN, "--log-format", "json", "--display", "off", ...args], { env });
  await receiver.waitFor(/"msg":"listening on /);
  return receiver;
}

export function startSender(args: readonly string[], env: Record<string, string | undefined> = {}): Running {
  return run(process.execPath, [SENDER_MAIN, "--log-format", "json", ...args], { env });
}

export function readJson<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/** Frames counted by decoding the whole file, as a player would. */
export function ffprobeFrameCount(path: string): number {
  const probe = spawnSync("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path], { encoding: "utf8" });
  if (probe.status !== 0) throw new Error(`ffprobe cannot read ${path}: ${probe.stderr}`);
  return Number(probe.stdout.trim());
}
