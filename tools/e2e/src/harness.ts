/**
 * Helpers for the reliability tests: cleanup, the receiver's --stats file and
 * JSON log lines, peak memory of a child, recordings judged frame by frame.
 */
import { createSocket, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";
import { afterEach } from "vitest";
import { readJson, type Running } from "./harness.js";
import { INTACT_MIN_PSNR, type RecordedFrame } from "./recording.js";

/** What the reliability tests read from the receiver's --stats file. */
export interface ReceiverStats {
  framesComplete: number;
  framesRecovered: number;
  framesDropped: number;
  framesLate: number;
  framesRecorded: number;
  framesSkippedBusy: number;
  framesUndecodable: number;
  streamsSeen: number;
  streamsRefused: number;
  datagramsReceived: number;
  files: string[];
  protocol: Record<string, unknown>;
}

export function readReceiverStats(path: string): ReceiverStats {
  return readJson<ReceiverStats>(path);
}

/** A protocol counter from the stats file (0 when absent). */
export function protocolCounter(stats: ReceiverStats, name: string): number {
  const value = stats.protocol[name];
  return typeof value === "number" ? value : 0;
}

/** Registers an afterEach that runs (and forgets) every cleanup step added during the test. */
export function useCleanup(): { add: (step: () => void) => void; kill: (process: Running) => void } {
  const steps: (() => void)[] = [];
  afterEach(() => {
    for (const step of steps.splice(0).reverse()) step();
  });
  return {
    add: (step) => steps.push(step),
    kill: (process) => steps.push(() => process.child.kill("SIGKILL")),
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

/** How a recording of the test pattern compares with what was sent. */
export interface RecordingVerdict {
  readonly recorded: number;
  /** Frames whose number reads the same top and bottom and whose every band matches the source. */
  readonly intact: number;
  readonly torn: number;
  /** Frames recorded more than once. */
  readonly repeated: number;
  /** Frame numbers not strictly increasing somewhere. */
  readonly outOfOrder: number;
}

export function judgeRecording(frames: readonly RecordedFrame[]): RecordingVerdict {
  const seen = new Set<number>();
  let intact = 0;
  let torn = 0;
  let repeated = 0;
  let outOfOrder = 0;
  let previous = -1;
  for (const frame of frames) {
    if (frame.torn) torn++;
    if (frame.number === undefined) continue;
    if (seen.has(frame.number)) repeated++;
    seen.add(frame.number);
    if (frame.number <= previous) outOfOrder++;
    previous = frame.number;
    if (!frame.torn && frame.worstBandPsnr > INTACT_MIN_PSNR) intact++;
  }
  return { recorded: frames.length, intact, torn, repeated, outOfOrder };
}

/** Splits a recording where frame numbers fall back (a new stream started at 0). */
export function runsOf(numbers: readonly (number | undefined)[]): number[][] {
  const runs: number[][] = [];
  let current: number[] = [];
  for (const n of numbers) {
    if (n === undefined) continue;
    const last = current[current.length - 1];
    if (last !== undefined && n <= last) {
      runs.push(current);
      current = [];
    }
    current.push(n);
  }
  if (current.length > 0) runs.push(current);
  return runs;
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
