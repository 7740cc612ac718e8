import type { Socket } from "node:dgram";
import { writeFile } from "node:fs/promises";
import { RateMeter, UserError, formatBytes, requestBufferSizes, type AppDeps, type RunningApp } from "@udpcam/appkit";
import { VideoError, createFrame, decodeJpegAsync, openDisplay, type Frame } from "@udpcam/video";
import { createFrameAssembler, type AssembledFrame } from "./assembler.js";
import type { ReceiverConfig } from "./config.js";
import { LatencyWindow } from "./latency.js";
import { Recordings } from "./recordings.js";
import { bindSocket } from "./socket.js";
import { emptyReceiverStats, formatReceiverStatus, formatReceiverSummary } from "./stats.js";
import { StreamGate } from "./stream-gate.js";

const RECEIVE_BUFFER_BYTES = 8 << 20;
/** A raw 640x480 frame: what a sender that does not pace sends in one burst. */
const BURST_BYTES = 921_600;
/** Complete frames waiting to be decoded, shown and recorded before new ones are skipped. */
const MAX_PENDING_FRAMES = 16;
const EXPIRE_EVERY_MS = 50;
/** With --streams first, how long the current stream must be silent before another takes over. */
const STREAM_TAKEOVER_MS = 2_000;

export type ReceiverDeps = AppDeps;

export async function startReceiver(config: ReceiverConfig, deps: ReceiverDeps): Promise<RunningApp> {
  const { logger } = deps;
  const recordings =
    config.output === undefined
      ? undefined
      : new Recordings({ path: config.output, fourcc: config.fourcc, segmentSeconds: config.segmentSeconds, perStream: config.streams === "separate" }, logger.child({ component: "recorder" }));
  await asUserError(() => recordings?.check(), "--output");
  const display = await asUserError(
    () => openDisplay({ mode: config.display, display: config.x11.display, xauthority: config.x11.xauthority, title: "udpcam", onNotice: (message) => logger.info(message) }),
    "--display",
  );

  const socket = await bindSocket(config.host, config.port);
  const buffers = requestBufferSizes(socket, { receive: RECEIVE_BUFFER_BYTES });
  if (buffers.receive < BURST_BYTES) {
    logger.warn(
      `the system granted a receive buffer of only ${formatBytes(buffers.receive)}; a sender that does not pace (like the original script) sends ${formatBytes(BURST_BYTES)} at once and the rest is lost. Raise it with: sysctl -w net.core.rmem_max=${RECEIVE_BUFFER_BYTES}`,
    );
  }
  const address = socket.address();
  logger.info(
    { address: address.address, port: address.port, protocol: config.protocol, receiveBuffer: buffers.receive },
    `listening on ${address.address}:${address.port} (${config.protocol}${config.protocol === "legacy" ? `, ${config.legacyMode}` : ""}), receive buffer ${formatBytes(buffers.receive)}`,
  );

  const stats = emptyReceiverStats(Date.now());
  const latency = new LatencyWindow();
  const assembler = createFrameAssembler(config);
  const gate = new StreamGate(config.streams, STREAM_TAKEOVER_MS);
  let displayedStream: number | undefined;
  let lastDatagramAt: number | undefined;
  let framesAccepted = 0;
  let pending = 0;
  let chain: Promise<void> = Promise.resolve();
  let closing: Promise<void> | undefined;
  let resolveDone!: (code: number) => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<number>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });

  const present = async (assembled: AssembledFrame): Promise<void> => {
    let frame: Frame;
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
    if (assembled.streamId === displayedStream && display.show(frame)) {
      stats.framesShown++;
      void close("q pressed in the window");
    } else if (assembled.streamId === displayedStream && display.status === "window") {
      stats.framesShown++;
    }
    if (recordings !== undefined) {
      await recordings.write(assembled.streamId, frame, assembled.fps);
    }
    stats.framesRecorded++;
    if (config.frames !== undefined && stats.framesRecorded >= config.frames) void close(`${config.frames} frames recorded`);
  };

  const accept = (assembled: AssembledFrame, now: number): void => {
    const decision = gate.decide(assembled.streamId, now);
    if (decision.kind === "refuse") {
      if (decision.isNew) {
        stats.streamsRefused++;
        logger.warn(`refusing a second stream (id ${hex(assembled.streamId)}) while stream ${hex(decision.current)} is live; use --streams separate to record each sender to its own file`);
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
    if (assembled.senderTimeMs !== undefined) latency.add(Date.now() - assembled.senderTimeMs);
    if (config.frames !== undefined && framesAccepted >= config.frames) return;
    if (pending >= MAX_PENDING_FRAMES) {
      stats.framesSkippedBusy++;
      return;
    }
    framesAccepted++;
    pending++;
    chain = chain.then(() => present(assembled)).finally(() => pending--).catch((error: unknown) => fail(error));
  };

  const onMessage = (datagram: Buffer): void => {
    const now = performance.now();
    stats.datagramsReceived++;
    stats.bytesReceived += datagram.length;
    lastDatagramAt = now;
    for (const assembled of assembler.push(datagram, now)) accept(assembled, now);
  };
  socket.on("message", onMessage);
  socket.on("error", (error) => fail(error));

  const expireTimer = setInterval(() => {
    const now = performance.now();
    assembler.expire(now);
    if (config.idleExit !== undefined && lastDatagramAt !== undefined && now - lastDatagramAt >= config.idleExit * 1000) {
      void close(`no datagram for ${config.idleExit} s`);
    }
  }, EXPIRE_EVERY_MS);

  const meter = new RateMeter(Date.now());
  const statusTimer = setInterval(() => {
    refreshCounters();
    deps.status.update(formatReceiverStatus(stats, meter.sample(stats.framesComplete, stats.bytesReceived, Date.now()), latency));
  }, 1000);

  function refreshCounters(): void {
    const counters = assembler.counters();
    stats.protocol = counters.protocol;
    stats.framesComplete = counters.framesComplete;
    stats.framesRecovered = counters.framesRecovered;
    stats.framesDropped = counters.framesDropped;
    stats.framesLate = counters.framesLate;
  }

  function fail(error: unknown): void {
    void close("error").finally(() => rejectDone(error));
  }

  function close(reason: string): Promise<void> {
    closing ??= (async () => {
      logger.info(`stopping: ${reason}`);
      clearInterval(expireTimer);
      clearInterval(statusTimer);
      socket.off("message", onMessage);
      await closeSocket(socket);
      await chain.catch(() => undefined);
      const finished = recordings === undefined ? undefined : await recordings.close();
      display.close();
      deps.status.clear();
      refreshCounters();
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

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

/** The video package's errors about options become one clear line naming the option. */
async function asUserError<T>(action: () => Promise<T> | T, option: string): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (VideoError.isInstance(error) && error.code !== "WRITE_FAILED") throw new UserError(`${option}: ${error.message}`, { cause: error });
    throw error;
  }
}

