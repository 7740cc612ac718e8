export interface SenderStats {
  streamId: number;
  framesSent: number;
  datagramsSent: number;
  bytesSent: number;
  sendErrors: number;
  framesScaled: number;
  startedAt: number;
  elapsedSeconds: number;
}

export function formatSenderStatus(stats: SenderStats, rate: { fps: number; mbps: number }): string {
  return `sending: ${rate.fps.toFixed(1)} fps, ${rate.mbps.toFixed(1)} Mbit/s, ${stats.framesSent} frames, ${stats.datagramsSent} datagrams${stats.sendErrors > 0 ? `, ${stats.sendErrors} send errors` : ""}`;
}

export function formatSenderSummary(stats: SenderStats): string {
  const seconds = Math.max(stats.elapsedSeconds, 1e-9);
  return [
    `sent ${stats.framesSent} frames in ${stats.elapsedSeconds.toFixed(1)} s (${(stats.framesSent / seconds).toFixed(1)} fps)`,
    `${stats.datagramsSent} datagrams, ${(stats.bytesSent / 1e6).toFixed(1)} MB (${((stats.bytesSent * 8) / seconds / 1e6).toFixed(1)} Mbit/s)`,
    stats.sendErrors > 0 ? `${stats.sendErrors} send errors` : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(", ");
}
