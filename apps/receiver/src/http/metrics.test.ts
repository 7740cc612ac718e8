import { describe, expect, it } from "vitest";
import { createRtpAssembler } from "../ingest/frame-assembler.js";
import { EMPTY_INGEST_COUNTERS } from "../ingest/messages.js";
import { applyIngestCounters, emptyReceiverStats, formatReceiverSummary, type ReceiverStats } from "../stats.js";
import { ReceiverMetrics, refusedByReason } from "./metrics.js";
import { ViewerRegistry } from "./viewers.js";

function metrics(stats: ReceiverStats, viewers = new ViewerRegistry()) {
  return new ReceiverMetrics({
    stats: () => stats,
    streams: () => [],
    viewers,
    unauthorized: () => 2,
    health: () => ({ alive: true, msSinceLastDatagram: 1500 }),
  });
}

/** An RTP receiver's counters before any datagram. */
function rtpCounters(): Extract<ReceiverStats["protocol"], { format: "rtp" }> {
  const counters = createRtpAssembler({ maxFrameBytes: 1 << 20, frameTimeout: 1000 }).counters();
  if (counters.format !== "rtp") throw new Error("not RTP counters");
  return counters;
}

describe("receiver metrics", () => {
  it("shows the stats as udpcam_receiver_* counters and gauges, read at each scrape", async () => {
    const stats = emptyReceiverStats(0);
    const m = metrics(stats);
    stats.datagramsReceived = 10;
    stats.bytesReceived = 14_720;
    stats.framesComplete = 4;
    stats.framesRecorded = 3;
    stats.framesNotRecorded = 2;
    stats.sinks = { recording: { delivered: 3, skipped: 1, undecodable: 0 } };
    const { body, contentType } = await m.scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toMatch(
      /^# TYPE udpcam_receiver_datagrams_received_total counter\nudpcam_receiver_datagrams_received_total 10$/m,
    );
    expect(body).toMatch(/^udpcam_receiver_received_bytes_total 14720$/m);
    expect(body).toMatch(/^udpcam_receiver_frames_complete_total 4$/m);
    expect(body).toMatch(/^udpcam_receiver_frames_recorded_total 3$/m);
    expect(body).toMatch(/^udpcam_receiver_frames_not_recorded_total 2$/m);
    expect(body).toMatch(/^udpcam_receiver_sink_frames_skipped_total\{sink="recording"\} 1$/m);
    expect(body).toMatch(/^udpcam_receiver_http_unauthorized_requests_total 2$/m);
    expect(body).toMatch(/^udpcam_receiver_last_datagram_age_seconds 1\.5$/m);
    stats.datagramsReceived = 25;
    expect((await m.scrape()).body).toMatch(/^udpcam_receiver_datagrams_received_total 25$/m);
  });

  it("shows the native reader's truncated datagrams and failed reads, in the scrape and the summary", async () => {
    const stats = emptyReceiverStats(0);
    const m = metrics(stats);
    expect((await m.scrape()).body).toMatch(/^udpcam_receiver_receive_errors_total 0$/m);
    expect(formatReceiverSummary(stats)[0]).not.toMatch(/truncated|longer|failed/);
    applyIngestCounters(stats, {
      ...EMPTY_INGEST_COUNTERS,
      datagramsReceived: 9,
      datagramsTruncated: 2,
      receiveErrors: 3,
    });
    const { body } = await m.scrape();
    expect(body).toMatch(/^udpcam_receiver_datagrams_truncated_total 2$/m);
    expect(body).toMatch(/^udpcam_receiver_receive_errors_total 3$/m);
    expect(formatReceiverSummary(stats)[0]).toMatch(
      /^received 9 datagrams .*, 2 longer than 64 KiB and dropped, 3 failed reads of the socket$/,
    );
  });

  it("feeds the latency histogram in seconds", async () => {
    const m = metrics(emptyReceiverStats(0));
    for (const ms of [0.5, 3, 3, 40, 7000]) m.observeLatency(ms);
    const { body } = await m.scrape();
    expect(body).toMatch(/^udpcam_receiver_frame_latency_seconds_bucket\{le="0\.001"\} 1$/m);
    expect(body).toMatch(/^udpcam_receiver_frame_latency_seconds_bucket\{le="0\.005"\} 3$/m);
    expect(body).toMatch(/^udpcam_receiver_frame_latency_seconds_bucket\{le="5"\} 4$/m);
    expect(body).toMatch(/^udpcam_receiver_frame_latency_seconds_count 5$/m);
  });

  it("counts each viewer's frames, and keeps those of viewers that left under viewer=departed", async () => {
    const viewers = new ViewerRegistry();
    const m = metrics(emptyReceiverStats(0), viewers);
    const a = viewers.add("websocket", 0xab);
    const b = viewers.add("mjpeg", 0xab);
    a.framesSent = 5;
    a.framesDropped = 2;
    b.framesSent = 7;
    let body = (await m.scrape()).body;
    expect(body).toMatch(/^udpcam_receiver_viewers\{stream="000000ab",kind="websocket"\} 1$/m);
    expect(body).toMatch(
      /^udpcam_receiver_viewer_frames_dropped_total\{viewer="ws-1",kind="websocket",stream="000000ab"\} 2$/m,
    );
    viewers.remove(a);
    body = (await m.scrape()).body;
    expect(body).not.toMatch(/viewer="ws-1"/);
    expect(body).toMatch(
      /^udpcam_receiver_viewer_frames_dropped_total\{viewer="departed",kind="websocket",stream=""\} 2$/m,
    );
    expect(body).toMatch(
      /^udpcam_receiver_viewer_frames_sent_total\{viewer="mjpeg-2",kind="mjpeg",stream="000000ab"\} 7$/m,
    );
  });

  it("shows window FEC, NACK and reassembly gauges of a v1 receiver, and no window FEC or NACK for RTP", async () => {
    const stats = emptyReceiverStats(0);
    const m = metrics(stats);
    const v1 = EMPTY_INGEST_COUNTERS.protocol as Extract<ReceiverStats["protocol"], { format: "v1" }>;
    stats.protocol = {
      ...v1,
      repairsReceived: 7,
      repairsUnmatched: 2,
      windowShed: 1,
      windowBytes: 65_536,
      bufferedBytes: 3_000,
      nack: { ...v1.nack, nacksSent: 4, datagramsRecoveredByNack: 9, gapsExpired: 1 },
    };
    let body = (await m.scrape()).body;
    expect(body).toMatch(/^udpcam_receiver_window_repairs_total\{outcome="used"\} 7$/m);
    expect(body).toMatch(/^udpcam_receiver_window_repairs_total\{outcome="unmatched"\} 2$/m);
    expect(body).toMatch(/^udpcam_receiver_window_shed_total 1$/m);
    expect(body).toMatch(
      /^# TYPE udpcam_receiver_window_buffered_bytes gauge\nudpcam_receiver_window_buffered_bytes 65536$/m,
    );
    expect(body).toMatch(/^udpcam_receiver_reassembly_buffered_bytes 3000$/m);
    expect(body).toMatch(/^udpcam_receiver_nacks_sent_total 4$/m);
    expect(body).toMatch(/^udpcam_receiver_nack_datagrams_recovered_total 9$/m);
    expect(body).toMatch(/^udpcam_receiver_nack_datagrams_expired_total 1$/m);
    expect(body).toMatch(/^udpcam_receiver_datagrams_other_format_total\{format="legacy"\} 0$/m);
    stats.protocol = { ...rtpCounters(), datagramsV1Like: 3 };
    body = (await m.scrape()).body;
    expect(body).not.toMatch(/^udpcam_receiver_window_repairs_total\{/m);
    expect(body).toMatch(/^udpcam_receiver_nacks_sent_total 0$/m);
    expect(body).toMatch(/^udpcam_receiver_datagrams_other_format_total\{format="v1"\} 3$/m);
  });

  it("names the refusals of each wire format, authentication failures among them", () => {
    const stats = emptyReceiverStats(0);
    stats.protocol = {
      ...EMPTY_INGEST_COUNTERS.protocol,
      datagramsUnauthenticated: 3,
      datagramsUntagged: 1,
    } as ReceiverStats["protocol"];
    expect(refusedByReason(stats)).toMatchObject({ unauthenticated: 3, untagged: 1, auth_required: 0, malformed: 0 });
  });
});
