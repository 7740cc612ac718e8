import { writeFile } from "node:fs/promises";
import { RateMeter, UserError, formatBytes, type AppDeps, type RunningApp } from "@udpcam/appkit";
import { VideoError, createFrame, decodeJpegAsync, openDisplay, type Frame, type VideoErrorCode } from "@udpcam/video";
import type { AssembledFrame } from "./assembler.js";
import { AuthWatch } from "./auth-warnings.js";
import type { ReceiverConfig } from "./config.js";
import { LatencyWindow } from "./latency.js";
import { LogThrottle } from "./log-throttle.js";
import { Recordings } from "./recordings.js";
import { startReceiveLoop } from "./receive-client.js";
import type { ReceiveCounters } from "./receive-protocol.js";
import { emptyReceiverStats, formatReceiverStatus, formatReceiverSummary } from "./stats.js";
import { StreamGate } from "./stream-gate.js";

const RECEIVE_BUFFER_BYTES = 8 << 20;
/** A raw 640x480 frame: what a sender that does not pace sends in one burst. */
const BURST_BYTES = 921_600;
/** Complete frames waiting to be decoded, shown and recorded before new ones are skipped. */
const MAX_PENDING_FRAMES = 16;
/** With --streams first, how long the current stream must be silent before another takes over. */
const STREAM_TAKEOVER_MS = 2_000;
/** At most one "refusing a stream" line this often (a flood of forged streams must not flood the log). */
const REFUSAL_LOG_EVERY_MS = 10_000;

export type ReceiverDeps = AppDeps;

