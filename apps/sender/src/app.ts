import { createSocket } from "node:dgram";
import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import {
  RateMeter,
  UserError,
  formatBytes,
  requestBufferSizes,
  rereadKeySpec,
  type AppDeps,
  type RunningApp,
} from "@udpcam/appkit";
import { createKeyring, keyMaterial, sameKey } from "@udpcam/protocol/node";
import {
  createRetransmitStore,
  isNackFailure,
  LEGACY_CHUNK_COUNT,
  LEGACY_DATAGRAM_BYTES,
  looksLikeNack,
  tryDecodeNack,
  type Authenticator,
} from "@udpcam/protocol";
import type { SenderConfig } from "./config.js";
import { PATH_SAFE_DATAGRAM_BYTES, chooseDatagramSize, chooseFec, resolveDestination } from "./destination.js";
import { createFrameEncoder, type Datagram } from "./encoder.js";
import { writeSdpFile } from "./rtp-encoder.js";
import { configureMulticast } from "./multicast.js";
import { sendSpread } from "./pacer.js";
import { openSenderSource } from "./source.js";
import { formatSenderStatus, formatSenderSummary, type SenderNackCounters, type SenderStats } from "./stats.js";

const SEND_BUFFER_BYTES = 8 << 20;
/**
 * A frame's datagrams go out within this share of the frame interval. The original server
 * reads one datagram at a time into the system's default receive buffer (208 KiB: four of its
 * 46 KB datagrams) and, after index 19, joins, writes and shows the frame without reading
 * (3 ms at the median, 11 ms at the 99th percentile with no window; 8 and up to 60 with one,
 * on a busy machine: docs/benchmarks/seed-server.md). What it loses is mostly the next frame's
 * fifth to eighth datagram, arriving while it is still busy: it tolerates a pause as long as the
 * quiet time after index 19 plus four datagram gaps, so legacy frames go out fast (one datagram
 * a wake-up, about 1.1 ms apart, 22 ms a frame at 25 fps) and leave the rest of the interval quiet.
 */
const PACING_SHARE = { v1: 0.8, legacy: 0.5, rtp: 0.8 } as const;
/** What may go out at once ahead of the even schedule: one 46 KB legacy datagram at a time. */
const PACING_BURST_BYTES = { v1: 128 * 1024, legacy: LEGACY_DATAGRAM_BYTES, rtp: 128 * 1024 } as const;
/**
 * v1: bursts of at most 128 KiB (two 65,507-byte datagrams), each when the even schedule is due, the pacer asleep
 * in between: a raw 640x480 frame is 8 bursts, so the receiver wakes about 8 times a frame instead of once per
 * datagram, and no burst is more than a default 208 KiB receive buffer holds. Legacy and RTP: topped up every
 * millisecond (the original server's four-datagram buffer; RTP peers measured with that schedule).
 */
const PACING_SCHEDULE = { v1: "bursts", legacy: "even", rtp: "even" } as const;
/** A timer wakes the pacer about once a millisecond. */
const WAKE_MS = 1;

/**
 * Datagrams a wake-up may send. Legacy: as few as still fit the window at one wake-up a
 * millisecond (one at 25 fps), so that a sender that wakes late never catches up in a burst
 * the original server's four-datagram buffer cannot take. Others: no limit.
 */
function maxPerWake(protocol: SenderConfig["protocol"], windowMs: number): number {
  if (protocol !== "legacy") return Infinity;
  return Math.max(1, Math.ceil((LEGACY_CHUNK_COUNT * WAKE_MS) / Math.max(WAKE_MS, windowMs)));
}

export type SenderDeps = AppDeps;

