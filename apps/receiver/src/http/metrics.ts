/**
 * /metrics: the receiver's counters in Prometheus text format, from a registry
 * of its own (not prom-client's global one). Values are read from the stats on
 * each scrape; only the latency histogram is fed as frames arrive.
 *
 * Names: `udpcam_receiver_` + what is counted + the base unit, `_total` on
 * counters (Prometheus' naming practice; MediaMTX's `paths_bytes_received` and
 * SRT's byte and packet counters are the same quantities). The scheme is in the
 * README's "Metrics" section.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { streamHexId, type StreamSnapshot } from "../delivery/stream-stats.js";
import type { ReceiverStats } from "../stats.js";
import type { ViewerRegistry } from "./viewers.js";

export interface MetricsSource {
  /** The receiver's stats, brought up to date (sinks included). */
  readonly stats: () => ReceiverStats;
  readonly streams: () => readonly StreamSnapshot[];
  readonly viewers: ViewerRegistry;
  readonly unauthorized: () => number;
  readonly health: () => { readonly alive: boolean; readonly msSinceLastDatagram: number | undefined };
}

/** Capture (the sender's clock) to frame complete, seconds: 1 ms to 5 s. */
interface Sample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

const LATENCY_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];

/**
 * A series read from the stats at each scrape: one value, or one per `label` value. `undefined`: the receiver's
 * wire format has no such counter (window FEC and NACK are v1's); a series with a label then has no sample, one
 * without reads 0 (prom-client shows an unlabelled series whatever it is set to).
 */
type StatSeries =
  | { readonly name: string; readonly help: string; readonly read: (stats: ReceiverStats) => number | undefined }
  | {
      readonly name: string;
      readonly help: string;
      readonly label: string;
      readonly read: (stats: ReceiverStats) => Record<string, number> | undefined;
    };

type V1Counters = Extract<ReceiverStats["protocol"], { format: "v1" }>;
/** `read` of the v1 counters, undefined for the other wire formats. */
const v1 =
  <T>(read: (p: V1Counters) => T) =>
  (s: ReceiverStats): T | undefined =>
    s.protocol.format === "v1" ? read(s.protocol) : undefined;

