/**
 * The receive loop, run in a worker thread: it owns the socket and the
 * reassembler, so datagrams keep being read while the main thread decodes,
 * shows and records (a DIVX frame blocks it for milliseconds, long enough
 * for a fast sender to overflow the socket buffer).
 */
import { parentPort, workerData } from "node:worker_threads";
import { UserError, requestBufferSizes } from "@udpcam/appkit";
import { LEGACY_DATAGRAM_BYTES } from "@udpcam/protocol";
import { createFrameAssembler, type AssembledFrame } from "./assembler.js";
import type { ReceiveCounters, ReceiveLoopCommand, ReceiveLoopMessage, ReceiveLoopSettings } from "./receive-protocol.js";
import { bindSocket } from "./socket.js";
import { kernelDrops } from "./socket-drops.js";

const COUNTERS_EVERY_MS = 100;
const EXPIRE_EVERY_MS = 50;

const port = parentPort;
if (port === null) throw new Error("receive-loop.js runs as a worker thread");
const settings = workerData as ReceiveLoopSettings;
const post = (message: ReceiveLoopMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

/** A transferable copy unless the payload already owns its whole buffer. */
function ownBuffer(payload: Uint8Array): Uint8Array {
  if (payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength && payload.buffer instanceof ArrayBuffer) return payload;
  return payload.slice();
}

async function main(): Promise<void> {
  let socket;
  try {
    socket = await bindSocket(settings.host, settings.port);
  } catch (error) {
    post({ type: "bind-failed", code: UserError.isInstance(error) ? "USER" : (error as NodeJS.ErrnoException).code, message: (error as Error).message });
    port?.close();
    return;
  }
  const buffers = requestBufferSizes(socket, { receive: settings.receiveBufferBytes });
  const assembler = createFrameAssembler(settings);
  let datagramsReceived = 0;
  let bytesReceived = 0;
  let lastDatagramAt: number | undefined;
  // The legacy format has no frame id: a run of lost datagrams that ends where it began in
  // the 0..19 cycle leaves chunks of two frames that read as one. On loopback the only loss
  // is a full receive buffer, which the kernel counts: a frame during which it dropped
  // anything is not emitted.
  const checkKernelDrops = settings.protocol === "legacy" && settings.legacyMode === "strict";
  const boundPort = socket.address().port;
  let dropsAtFrameStart: number | undefined;
  let framesDroppedForKernelLoss = 0;
  const counters = (): ReceiveCounters => {
    const assembled = assembler.counters();
    return {
      ...assembled,
      framesDropped: assembled.framesDropped + framesDroppedForKernelLoss,
      protocol: { ...assembled.protocol, framesDroppedForKernelLoss },
      datagramsReceived,
      bytesReceived,
      msSinceLastDatagram: lastDatagramAt === undefined ? undefined : performance.now() - lastDatagramAt,
    };
  };

  const sendFrame = (frame: AssembledFrame): void => {
    const payload = ownBuffer(frame.payload);
    post({ type: "frame", frame: { ...frame, payload }, completedAt: Date.now() }, [payload.buffer as ArrayBuffer]);
  };
  socket.on("message", (datagram) => {
    datagramsReceived++;
    bytesReceived += datagram.length;
    const now = performance.now();
    lastDatagramAt = now;
    if (checkKernelDrops && datagram.length === LEGACY_DATAGRAM_BYTES && datagram[0] === 0) dropsAtFrameStart = kernelDrops(boundPort);
    for (const frame of assembler.push(datagram, now)) {
      if (checkKernelDrops && dropsAtFrameStart !== kernelDrops(boundPort)) {
        framesDroppedForKernelLoss++;
        continue;
      }
      sendFrame(frame);
    }
  });

  const expireTimer = setInterval(() => assembler.expire(performance.now()), EXPIRE_EVERY_MS);
  const countersTimer = setInterval(() => post({ type: "counters", counters: counters() }), COUNTERS_EVERY_MS);
  const address = socket.address();
  post({ type: "listening", address: address.address, port: address.port, receiveBuffer: buffers.receive });

  port?.on("message", (command: ReceiveLoopCommand) => {
    if (command.type !== "close") return;
    clearInterval(expireTimer);
    clearInterval(countersTimer);
    socket.close(() => {
      post({ type: "closed", counters: counters() });
      port.close();
    });
  });
}

main().catch((error: unknown) => {
  post({ type: "failed", message: (error as Error).message, stack: (error as Error).stack });
});