export async function startSender(config: SenderConfig, deps: SenderDeps): Promise<RunningApp> {
  const { logger } = deps;
  const destination = await resolveDestination(config.host, config.port);
  const datagramSize = chooseDatagramSize(config.datagramSize, destination);
  const fec = chooseFec(config, config.codec, datagramSize);
  if (!destination.isLoopback && datagramSize > PATH_SAFE_DATAGRAM_BYTES) {
    logger.warn(
      `datagrams of ${datagramSize} bytes are larger than one 1500-byte packet: each travels as several IP fragments and is lost if any one is; --datagram-size ${PATH_SAFE_DATAGRAM_BYTES} avoids that`,
    );
  }

  const opened = await openSenderSource(config, logger);
  const { source } = opened;
  const fps = config.fps ?? source.fps;
  logger.info(
    { source: source.description, fps, passthrough: opened.passthrough, reencode: opened.reencode },
    `source: ${source.description}${opened.reencode ? ` (its JPEG re-encoded at quality ${config.quality})` : ""}`,
  );

  const socket = createSocket("udp4");
  // Buffer sizes can be set only once the socket has a file descriptor.
  await new Promise<void>((resolve) => socket.bind(0, () => resolve()));
  const buffers = requestBufferSizes(socket, { send: SEND_BUFFER_BYTES });
  let multicast: string | undefined;
  try {
    multicast = configureMulticast(socket, destination, config);
  } catch (error) {
    socket.close();
    await source.close();
    throw error;
  }
  if (multicast === undefined && config.multicastInterface !== undefined)
    logger.warn(`--multicast-interface: ${destination.address} is not a multicast group, ignoring it`);
  // Connected (after the multicast interface is set, which the route lookup of connect uses): each send skips
  // Node's address handling and the kernel's route lookup, and the system now reports a closed port (ICMP port
  // unreachable) as ECONNREFUSED on the socket, which `onSocketError` counts.
  // Except a multicast sender with --nack on: its receivers' NACKs come from their own unicast addresses, which a
  // socket connected to the group would never read.
  const connected = !(multicast !== undefined && config.nack === "on");
  const connectError = !connected
    ? undefined
    : await new Promise<Error | undefined>((resolve) =>
        socket.connect(destination.port, destination.address, (error?: Error) => resolve(error ?? undefined)),
      );
  if (connectError !== undefined) {
    socket.close();
    await source.close();
    throw new UserError(
      `--host: cannot send to ${destination.address}:${destination.port}: ${connectError.message} (a broadcast address needs a unicast or multicast one instead)`,
      { cause: connectError },
    );
  }

  const streamId = randomInt(1, 2 ** 32 - 1);
  const stats: SenderStats = {
    streamId,
    framesSent: 0,
    datagramsSent: 0,
    bytesSent: 0,
    sendErrors: 0,
    refusals: 0,
    framesScaled: 0,
    framesPassedThrough: 0,
    sourceReconnects: 0,
    startedAt: Date.now(),
    elapsedSeconds: 0,
    nack: {
      nacksReceived: 0,
      datagramsRequested: 0,
      datagramsRetransmitted: 0,
      bytesRetransmitted: 0,
      datagramsUnavailable: 0,
      datagramsRateLimited: 0,
      nacksMalformed: 0,
      nacksUnauthenticated: 0,
      nacksOtherStream: 0,
    },
  };
  const retransmit = config.nack === "on" ? createRetransmitStore({ latencyMs: config.latency }) : undefined;
  // NACKs are tagged with the key's HMAC (also when the stream is encrypted); verified with every key held.
  const nackKeys = config.key === undefined ? undefined : createKeyring([keyMaterial(config.key)]);
  const encoder = createFrameEncoder(config, {
    streamId,
    datagramSize,
    fec,
    fps,
    logger,
    onScaled: () => stats.framesScaled++,
    onPassedThrough: () => stats.framesPassedThrough++,
    keepsDatagrams: retransmit !== undefined,
  });
  logger.info(
    {
      destination: `${destination.address}:${destination.port}`,
      protocol: config.protocol,
      codec: config.codec,
      datagramSize,
      fec: fec.overhead,
      fecScheme: fec.scheme,
      streamId,
      sendBuffer: buffers.send,
      multicast,
    },
    `sending to ${destination.address}:${destination.port} (${multicast === undefined ? "" : `${multicast}, `}${config.protocol}, ${config.codec}, datagrams up to ${datagramSize} bytes${config.protocol === "v1" ? `, FEC ${Math.round(fec.overhead * 100)}%${fec.overhead > 0 ? ` ${fec.scheme === "window" ? `across frames, ${config.latency} ms` : "per frame"}` : ""}` : ""}${protectionNote(config)}${config.nack === "on" ? `, NACK on within ${config.latency} ms` : ""}), send buffer ${formatBytes(buffers.send)}`,
  );
  if (config.sdp !== undefined) {
    await writeSdpFile(config.sdp, {
      address: destination.address,
      port: destination.port,
      fps,
      ...(multicast === undefined ? {} : { ttl: config.ttl }),
    });
    logger.info(
      { sdp: config.sdp },
      `session description in ${config.sdp}: ffplay -protocol_whitelist file,udp,rtp ${config.sdp}`,
    );
  }

  let fatal: Error | undefined;
  let sendsInFlight = 0;
  let allSent: (() => void) | undefined;
  /**
   * Resolves once libuv has handed every queued datagram to the kernel. Once one send is
   * queued, libuv queues all later ones until the event loop polls the socket: a sender that
   * never waits here piles up hundreds of frames in memory and lets them out in one burst
   * that no receive buffer holds.
   */
  const sendsDrained = (): Promise<void> =>
    sendsInFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (allSent = resolve));
  /**
   * Nothing listens at the destination (yet): the system answered a datagram with ICMP port unreachable, which
   * a connected socket reports as ECONNREFUSED, on the next receive (the socket's 'error' event) or the next send.
   * The sender keeps sending, so a receiver started later gets the stream from its next frame.
   */
  const refused = (): void => {
    if (stats.refusals++ === 0) {
      logger.warn(
        { destination: `${destination.address}:${destination.port}`, code: "ECONNREFUSED" },
        `nothing is listening at ${destination.address}:${destination.port} yet (the system refused a datagram): still sending, so a receiver that starts there gets the stream from its next frame; counting further refusals quietly`,
      );
    }
  };
  const failed = (error: NodeJS.ErrnoException): void => {
    if (error.code === "ECONNREFUSED") return refused();
    stats.sendErrors++;
    if (error.code === "EMSGSIZE") {
      fatal ??= new UserError(
        `--datagram-size: ${datagramSize} bytes is more than the path to ${destination.address} carries (EMSGSIZE), use ${PATH_SAFE_DATAGRAM_BYTES}`,
      );
    } else if (stats.sendErrors === 1) {
      logger.warn(`send failed: ${error.message} (counting further failures quietly)`);
    }
  };
  socket.on("error", failed);
  const onSent = (error: Error | null | undefined): void => {
    if (--sendsInFlight === 0) {
      const resolve = allSent;
      allSent = undefined;
      resolve?.();
    }
    if (error !== null && error !== undefined) failed(error);
  };
  const transmit = (datagram: Datagram): void => {
    sendsInFlight++;
    // Parts go out with one gather sendmsg: the same bytes, the payload not copied into the datagram.
    const bytes = datagram instanceof Uint8Array ? datagram : [datagram.head, datagram.body];
    if (connected) socket.send(bytes, onSent);
    else socket.send(bytes, destination.port, destination.address, onSent);
  };
  const send = (datagram: Datagram): void => {
    stats.datagramsSent++;
    stats.bytesSent += datagram.length;
    // Only whole datagrams with --nack on (keepsDatagrams).
    if (retransmit !== undefined && datagram instanceof Uint8Array) retransmit.sent(datagram, performance.now());
    transmit(datagram);
  };
  if (retransmit !== undefined) {
    socket.on("message", (bytes) => {
      const verdict = answerNack(bytes, streamId, nackKeys?.authenticator, stats.nack);
      if (verdict === undefined) return;
      // At once, ahead of the paced queue: the pacer sends from its own wake-ups, this from the socket's event.
      for (const datagram of retransmit.request(verdict, performance.now())) transmit(datagram);
      Object.assign(stats.nack, retransmit.counters);
    });
  }
  const meter = new RateMeter(Date.now());
  const statusTimer = setInterval(() => {
    deps.status.update(formatSenderStatus(stats, meter.sample(stats.framesSent, stats.bytesSent, Date.now())));
  }, 1000);
  statusTimer.unref();

  let stopReason: string | undefined;
  const clock = { now: () => performance.now(), sleep: (ms: number) => sleep(ms) };
  const windowMs = (1000 / fps) * PACING_SHARE[config.protocol];
  const burstBytes = PACING_BURST_BYTES[config.protocol];
  const perWake = maxPerWake(config.protocol, windowMs);
  const schedule = PACING_SCHEDULE[config.protocol];

  const pump = async (): Promise<void> => {
    let next = source.read();
    try {
      for (;;) {
        const frame = await next;
        if (frame === undefined || stopReason !== undefined || fatal !== undefined) break;
        const last = config.frames !== undefined && stats.framesSent + 1 >= config.frames;
        // The next frame is read (and a file decoded) while this one is encoded on the thread
        // pool and sent.
        next = last ? Promise.resolve(undefined) : source.read();
        // The window counts from when the frame was due, so the time spent encoding it comes out of the window
        // instead of slowing the frame rate. v1: from its capture, so the time it waited for the previous frame
        // to go out comes out too, and a sender that fell behind (a late timer, a busy machine) catches up instead
        // of falling further behind. Legacy and RTP: from now, as before.
        const waited = config.protocol === "v1" ? Math.max(0, Date.now() - frame.captureTime) : 0;
        const dueAt = clock.now() - waited;
        const datagrams = await encoder.encode(frame);
        await sendSpread(
          datagrams,
          { windowMs: Math.max(0, windowMs - (clock.now() - dueAt)), burstBytes, maxPerWake: perWake, schedule },
          send,
          clock,
        );
        await sendsDrained();
        stats.framesSent++;
        logger.debug({ frame: frame.sequence, datagrams: datagrams.length }, "frame sent");
        if (last) break;
      }
    } finally {
      await next.catch(() => undefined);
      await source.close();
    }
  };

  const finish = async (): Promise<number> => {
    clearInterval(statusTimer);
    deps.status.clear();
    await source.close();
    // The last frames' losses are asked for up to --latency after they went out: stay to answer them.
    if (retransmit !== undefined && stopReason === undefined && fatal === undefined) await sleep(config.latency);
    // Closing with sends still queued in libuv would silently drop the last datagrams.
    await sendsDrained();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    stats.elapsedSeconds = (Date.now() - stats.startedAt) / 1000;
    stats.sourceReconnects = opened.reconnects();
    if (config.stats !== undefined) await writeFile(config.stats, JSON.stringify(stats, null, 2) + "\n");
    deps.stdout.write(`udpcam sender: ${formatSenderSummary(stats)}\n`);
    if (fatal !== undefined) throw fatal;
    return 0;
  };

  const done = pump().then(finish, async (error: unknown) => {
    await finish().catch(() => undefined);
    throw error;
  });

  let keySpec = config.key;
  let key = keySpec === undefined ? undefined : keyMaterial(keySpec);
  /** SIGHUP: the key or passphrase file read again; from the next frame on the new key signs or seals. */
  const reload = (): void => {
    if (keySpec?.file === undefined || key === undefined) return;
    const read = rereadKeySpec(keySpec, (path) => readFileSync(path, "utf8"));
    if ("error" in read) {
      logger.warn(`SIGHUP: ${read.error}; still sending with the ${keySpec.kind} read before`);
      return;
    }
    const next = keyMaterial(read.spec);
    if (sameKey(next, key)) {
      logger.info(`SIGHUP: the ${keySpec.kind} in ${keySpec.file} is unchanged`);
      return;
    }
    keySpec = read.spec;
    const previous = key;
    key = next;
    encoder.rekey?.(next);
    // The previous key too, for the receivers still signing NACKs with it until they reload.
    nackKeys?.setKeys([next, previous]);
    logger.info(`SIGHUP: ${keySpec.kind} reread from ${keySpec.file}: sending with the new one from the next frame`);
  };

  return {
    done,
    close: async (reason) => {
      if (stopReason === undefined) logger.info(`stopping (${reason})`);
      stopReason ??= reason;
      await source.close();
      await done.catch(() => undefined);
    },
    ...(config.key?.file === undefined ? {} : { reload }),
  };
}