/** The counters taken from the stats, in the order a scrape lists them. */
const STAT_COUNTERS: readonly StatSeries[] = [
  { name: "datagrams_received_total", help: "UDP datagrams read from the socket", read: (s) => s.datagramsReceived },
  { name: "received_bytes_total", help: "UDP payload bytes read from the socket", read: (s) => s.bytesReceived },
  {
    name: "datagrams_truncated_total",
    help: "Datagrams longer than the native reader's 64 KiB slot, dropped (none can be on IPv4 or IPv6 without jumbograms)",
    read: (s) => s.datagramsTruncated,
  },
  {
    name: "receive_errors_total",
    help: "Failed reads of the socket by the native reader (a pending ICMP error, for one)",
    read: (s) => s.receiveErrors,
  },
  {
    name: "datagrams_refused_total",
    help: "Datagrams not used for a frame, by reason (authentication failures: unauthenticated, untagged, auth_required; captured before the receiver started less --max-clock-skew: stale; new streams past --max-streams-per-source or --max-streams: over_source_cap, over_stream_cap)",
    label: "reason",
    read: (s) => refusedByReason(s),
  },
  {
    name: "frames_complete_total",
    help: "Frames reassembled whole (rebuilt ones included)",
    read: (s) => s.framesComplete,
  },
  {
    name: "frames_recovered_total",
    help: "Complete frames with at least one chunk rebuilt by FEC",
    read: (s) => s.framesRecovered,
  },
  {
    name: "chunks_recovered_total",
    help: "Data chunks rebuilt by per-frame FEC (v1)",
    read: v1((p) => p.chunksRecovered),
  },
  { name: "frames_dropped_total", help: "Frames given up incomplete", read: (s) => s.framesDropped },
  {
    name: "frames_late_total",
    help: "Frames first seen after a newer frame of their stream",
    read: (s) => s.framesLate,
  },
  {
    name: "complete_frame_bytes_total",
    help: "Payload bytes of the frames reassembled whole",
    read: (s) => s.protocol.bytesEmitted,
  },
  { name: "frames_delivered_total", help: "Complete frames handed to the sinks", read: (s) => s.framesDelivered },
  { name: "frames_shown_total", help: "Frames drawn in the window (--display)", read: (s) => s.framesShown },
  { name: "frames_recorded_total", help: "Frames written to the recording", read: (s) => s.framesRecorded },
  {
    name: "frames_not_recorded_total",
    help: "Frames the recording's queue dropped: encoding could not keep up",
    read: (s) => s.framesNotRecorded,
  },
  {
    name: "frames_undecodable_total",
    help: "Complete frames whose JPEG did not decode",
    read: (s) => s.framesUndecodable,
  },
  {
    name: "sink_frames_skipped_total",
    help: "Frames a sink skipped because it was busy, by sink",
    label: "sink",
    read: (s) => Object.fromEntries(Object.entries(s.sinks).map(([sink, counters]) => [sink, counters.skipped])),
  },
  {
    name: "sink_frames_delivered_total",
    help: "Frames a sink took, by sink",
    label: "sink",
    read: (s) => Object.fromEntries(Object.entries(s.sinks).map(([sink, counters]) => [sink, counters.delivered])),
  },
  {
    name: "sink_frames_undecodable_total",
    help: "Frames a sink took whose JPEG did not decode, by sink",
    label: "sink",
    read: (s) => Object.fromEntries(Object.entries(s.sinks).map(([sink, counters]) => [sink, counters.undecodable])),
  },
  { name: "streams_seen_total", help: "Streams taken", read: (s) => s.streamsSeen },
  {
    name: "streams_refused_total",
    help: "Streams refused by delivery (--streams first, or --max-streams with --streams separate)",
    read: (s) => s.streamsRefused,
  },
  {
    name: "datagrams_accepted_total",
    help: "Datagrams placed in a frame (a new data or parity chunk; a window FEC repair is counted apart)",
    read: (s) => s.protocol.datagramsAccepted,
  },
  {
    name: "datagrams_malformed_total",
    help: 'Datagrams refused as malformed, by the protocol\'s error code (their sum is datagrams_refused_total{reason="malformed"})',
    label: "code",
    read: (s) => ({ ...s.protocol.malformedByCode }),
  },
  {
    name: "datagrams_other_format_total",
    help: "Malformed datagrams shaped like another wire format, by that format: the sender may use --protocol FORMAT",
    label: "format",
    read: (s): Record<string, number> =>
      s.protocol.format === "v1" ? { legacy: s.protocol.datagramsLegacyLike } : { v1: s.protocol.datagramsV1Like },
  },
  {
    name: "datagrams_decrypted_total",
    help: "Datagrams that arrived encrypted and opened (v1, flag E; of accepted, duplicate, late and surplus)",
    read: v1((p) => p.datagramsDecrypted),
  },
  {
    name: "frames_torn_total",
    help: "Frames emitted torn (--protocol legacy --legacy-mode seed only)",
    read: (s) => (s.protocol.format === "legacy" ? s.protocol.framesTorn : undefined),
  },
  {
    name: "window_repair_datagrams_total",
    help: "Window FEC repair datagrams that verified (v1; in no datagrams_* counter above)",
    read: v1((p) => p.datagramsRepair),
  },
  {
    name: "window_repairs_total",
    help: "Window FEC repair datagrams by what became of them: used (an equation), unneeded (covered nothing missing), unmatched (for a stream or salt no verified source started: another run's), inconsistent (hostile or broken)",
    label: "outcome",
    read: v1((p) => ({
      used: p.repairsReceived,
      unneeded: p.repairsUnneeded,
      unmatched: p.repairsUnmatched,
      inconsistent: p.repairsInconsistent,
    })),
  },
  {
    name: "window_sources_recovered_total",
    help: "Source datagrams rebuilt from window FEC repairs",
    read: v1((p) => p.sourcesRecovered),
  },
  {
    name: "window_equations_expired_total",
    help: "Window FEC equations given up: past --latency, or pushed out by newer ones",
    read: v1((p) => p.equationsExpired),
  },
  {
    name: "window_shed_total",
    help: "Window FEC sources and equations let go early to keep a stream's window state within its memory share",
    read: v1((p) => p.windowShed),
  },
  {
    name: "nacks_sent_total",
    help: "NACK datagrams sent to ask a sender for missing datagrams (--nack on)",
    read: v1((p) => p.nack.nacksSent),
  },
  {
    name: "nack_datagrams_requested_total",
    help: "Datagrams asked for in NACKs (each try counts; a frame asked for whole counts one)",
    read: v1((p) => p.nack.datagramsRequested),
  },
  {
    name: "nack_frames_requested_total",
    help: "Frames asked for whole in NACKs (none of their datagrams had arrived)",
    read: v1((p) => p.nack.framesRequested),
  },
  {
    name: "nack_datagrams_recovered_total",
    help: "Datagrams that arrived after they were asked for: recovered by retransmission (or their own late arrival)",
    read: v1((p) => p.nack.datagramsRecoveredByNack),
  },
  {
    name: "nack_datagrams_duplicate_total",
    help: "Datagrams asked for that arrived when already held (a retransmission after the original, or a second one)",
    read: v1((p) => p.nack.datagramsRequestedDuplicate),
  },
  {
    name: "nack_datagrams_expired_total",
    help: "Datagrams still missing when their frame passed --latency (asked for or not)",
    read: v1((p) => p.nack.gapsExpired),
  },
  {
    name: "nack_send_errors_total",
    help: "NACK datagrams the socket failed to send",
    read: v1((p) => p.nack.nackSendErrors),
  },
];

