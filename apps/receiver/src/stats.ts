import type { SinkCounters } from "./delivery/sink-queue.js";
import type { LatencyWindow } from "./delivery/latency.js";
import { EMPTY_INGEST_COUNTERS, frameTotals, type IngestCounters, type ProtocolCounters } from "./ingest/messages.js";

/** The receiver's counters, as written by --stats and summed up at the end. */
export interface ReceiverStats {
  datagramsReceived: number;
  bytesReceived: number;
  /** Datagrams longer than the native reader's ring slot (dropped), and failed reads of the socket; 0 with dgram. */
  datagramsTruncated: number;
  receiveErrors: number;
  framesComplete: number;
  framesRecovered: number;
  framesDropped: number;
  framesLate: number;
  /** Frames decoded and handed to the window and the recording. */
  framesDelivered: number;
  /** Frames written to the recording (0 with --output none). */
  framesRecorded: number;
  /** Delivered to the recording and dropped by its queue: encoding could not keep up. */
  framesNotRecorded: number;
  framesShown: number;
  /** Complete frames that some sink skipped because it could not keep up (see `sinks`). */
  framesSkippedBusy: number;
  framesUndecodable: number;
  streamsSeen: number;
  streamsRefused: number;
  /** The protocol's own counters (datagrams malformed, duplicate, unauthenticated...), by wire format. */
  protocol: ProtocolCounters;
  /** Per sink (display, recording...): frames delivered, skipped while busy, undecodable. */
  sinks: Record<string, SinkCounters>;
  latencyMs: { p50: number | undefined; p99: number | undefined };
  files: string[];
  startedAt: number;
  elapsedSeconds: number;
  /** This process's own use (its encoder processes not included), taken when it stops. */
  resources: ReceiverResources;
}

export interface ReceiverResources {
  /** Whether OpenCV was loaded in this process (a receiver that stores JPEG as it arrives, with no window, never needs it). */
  opencvLoaded: boolean;
  /** Peak resident memory of this process (its maxrss), bytes. */
  peakRssBytes: number;
  /** User + system CPU of this process, every thread, seconds. */
  cpuSeconds: number;
}

/** This process's resources now. */
export function processResources(opencvLoaded: boolean): ReceiverResources {
  const cpu = process.cpuUsage();
  return {
    opencvLoaded,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

export function emptyReceiverStats(now: number): ReceiverStats {
  return {
    datagramsReceived: 0,
    bytesReceived: 0,
    datagramsTruncated: 0,
    receiveErrors: 0,
    framesComplete: 0,
    framesRecovered: 0,
    framesDropped: 0,
    framesLate: 0,
    framesDelivered: 0,
    framesRecorded: 0,
    framesNotRecorded: 0,
    framesShown: 0,
    framesSkippedBusy: 0,
    framesUndecodable: 0,
    streamsSeen: 0,
    streamsRefused: 0,
    protocol: EMPTY_INGEST_COUNTERS.protocol,
    sinks: {},
    latencyMs: { p50: undefined, p99: undefined },
    files: [],
    startedAt: now,
    elapsedSeconds: 0,
    resources: { opencvLoaded: false, peakRssBytes: 0, cpuSeconds: 0 },
  };
}

/** Copies the ingest thread's latest counters into the stats. */
export function applyIngestCounters(stats: ReceiverStats, counters: IngestCounters): void {
  stats.datagramsReceived = counters.datagramsReceived;
  stats.bytesReceived = counters.bytesReceived;
  stats.datagramsTruncated = counters.datagramsTruncated;
  stats.receiveErrors = counters.receiveErrors;
  stats.protocol = counters.protocol;
  Object.assign(stats, frameTotals(counters.protocol));
}

/** New streams refused for a cap: by delivery (streams), and by the reassembler (datagrams, by cap). */
export interface StreamRefusals {
  readonly streamsRefused: number;
  readonly datagramsOverSourceCap: number;
  readonly datagramsOverStreamCap: number;
}

export function streamRefusals(stats: ReceiverStats): StreamRefusals {
  const p = stats.protocol;
  const ingest = p.format === "legacy" ? { datagramsOverSourceCap: 0, datagramsOverStreamCap: 0 } : p;
  return {
    streamsRefused: stats.streamsRefused,
    datagramsOverSourceCap: ingest.datagramsOverSourceCap,
    datagramsOverStreamCap: ingest.datagramsOverStreamCap,
  };
}

function ms(value: number | undefined): string {
  return value === undefined ? "-" : value.toFixed(1);
}

export function formatReceiverStatus(
  stats: ReceiverStats,
  rate: { fps: number; mbps: number },
  latency: LatencyWindow,
): string {
  const finished = stats.framesComplete + stats.framesDropped;
  const loss = finished === 0 ? 0 : (100 * stats.framesDropped) / finished;
  return (
    `receiving: ${rate.fps.toFixed(1)} fps, ${rate.mbps.toFixed(1)} Mbit/s, frame loss ${loss.toFixed(2)}%, ` +
    `${stats.framesComplete} complete (${stats.framesRecovered} rebuilt by FEC), ${stats.framesDropped} dropped, ` +
    `${stats.framesDelivered} delivered, latency p50 ${ms(latency.percentile(0.5))} ms p99 ${ms(latency.percentile(0.99))} ms`
  );
}

export function formatReceiverSummary(stats: ReceiverStats): string[] {
  const malformed = stats.protocol.datagramsMalformed;
  const refused = streamRefusals(stats);
  const capped = refused.datagramsOverSourceCap + refused.datagramsOverStreamCap;
  return [
    `received ${stats.datagramsReceived} datagrams (${(stats.bytesReceived / 1e6).toFixed(1)} MB) in ${stats.elapsedSeconds.toFixed(1)} s${malformed > 0 ? `, ${malformed} malformed and dropped` : ""}${stats.datagramsTruncated > 0 ? `, ${stats.datagramsTruncated} longer than 64 KiB and dropped` : ""}${stats.receiveErrors > 0 ? `, ${stats.receiveErrors} failed reads of the socket` : ""}`,
    `frames: ${stats.framesComplete} complete (${stats.framesRecovered} rebuilt by FEC), ${stats.framesDropped} dropped incomplete, ${stats.framesLate} late, ${stats.framesDelivered} delivered, ${stats.framesRecorded} recorded${stats.framesNotRecorded > 0 ? ` (${stats.framesNotRecorded} not: encoding could not keep up)` : ""}`,
    `latency: p50 ${ms(stats.latencyMs.p50)} ms, p99 ${ms(stats.latencyMs.p99)} ms`,
    ...nackSummary(stats),
    stats.files.length > 0 ? `recording: ${stats.files.join(", ")}` : "recording: none",
    ...(refused.streamsRefused + capped > 0
      ? [
          `new streams refused: ${refused.streamsRefused} by delivery, datagrams of ${capped} more (${refused.datagramsOverSourceCap} over --max-streams-per-source, ${refused.datagramsOverStreamCap} over --max-streams)`,
        ]
      : []),
  ];
}

/** One line on retransmission on request, when the receiver asked for any. */
function nackSummary(stats: ReceiverStats): string[] {
  if (stats.protocol.format !== "v1" || stats.protocol.nack.nacksSent === 0) return [];
  const n = stats.protocol.nack;
  return [
    `NACK: ${n.nacksSent} sent asking for ${n.datagramsRequested} datagrams (${n.framesRequested} frames whole), ${n.datagramsRecoveredByNack} recovered, ${n.datagramsRequestedDuplicate} arrived twice, ${n.gapsExpired} still missing past --latency`,
  ];
}