/**
 * A datagram on the sender's socket: the NACK to answer, or undefined when it is dropped (counted). Only a NACK
 * for this stream whose tag verifies under a key held (or untagged, when no key is set) is answered.
 */
export function answerNack(
  bytes: Uint8Array,
  streamId: number,
  authenticator: Authenticator | undefined,
  counts: SenderNackCounters,
): Parameters<ReturnType<typeof createRetransmitStore>["request"]>[0] | undefined {
  if (!looksLikeNack(bytes)) {
    counts.nacksMalformed++;
    return undefined;
  }
  const nack = tryDecodeNack(bytes);
  if (isNackFailure(nack)) {
    counts.nacksMalformed++;
    return undefined;
  }
  const authentic =
    authenticator === undefined
      ? nack.tag === undefined
      : nack.tag !== undefined &&
        nack.tagBytes === authenticator.tagBytes &&
        authenticator.verify(nack.signed, nack.tag);
  if (!authentic) {
    counts.nacksUnauthenticated++;
    return undefined;
  }
  if (nack.streamId !== streamId) {
    counts.nacksOtherStream++;
    return undefined;
  }
  return nack;
}

/** ", encrypted" / ", authenticated only" for the start line. */
function protectionNote(config: SenderConfig): string {
  if (config.key === undefined || config.protocol !== "v1") return "";
  const from = config.key.kind === "passphrase" ? "passphrase" : "key";
  return config.encrypt === "on"
    ? `, encrypted with the ${from} (ChaCha20-Poly1305)`
    : `, authenticated with the ${from}, not encrypted (--encrypt off)`;
}
