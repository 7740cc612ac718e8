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

/** A counter read from the stats at each scrape: one value, or one per `label` value. */
type StatCounter =
  | { readonly name: string; readonly help: string; readonly read: (stats: ReceiverStats) => number }
  | {
      readonly name: string;
      readonly help: string;
      readonly label: string;
      readonly read: (stats: ReceiverStats) => Record<string, number>;
    };

/** The counters taken from the stats, in the order a scrape lists them. */
const STAT_COUNTERS: readonly StatCounter[] = [
  { name: "datagrams_received_total", help: "UDP datagrams read from the socket", read: (s) => s.datagramsReceived },
  { name: "received_bytes_total", help: "UDP payload bytes read from the socket", read: (s) => s.bytesReceived },
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
  { name: "frames_dropped_total", help: "Frames given up incomplete", read: (s) => s.framesDropped },
  {
    name: "frames_late_total",
    help: "Frames first seen after a newer frame of their stream",
    read: (s) => s.framesLate,
  },
  { name: "frames_delivered_total", help: "Complete frames handed to the sinks", read: (s) => s.framesDelivered },
  { name: "frames_recorded_total", help: "Frames written to the recording", read: (s) => s.framesRecorded },
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
  { name: "streams_seen_total", help: "Streams taken", read: (s) => s.streamsSeen },
  {
    name: "streams_refused_total",
    help: "Streams refused by delivery (--streams first, or --max-streams with --streams separate)",
    read: (s) => s.streamsRefused,
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

    for (const counter of STAT_COUNTERS) {
      if ("label" in counter)
        this.#counters(counter.name, counter.help, counter.label, () => counter.read(source.stats()));
      else this.#counter(counter.name, counter.help, () => counter.read(source.stats()));
    }
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

  #counters(name: string, help: string, label: string, read: () => Record<string, number>): void {
    this.#family(name, help, [label], () =>
      Object.entries(read()).map(([value, count]) => ({ labels: { [label]: value }, value: count })),
    );
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