export async function startReceiver(config: ReceiverConfig, deps: ReceiverDeps): Promise<RunningApp> {
  const { logger } = deps;
  const recordings =
    config.output === undefined
      ? undefined
      : new Recordings({ path: config.output, fourcc: config.fourcc, segmentSeconds: config.segmentSeconds, perStream: config.streams === "separate" }, logger.child({ component: "recorder" }));
  await asUserError(() => recordings?.check(), (code) => (code === "CODEC_UNSUPPORTED" || code === "CODEC_UNAVAILABLE" ? "--fourcc" : "--output"));
  const display = await asUserError(
    () => openDisplay({ mode: config.display, display: config.x11.display, xauthority: config.x11.xauthority, title: "udpcam", onNotice: (message) => logger.info(message) }),
    () => "--display",
  );

  const stats = emptyReceiverStats(Date.now());
  const latency = new LatencyWindow();
  let closing: Promise<void> | undefined;
  let resolveDone!: (code: number) => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<number>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  const loop = await startReceiveLoop(
    {
      host: config.host,
      port: config.port,
      protocol: config.protocol,
      legacyMode: config.legacyMode,
      key: config.key,
      maxFrameBytes: config.maxFrameBytes,
      frameTimeout: config.frameTimeout,
      receiveBufferBytes: RECEIVE_BUFFER_BYTES,
    },
    {
      onFrame: (frame, completedAt) => accept(frame, completedAt),
      onCounters: (counters) => onCounters(counters),
      onFailure: (error) => fail(error),
    },
  );
  if (loop.receiveBuffer < BURST_BYTES) {
    logger.warn(
      `the system granted a receive buffer of only ${formatBytes(loop.receiveBuffer)}; a sender that does not pace (like the original script) sends ${formatBytes(BURST_BYTES)} at once and the rest is lost. Raise it with: sysctl -w net.core.rmem_max=${RECEIVE_BUFFER_BYTES}`,
    );
  }
  logger.info(
    { address: loop.address, port: loop.port, protocol: config.protocol, receiveBuffer: loop.receiveBuffer },
    `listening on ${loop.address}:${loop.port} (${config.protocol}${config.protocol === "legacy" ? `, ${config.legacyMode}` : ""}), receive buffer ${formatBytes(loop.receiveBuffer)}`,
  );

  const gate = new StreamGate(config.streams, STREAM_TAKEOVER_MS);
  const authWatch = new AuthWatch();
  const refusalLog = new LogThrottle(REFUSAL_LOG_EVERY_MS);
  let displayedStream: number | undefined;
  let framesAccepted = 0;
  let pending = 0;
  let chain: Promise<void> = Promise.resolve();

  const present = async (assembled: AssembledFrame): Promise<void> => {
    const shown = assembled.streamId === displayedStream && display.status === "window";
    // A JPEG recorded as it arrived needs no pixels unless a window shows it.
    const storedAsIs = assembled.codec === "jpeg" && recordings?.storesJpegAsIs === true;
    let frame: Frame | undefined;
    if (!storedAsIs || shown) {
      try {
        frame =
          assembled.codec === "jpeg"
            ? await decodeJpegAsync(assembled.payload, { captureTime: assembled.senderTimeMs ?? Date.now(), sequence: assembled.frameNumber })
            : createFrame(assembled.payload, assembled.width, assembled.height, { captureTime: assembled.senderTimeMs ?? Date.now(), sequence: assembled.frameNumber });
      } catch (error) {
        stats.framesUndecodable++;
        logger.debug({ err: error, frame: assembled.frameNumber }, "frame could not be decoded");
        return;
      }
    }
    if (shown && frame !== undefined) {
      stats.framesShown++;
      if (display.show(frame)) void close("q pressed in the window");
    }
    if (recordings !== undefined) {
      try {
        await recordings.write(
          assembled.streamId,
          storedAsIs || frame === undefined ? { kind: "jpeg", bytes: assembled.payload, width: assembled.width, height: assembled.height } : { kind: "pixels", frame },
          assembled.fps,
        );
      } catch (error) {
        if (!VideoError.isInstance(error) || error.code !== "JPEG_INVALID") throw error;
        stats.framesUndecodable++;
        logger.debug({ err: error, frame: assembled.frameNumber }, "frame is not a JPEG");
        return;
      }
    }
    stats.framesDelivered++;
    if (recordings !== undefined) stats.framesRecorded++;
    if (config.frames !== undefined && stats.framesDelivered >= config.frames) {
      void close(`${config.frames} frames ${recordings === undefined ? "received" : "recorded"}`);
    }
  };

  const accept = (assembled: AssembledFrame, now: number): void => {
    const decision = gate.decide(assembled.streamId, now);
    if (decision.kind === "refuse") {
      if (decision.isNew) {
        stats.streamsRefused++;
        const held = refusalLog.take(now);
        if (held !== undefined) {
          logger.warn(
            `refusing a second stream (id ${hex(assembled.streamId)}) while stream ${hex(decision.current)} is live; use --streams separate to record each sender to its own file` +
              (held > 0 ? ` (${held} more refused since the last such line)` : ""),
          );
        }
      }
      return;
    }
    if (decision.isNew) {
      stats.streamsSeen++;
      logger.info(
        { streamId: assembled.streamId, width: assembled.width, height: assembled.height, codec: assembled.codec, fps: assembled.fps },
        `${decision.replaces === undefined ? "new" : `stream ${hex(decision.replaces)} went silent; new`} stream ${hex(assembled.streamId)}: ${assembled.width}x${assembled.height} ${assembled.codec} at ${assembled.fps} fps`,
      );
      if (displayedStream === undefined || decision.replaces === displayedStream) displayedStream = assembled.streamId;
    }
    if (assembled.senderTimeMs !== undefined) latency.add(now - assembled.senderTimeMs);
    if (config.frames !== undefined && framesAccepted >= config.frames) return;
    if (pending >= MAX_PENDING_FRAMES) {
      stats.framesSkippedBusy++;
      return;
    }
    framesAccepted++;
    pending++;
    chain = chain.then(() => present(assembled)).finally(() => pending--).catch((error: unknown) => fail(error));
  };

  function onCounters(counters: ReceiveCounters): void {
    stats.datagramsReceived = counters.datagramsReceived;
    stats.bytesReceived = counters.bytesReceived;
    stats.protocol = counters.protocol;
    stats.framesComplete = counters.framesComplete;
    stats.framesRecovered = counters.framesRecovered;
    stats.framesDropped = counters.framesDropped;
    stats.framesLate = counters.framesLate;
    for (const problem of authWatch.check(counters.protocol)) logger.warn({ counter: problem.counter }, problem.message);
    const idleMs = counters.msSinceLastDatagram;
    if (config.idleExit !== undefined && idleMs !== undefined && idleMs >= config.idleExit * 1000) {
      void close(`no datagram for ${config.idleExit} s`);
    }
  }

  const meter = new RateMeter(Date.now());
  const statusTimer = setInterval(() => {
    deps.status.update(formatReceiverStatus(stats, meter.sample(stats.framesComplete, stats.bytesReceived, Date.now()), latency));
  }, 1000);

  function fail(error: unknown): void {
    void close("error").finally(() => rejectDone(error));
  }

  function close(reason: string): Promise<void> {
    closing ??= (async () => {
      logger.info(`stopping: ${reason}`);
      clearInterval(statusTimer);
      onCounters(await loop.close());
      await chain.catch(() => undefined);
      const finished = recordings === undefined ? undefined : await recordings.close();
      display.close();
      deps.status.clear();
      stats.files = finished?.files ?? [];
      if (finished !== undefined) stats.framesRecorded = finished.framesWritten;
      stats.latencyMs = { p50: latency.percentile(0.5), p99: latency.percentile(0.99) };
      stats.elapsedSeconds = (Date.now() - stats.startedAt) / 1000;
      if (finished !== undefined && finished.framesDropped > 0) {
        logger.warn(`${finished.framesDropped} frames were not recorded because encoding could not keep up`);
      }
      if (config.stats !== undefined) await writeFile(config.stats, JSON.stringify(stats, null, 2) + "\n");
      for (const line of formatReceiverSummary(stats)) deps.stdout.write(`udpcam receiver: ${line}\n`);
      resolveDone(0);
    })();
    return closing;
  }

  return { done, close };
}

function hex(streamId: number): string {
  return streamId.toString(16).padStart(8, "0");
}

/** The video package's errors about options become one clear line naming the option. */
async function asUserError<T>(action: () => Promise<T> | T, option: (code: VideoErrorCode) => string): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (VideoError.isInstance(error) && error.code !== "WRITE_FAILED") throw new UserError(`${option(error.code)}: ${error.message}`, { cause: error });
    throw error;
  }
}

