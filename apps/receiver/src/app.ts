/**
 * The receiver, composed: ingest (socket thread + reassembler) -> delivery
 * (stream gate, stats, fan-out) -> sinks (window, recording). A new consumer of
 * frames is a new file in sinks/ and one line here.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { RateMeter, formatBytes, type AppDeps, type RunningApp } from "@udpcam/appkit";
import {
  AUTO_FOURCC,
  checkRecording,
  FrameMemory,
  loadOpencv,
  opencvLoaded,
  openDisplay,
  recordingStoresJpeg,
} from "@udpcam/video";
import { DEFAULT_RECEIVE_BUFFER_BYTES, type ReceiverConfig } from "./config.js";
import { receiveBufferWarnings } from "./receive-buffer.js";
import { Delivery } from "./delivery/delivery.js";
import { startIngest, type Ingest } from "./ingest/ingest.js";
import type { IngestCounters } from "./ingest/messages.js";
import { DisplaySink } from "./sinks/display-sink.js";
import { RecordingSink } from "./sinks/recording-sink.js";
import type { Sink } from "./sinks/sink.js";
import {
  applyIngestCounters,
  emptyReceiverStats,
  formatReceiverStatus,
  formatReceiverSummary,
  processResources,
  type ReceiverStats,
} from "./stats.js";
import { RefusalWatch } from "./refusal-warnings.js";
import { KeyRotation, startingKey } from "./key-rotation.js";
import { asUserError } from "./user-errors.js";
import { WireWatch } from "./wire-warnings.js";

export type ReceiverDeps = AppDeps;

export async function startReceiver(config: ReceiverConfig, deps: ReceiverDeps): Promise<RunningApp> {
  const { logger } = deps;
  /** With a key, datagrams captured earlier than this (less --max-clock-skew) are an earlier session's. */
  const startedAt = Date.now();
  const output = config.output;
  // Raw frames are completed where the recording's encoder reads them, when every sink hands frames back: the
  // live view and the relay may keep one (Sink.releasesFrames).
  const frameMemory =
    output !== undefined && config.http === undefined && config.relay === undefined ? FrameMemory.create() : undefined;
  if (output !== undefined) {
    await asUserError(
      () => checkRecording({ path: output, fourcc: config.fourcc, frameMemory }),
      (code) => (code === "CODEC_UNSUPPORTED" || code === "CODEC_UNAVAILABLE" ? "--fourcc" : "--output"),
    );
    // A codec named to encode with decodes every JPEG stream here first: load OpenCV now rather than
    // at the first frame, whose recording would wait for it (0.4 s, longer on a busy machine).
    // With auto, JPEG streams are stored as they arrive and raw ones encoded in the encoder process.
    if (config.fourcc !== AUTO_FOURCC && !recordingStoresJpeg({ path: output, fourcc: config.fourcc })) loadOpencv();
  }
  const display = await asUserError(
    () =>
      openDisplay({
        mode: config.display,
        display: config.x11.display,
        xauthority: config.x11.xauthority,
        title: "udpcam",
        onNotice: (message) => logger.info(message),
      }),
    () => "--display",
  );

  const stats = emptyReceiverStats(Date.now());
  let closing: Promise<void> | undefined;
  let resolveDone!: (code: number) => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<number>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });

  const displaySink = new DisplaySink(display, () => void close("q pressed in the window"));
  const recordingSink =
    output === undefined
      ? undefined
      : new RecordingSink(
          {
            path: output,
            fourcc: config.fourcc,
            segmentSeconds: config.segmentSeconds,
            perStream: config.streams === "separate",
            frameMemory,
          },
          logger.child({ component: "recorder" }),
        );
  // The live view (ws, prom-client) and the relay are loaded only when asked for: a receiver that only
  // records does not carry their code (some 20 MB of memory).
  const liveView =
    config.http === undefined
      ? undefined
      : new (await import("./sinks/live-view-sink.js")).LiveViewSink(
          config.http.quality,
          logger.child({ component: "live-view" }),
        );
  const relay =
    config.relay === undefined
      ? undefined
      : await (
          await import("./sinks/rtp-relay-sink.js")
        ).RtpRelaySink.open(config.relay, undefined, logger.child({ component: "relay" }));
  const sinks: Sink[] = [
    displaySink,
    ...(recordingSink === undefined ? [] : [recordingSink]),
    ...(liveView === undefined ? [] : [liveView]),
    ...(relay === undefined ? [] : [relay]),
  ];
  /** The ingest, once it listens (no frame comes before). */
  const started: { ingest?: Ingest } = {};
  const delivery = new Delivery(
    sinks,
    stats,
    {
      streams: config.streams,
      maxStreams: config.maxStreams,
      frameLimit: config.frames,
      onLimit: () => void close(`${config.frames} frames ${recordingSink === undefined ? "received" : "recorded"}`),
      onFailure: (error) => fail(error),
      // Raw frames' buffers go back to the ingest thread once the sinks are done with them.
      recycle: (payload) => started.ingest?.recycle(payload),
    },
    logger,
  );

  const key = startingKey(config.key);
  const ingest = await startIngest(
    {
      host: config.host,
      port: config.port,
      multicastInterface: config.multicastInterface,
      sourceAddress: config.sourceAddress,
      protocol: config.protocol,
      legacyMode: config.legacyMode,
      key,
      encrypt: config.encrypt === "on",
      maxFrameBytes: config.maxFrameBytes,
      frameTimeout: config.frameTimeout,
      latency: config.latency,
      nack: config.nack === "on",
      receiveBufferBytes: config.receiveBuffer ?? DEFAULT_RECEIVE_BUFFER_BYTES,
      maxStreams: config.maxStreams,
      maxStreamsPerSource: config.maxStreamsPerSource,
      notBeforeMs: config.maxClockSkew === undefined ? undefined : startedAt - config.maxClockSkew * 1000,
      idleMs: config.idleExit === undefined ? undefined : config.idleExit * 1000,
      reader: config.socketReader === "dgram" ? "dgram" : "native",
    },
    {
      onFrame: (ingested) => delivery.accept(ingested),
      onCounters: (counters) => onCounters(counters),
      onFailure: (error) => fail(error),
    },
    frameMemory,
  );
  started.ingest = ingest;
  for (const warning of receiveBufferWarnings(config.receiveBuffer, ingest.receiveBuffer)) logger.warn(warning);
  logger.info(
    {
      address: ingest.address,
      port: ingest.port,
      protocol: config.protocol,
      receiveBuffer: ingest.receiveBuffer,
      group: ingest.group,
      reader: ingest.reader,
    },
    `listening on ${ingest.address}:${ingest.port} (${ingest.group === undefined ? "" : `${ingest.group}, `}${config.protocol}${config.protocol === "legacy" ? `, ${config.legacyMode}` : ""}${protectionNote(config)}${config.nack === "on" ? `, NACK on within ${config.latency} ms` : ""}), receive buffer ${formatBytes(ingest.receiveBuffer)}, read by ${ingest.reader}`,
  );

  if (liveView !== undefined && config.http !== undefined) {
    const { startLiveViewServer } = await import("./http/server.js");
    const server = await startLiveViewServer(config.http, {
      sink: liveView,
      stats: () => syncSinkStats(),
      streams: delivery.streams,
      ingest,
      ...(recordingSink === undefined ? {} : { recorded: () => recordingSink.framesRecordedByStream }),
      logger,
    }).catch(async (error: unknown) => {
      await ingest.close();
      throw error;
    });
    logger.info(
      { url: server.url },
      `live view on ${server.url}${config.http.token === undefined ? "" : " (add ?token=... to the address)"}`,
    );
  } else if (display.status === "headless") {
    logger.info("to watch in a browser instead, start the receiver with --http 8080 and open http://127.0.0.1:8080/");
  }

  const rotation =
    config.key?.file === undefined || key === undefined
      ? undefined
      : new KeyRotation(config.key, key, config.keyGrace, ingest, logger, (path) => readFileSync(path, "utf8"));
  const wireWatch = new WireWatch({ encrypt: config.encrypt === "on" });
  const refusalWatch = new RefusalWatch(config);
  function onCounters(counters: IngestCounters): void {
    applyIngestCounters(stats, counters);
    for (const problem of wireWatch.check(counters.protocol))
      logger[problem.level ?? "warn"]({ counter: problem.counter }, problem.message);
    watchRefusals(counters.protocol);
    const idleMs = counters.msSinceLastDatagram;
    if (config.idleExit !== undefined && idleMs !== undefined && idleMs >= config.idleExit * 1000) {
      void close(`no datagram for ${config.idleExit} s`);
    }
  }

  function watchRefusals(protocol: ReceiverStats["protocol"]): void {
    for (const line of refusalWatch.check(protocol, Date.now())) logger.warn({ counter: line.counter }, line.message);
  }

  const meter = new RateMeter(Date.now());
  /** The sinks' counters into the stats, for the status line and /metrics. */
  function syncSinkStats(): typeof stats {
    stats.framesShown = displaySink.framesShown;
    if (recordingSink !== undefined) {
      stats.framesRecorded = recordingSink.framesWritten;
      stats.framesNotRecorded = recordingSink.framesDropped;
    }
    stats.sinks = delivery.sinkCounters();
    return stats;
  }
  const statusTimer = setInterval(() => {
    // Counters come only while they change: a refusal line held back by its throttle goes out here.
    watchRefusals(stats.protocol);
    syncSinkStats();
    deps.status.update(
      formatReceiverStatus(
        stats,
        meter.sample(stats.framesComplete, stats.bytesReceived, Date.now()),
        delivery.latency,
      ),
    );
  }, 1000);

  /** The first failure of a part (a sink, the ingest thread): the app stops, and `done` rejects with it. */
  let failure: { readonly error: unknown } | undefined;
  function fail(error: unknown): void {
    failure ??= { error };
    void close("error");
  }

  function close(reason: string): Promise<void> {
    closing ??= (async () => {
      logger.info(`stopping: ${reason}`);
      clearInterval(statusTimer);
      rotation?.close();
      onCounters(await ingest.close());
      await delivery.close();
      frameMemory?.close();
      deps.status.clear();
      stats.framesShown = displaySink.framesShown;
      stats.sinks = delivery.sinkCounters();
      const recorded = recordingSink?.totals;
      stats.files = [...(recorded?.files ?? [])];
      stats.framesRecorded = recorded?.framesWritten ?? 0;
      stats.framesNotRecorded = recorded?.framesDropped ?? 0;
      stats.latencyMs = { p50: delivery.latency.percentile(0.5), p99: delivery.latency.percentile(0.99) };
      stats.elapsedSeconds = (Date.now() - stats.startedAt) / 1000;
      stats.resources = processResources(opencvLoaded());
      if (recorded !== undefined && recorded.framesDropped > 0) {
        logger.warn(`${recorded.framesDropped} frames were not recorded because encoding could not keep up`);
      }
      if (config.stats !== undefined) await writeFile(config.stats, JSON.stringify(stats, null, 2) + "\n");
      for (const line of formatReceiverSummary(stats)) deps.stdout.write(`udpcam receiver: ${line}\n`);
      // Rejected after the summary: a failure is reported (one line for a user's mistake, exit 2) and not lost.
      if (failure === undefined) resolveDone(0);
      else rejectDone(failure.error);
    })();
    return closing;
  }

  return { done, close, ...(rotation === undefined ? {} : { reload: () => rotation.reload() }) };
}

/** ", encrypted only" / ", authenticated or encrypted" for the start line. */
function protectionNote(config: ReceiverConfig): string {
  if (config.key === undefined || config.protocol !== "v1") return "";
  const from = config.key.kind === "passphrase" ? "passphrase" : "key";
  return config.encrypt === "on"
    ? `, only datagrams encrypted with the ${from}`
    : `, datagrams authenticated or encrypted with the ${from} (--encrypt off)`;
}