/** Gauges taken from the stats: what the reassembler holds now (as of the ingest thread's last report, at most 250 ms old). */
const STAT_GAUGES: readonly StatSeries[] = [
  {
    name: "reassembly_streams",
    help: "Streams the reassembler tracks now (before the stream gate)",
    read: (s) => (s.protocol.format === "legacy" ? undefined : s.protocol.streams),
  },
  {
    name: "reassembly_frames_in_flight",
    help: "Frames started and not yet complete or given up",
    read: (s) => (s.protocol.format === "legacy" ? undefined : s.protocol.framesInFlight),
  },
  {
    name: "reassembly_buffered_bytes",
    help: "Bytes the frames in flight hold",
    read: (s) => (s.protocol.format === "legacy" ? undefined : s.protocol.bufferedBytes),
  },
  {
    name: "window_buffered_bytes",
    help: "Bytes of window FEC state (sources and equations) held now",
    read: v1((p) => p.windowBytes),
  },
];

export class ReceiverMetrics {
  readonly registry = new Registry();
  readonly #latency: Histogram;

  constructor(private readonly source: MetricsSource) {
    const registers = [this.registry];
    this.#latency = new Histogram({
      name: "udpcam_receiver_frame_latency_seconds",
      help: "Capture (sender's clock) to frame complete at the receiver",
      buckets: LATENCY_BUCKETS,
      registers,
    });

    for (const series of STAT_COUNTERS) this.#family(series.name, series.help, ...statSamples(series, source));
    for (const series of STAT_GAUGES) this.#gauge(series.name, series.help, ...statSamples(series, source));
    this.#counter("http_unauthorized_requests_total", "HTTP requests refused for a missing or wrong token", () =>
      source.unauthorized(),
    );
    this.#gauge("streams", "Streams with a frame in the last 3 s", [], () => [
      { labels: {}, value: source.streams().length },
    ]);
    this.#gauge("ingest_up", "1 while the ingest thread runs", [], () => [
      { labels: {}, value: source.health().alive ? 1 : 0 },
    ]);
    this.#gauge("last_datagram_age_seconds", "Seconds since the last datagram (absent before the first)", [], () => {
      const ms = source.health().msSinceLastDatagram;
      return ms === undefined ? [] : [{ labels: {}, value: ms / 1000 }];
    });
    this.#gauge("viewers", "Viewers connected, by stream and kind (websocket, mjpeg)", ["stream", "kind"], () => {
      const counts = new Map<string, { labels: Record<string, string>; value: number }>();
      for (const viewer of source.viewers.live()) {
        const key = `${viewer.streamId}/${viewer.kind}`;
        const entry = counts.get(key) ?? {
          labels: { stream: streamHexId(viewer.streamId), kind: viewer.kind },
          value: 0,
        };
        entry.value++;
        counts.set(key, entry);
      }
      return [...counts.values()];
    });
    const perViewer = (pick: (c: { framesSent: number; framesDropped: number }) => number) => () => [
      ...source.viewers.live().map((viewer) => ({
        labels: { viewer: viewer.id, kind: viewer.kind, stream: streamHexId(viewer.streamId) },
        value: pick(viewer),
      })),
      // Viewers that left, summed per kind, so that each counter's sum never goes down.
      ...Object.entries(source.viewers.departed).map(([kind, counters]) => ({
        labels: { viewer: "departed", kind, stream: "" },
        value: pick(counters),
      })),
    ];
    const viewerLabels = ["viewer", "kind", "stream"];
    this.#family(
      "viewer_frames_sent_total",
      "Frames sent to a viewer",
      viewerLabels,
      perViewer((c) => c.framesSent),
    );
    this.#family(
      "viewer_frames_dropped_total",
      "Frames skipped for a viewer whose socket was still busy",
      viewerLabels,
      perViewer((c) => c.framesDropped),
    );
  }

  /** One capture-to-complete latency, in ms. */
  observeLatency(ms: number): void {
    this.#latency.observe(Math.max(0, ms) / 1000);
  }

  /** The text a scrape gets, and its Content-Type. */
  async scrape(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  #counter(name: string, help: string, read: () => number): void {
    this.#family(name, help, [], () => [{ labels: {}, value: read() }]);
  }

  #options(name: string, help: string, labelNames: string[]) {
    return { name: `udpcam_receiver_${name}`, help, labelNames, registers: [this.registry] };
  }

  /** A counter set from `read` at each scrape (the receiver counts; prom-client only shows). */
  #family(name: string, help: string, labelNames: string[], read: () => Sample[]): void {
    new Counter({
      ...this.#options(name, help, labelNames),
      collect() {
        this.reset();
        for (const { labels, value } of read()) this.inc(labels, value);
      },
    });
  }

  #gauge(name: string, help: string, labelNames: string[], read: () => Sample[]): void {
    new Gauge({
      ...this.#options(name, help, labelNames),
      collect() {
        this.reset();
        for (const { labels, value } of read()) this.set(labels, value);
      },
    });
  }
}

