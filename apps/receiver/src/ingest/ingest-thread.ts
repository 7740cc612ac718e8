/**
 * The ingest thread (a worker thread): it owns the socket and the reassembler,
 * so datagrams keep being read while the main thread decodes, shows and records
 * (a DIVX frame blocks a thread for milliseconds, long enough for a fast sender
 * to overflow the socket buffer).
 */
import { parentPort, workerData } from "node:worker_threads";
import { UserError, isMulticastIpv4, requestBufferSizes } from "@udpcam/appkit/net";
import { LEGACY_DATAGRAM_BYTES, type FrameEvent } from "@udpcam/protocol";
import {
  createLegacyAssembler,
  createRtpAssembler,
  createV1Assembler,
  type FrameAssembler,
} from "./frame-assembler.js";
import type { IngestCommand, IngestCounters, IngestMessage, IngestSettings } from "./messages.js";
import { joinGroup, type GroupMembership } from "./multicast.js";
import { FramePool } from "./frame-pool.js";
import { bindSocket } from "./socket.js";
import { kernelDrops } from "./socket-drops.js";

const COUNTERS_EVERY_MS = 100;
/** Often enough that a frame waiting for an older one (window FEC) leaves within 10 ms of its budget. */
const EXPIRE_EVERY_MS = 10;
/** NACKs (--nack on) are looked for this often: a loss is asked for within 2 ms of its reorder window. */
const NACK_EVERY_MS = 2;

const port = parentPort;
if (port === null) throw new Error("ingest-thread.js runs as a worker thread");
const settings = workerData as IngestSettings;
/** Buffers of frames the main thread is done with (raw frames), for the next ones. */
const pool = new FramePool();
const post = (message: IngestMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

/** A transferable copy unless the payload already owns its whole buffer. */
function ownBuffer(payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const owned =
    payload.byteOffset === 0 &&
    payload.byteLength === payload.buffer.byteLength &&
    payload.buffer instanceof ArrayBuffer;
  return owned ? (payload as Uint8Array<ArrayBuffer>) : payload.slice();
}

function createAssembler(boundPort: number, receiveBufferBytes: number): FrameAssembler {
  if (settings.protocol === "legacy")
    return createLegacyAssembler({
      mode: settings.legacyMode,
      kernelDrops: () => kernelDrops(boundPort),
      bufferDatagrams: Math.ceil(receiveBufferBytes / LEGACY_DATAGRAM_BYTES),
    });
  if (settings.protocol === "rtp") return createRtpAssembler(settings);
  return createV1Assembler({ ...settings, allocatePayload: (byteLength) => pool.take(byteLength) });
}

async function main(): Promise<void> {
  let socket;
  let membership: GroupMembership | undefined;
  try {
    socket = await bindSocket(settings.host, settings.port);
    try {
      if (isMulticastIpv4(settings.host)) membership = joinGroup(socket, settings.host, settings);
    } catch (error) {
      socket.close();
      throw error;
    }
  } catch (error) {
    post({
      type: "bind-failed",
      code: UserError.isInstance(error) ? "USER" : (error as NodeJS.ErrnoException).code,
      message: (error as Error).message,
    });
    port?.close();
    return;
  }
  const buffers = requestBufferSizes(socket, { receive: settings.receiveBufferBytes });
  const assembler = createAssembler(socket.address().port, socket.getRecvBufferSize());
  let datagramsReceived = 0;
  let bytesReceived = 0;
  let lastDatagramAt: number | undefined;
  const counters = (): IngestCounters => ({
    datagramsReceived,
    bytesReceived,
    msSinceLastDatagram: lastDatagramAt === undefined ? undefined : performance.now() - lastDatagramAt,
    protocol: assembler.counters(),
    streams: assembler.streamCounters(),
  });
  const sendFrame = (event: FrameEvent): void => {
    const payload = ownBuffer(event.payload);
    post(
      {
        type: "frame",
        ingested: { frame: { ...event, payload }, senderClock: assembler.senderClock, completedAt: Date.now() },
      },
      [payload.buffer],
    );
  };

  socket.on("message", (datagram, from) => {
    datagramsReceived++;
    bytesReceived += datagram.length;
    const now = performance.now();
    lastDatagramAt = now;
    for (const frame of assembler.push(datagram, now, from.address, from)) sendFrame(frame);
  });
  // Each NACK goes back from this socket to where its stream came from (a multicast stream's unicast source).
  const nackTimer =
    assembler.nacks === undefined
      ? undefined
      : setInterval(() => {
          for (const nack of assembler.nacks!(performance.now()))
            socket.send(nack.bytes, nack.to.port, nack.to.address, (error) => {
              if (error) assembler.nackSendFailed?.();
            });
        }, NACK_EVERY_MS);

  const expireTimer = setInterval(() => {
    for (const frame of assembler.expire(performance.now())) sendFrame(frame);
  }, EXPIRE_EVERY_MS);
  const countersTimer = setInterval(() => post({ type: "counters", counters: counters() }), COUNTERS_EVERY_MS);
  const address = socket.address();
  post({
    type: "listening",
    address: address.address,
    port: address.port,
    receiveBuffer: buffers.receive,
    group: membership?.description,
  });

  port?.on("message", (command: IngestCommand) => {
    if (command.type === "recycle") {
      pool.give(command.buffer);
      return;
    }
    if (command.type === "keys") {
      assembler.setKeys?.(command.keys);
      return;
    }
    clearInterval(expireTimer);
    clearInterval(countersTimer);
    clearInterval(nackTimer);
    membership?.leave();
    socket.close(() => {
      post({ type: "closed", counters: counters() });
      port.close();
    });
  });
}

main().catch((error: unknown) => {
  post({ type: "failed", message: (error as Error).message, stack: (error as Error).stack });
});
