// What several runs of one setup come to: medians per column, and the runs in which every
// frame arrived intact.
import type { RunResult } from "./peers.js";

export function median(values: readonly (number | undefined)[]): number | undefined {
  const sorted = values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export interface Summary {
  readonly runs: readonly RunResult[];
  readonly sent: number;
  readonly intact: number;
  readonly torn: number;
  readonly lost: number;
  readonly sendFps: number;
  /** Intact frames per second of sending time. */
  readonly intactFps: number;
  readonly senderMsPerFrame: number | undefined;
  readonly receiverMsPerFrame: number | undefined;
  readonly receiverPeakMiB: number | undefined;
  readonly latencyP50: number | undefined;
  readonly latencyP99: number | undefined;
  readonly bytesPerS: number | undefined;
  /** Runs in which every frame sent was recorded intact (or, not recording, completed). */
  readonly cleanRuns: number;
  readonly failures: readonly string[];
}

export function summarize(runs: readonly RunResult[]): Summary {
  const m = (pick: (r: RunResult) => number | undefined): number => median(runs.map(pick)) ?? 0;
  const mu = (pick: (r: RunResult) => number | undefined): number | undefined => median(runs.map(pick));
  return {
    runs,
    sent: m((r) => r.sent),
    intact: m((r) => r.intact),
    torn: m((r) => r.torn),
    lost: m((r) => r.lost),
    sendFps: m((r) => r.sendFps),
    intactFps: m((r) => (r.sendSeconds > 0 ? r.intact / r.sendSeconds : 0)),
    senderMsPerFrame: mu((r) => (r.senderCpuSeconds === undefined ? undefined : (1000 * r.senderCpuSeconds) / r.sent)),
    receiverMsPerFrame: mu((r) =>
      r.receiverCpuSeconds === undefined ? undefined : (1000 * r.receiverCpuSeconds) / r.sent,
    ),
    receiverPeakMiB: mu((r) => (r.receiverPeakKiB === undefined ? undefined : r.receiverPeakKiB / 1024)),
    latencyP50: mu((r) => r.latencyP50),
    latencyP99: mu((r) => r.latencyP99),
    bytesPerS: mu((r) =>
      r.bytesReceived === undefined || r.sendSeconds <= 0 ? undefined : r.bytesReceived / r.sendSeconds,
    ),
    cleanRuns: runs.filter((r) => r.failure === undefined && r.sent > 0 && r.intact === r.sent && r.torn === 0).length,
    failures: runs.flatMap((r) => (r.failure === undefined ? [] : [r.failure])),
  };
}