/** A stat series' label names, and its samples at a scrape. */
function statSamples(series: StatSeries, source: MetricsSource): [string[], () => Sample[]] {
  if (!("label" in series)) {
    const read = series.read;
    return [[], () => sample(read(source.stats()))];
  }
  const { label, read } = series;
  return [
    [label],
    () =>
      Object.entries(read(source.stats()) ?? {}).map(([value, count]) => ({
        labels: { [label]: value },
        value: count,
      })),
  ];
}

function sample(value: number | undefined): Sample[] {
  return value === undefined ? [] : [{ labels: {}, value }];
}

/** Datagrams that made no frame, by why, in the wire format's own counters. */
export function refusedByReason(stats: ReceiverStats): Record<string, number> {
  const p = stats.protocol;
  if (p.format === "legacy") return { malformed: p.datagramsMalformed, duplicate: p.datagramsDuplicate };
  if (p.format === "rtp")
    return {
      malformed: p.datagramsMalformed,
      duplicate: p.datagramsDuplicate,
      late: p.datagramsLate,
      over_source_cap: p.datagramsOverSourceCap,
      over_stream_cap: p.datagramsOverStreamCap,
    };
  return {
    malformed: p.datagramsMalformed,
    duplicate: p.datagramsDuplicate,
    late: p.datagramsLate,
    surplus: p.datagramsSurplus,
    unauthenticated: p.datagramsUnauthenticated,
    untagged: p.datagramsUntagged,
    auth_required: p.datagramsAuthRequired,
    stale: p.datagramsStale,
    over_source_cap: p.datagramsOverSourceCap,
    over_stream_cap: p.datagramsOverStreamCap,
    unencrypted: p.datagramsUnencrypted,
  };
}
