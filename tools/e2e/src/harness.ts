/**
 * What the end-to-end tests share beyond @udpcam/testkit (which the benchmark
 * shares too): cleanup after each test, JSON log lines, peak memory of a child,
 * a UDP socket of the test's own.
 */
import { execFileSync } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach } from "vitest";
import type { Child } from "@udpcam/testkit";

/** Registers an afterEach that runs (and forgets) every cleanup step added during the test. */
export function useCleanup(): { add: (step: () => void) => void; kill: (process: Child) => void } {
  const steps: (() => void)[] = [];
  afterEach(() => {
    for (const step of steps.splice(0).reverse()) step();
  });
  return {
    add: (step) => steps.push(step),
    kill: (process) => steps.push(() => process.signal("SIGKILL")),
  };
}

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export const LOG_WARN = 40;

/** The JSON log lines of a child started with --log-format json. */
export function logLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // a line cut short by a kill
    }
  }
  return lines;
}

/** Peak resident memory (VmHWM) of a running process, in KiB. */
export function peakRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]);
}

/** A UDP socket of the test's own, closed by cleanup. */
export function udpSocket(cleanup: { add: (step: () => void) => void }): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    socket.bind(0, "127.0.0.1", () => resolve(socket));
    cleanup.add(() => {
      try {
        socket.close();
      } catch {
        // already closed
      }
    });
  });
}

/** Sends datagrams and waits until the kernel took them all. */
export function sendAll(socket: Socket, datagrams: readonly Uint8Array[], port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = datagrams.length;
    if (left === 0) resolve();
    for (const datagram of datagrams) {
      socket.send(datagram, port, "127.0.0.1", (error) => {
        if (error) reject(error);
        else if (--left === 0) resolve();
      });
    }
  });
}

/** The JPEG files of an MJPG recording, copied out without decoding. */
export function recordedJpegs(output: string, dir: string): Buffer[] {
  const copies = join(dir, "copies");
  execFileSync("mkdir", ["-p", copies]);
  execFileSync("ffmpeg", ["-v", "error", "-i", output, "-c", "copy", "-f", "image2", join(copies, "%04d.jpg")]);
  return readdirSync(copies)
    .sort()
    .map((name) => readFileSync(join(copies, name)));
}
