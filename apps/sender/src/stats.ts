import type { RetransmitCounters } from "@udpcam/protocol";

export interface SenderStats {
  streamId: number;
  framesSent: number;
  datagramsSent: number;
  bytesSent: number;
  sendErrors: number;
  /**
   * Times the system reported that nothing listened at the destination (ICMP port unreachable, ECONNREFUSED on
   * the connected socket). Several refused datagrams between two reports count once.
   */
  refusals: number;
  framesScaled: number;
  /** Frames whose JPEG bytes came from the source and went out as they were (no decode, no re-encode). */
  framesPassedThrough: number;
  /** Outages of a network camera the sender reconnected from. */
  sourceReconnects: number;
  startedAt: number;
  elapsedSeconds: number;
  /** Retransmission on request (--nack on; all 0 when off). Retransmitted datagrams are not in datagramsSent/bytesSent. */
  nack: SenderNackCounters;
}

export interface SenderNackCounters extends RetransmitCounters {
  /** Datagrams on the socket that are not a NACK (or not a well-formed one): dropped. */
  nacksMalformed: number;
  /** NACKs without the key's tag, or with a wrong one, at a keyed sender (or tagged at an unkeyed one): dropped. */
  nacksUnauthenticated: number;
  /** NACKs for another stream id (an earlier run of this sender, or a forgery): dropped. */
  nacksOtherStream: number;
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
    stats.refusals > 0 ? `refused ${stats.refusals} times (nothing listening)` : undefined,
    stats.framesPassedThrough > 0 ? `${stats.framesPassedThrough} JPEG frames passed through` : undefined,
    stats.sourceReconnects > 0 ? `source reconnected ${stats.sourceReconnects} times` : undefined,
    stats.nack.nacksReceived + stats.nack.nacksUnauthenticated + stats.nack.nacksMalformed > 0
      ? `NACK: ${stats.nack.nacksReceived} answered, ${stats.nack.datagramsRetransmitted} datagrams sent again (${(stats.nack.bytesRetransmitted / 1e6).toFixed(2)} MB), ${stats.nack.datagramsRateLimited} over the rate limit, ${stats.nack.datagramsUnavailable} no longer held, ${stats.nack.nacksUnauthenticated} unauthenticated and ${stats.nack.nacksMalformed} malformed dropped`
      : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(", ");
}
