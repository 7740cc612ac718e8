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
  type Endpoint,
  type FrameAssembler,
} from "./frame-assembler.js";
import type { IngestCommand, IngestCounters, IngestMessage, IngestSettings } from "./messages.js";
import { joinGroup, type GroupMembership } from "./multicast.js";
import { FramePool } from "./frame-pool.js";
import { FrameMemorySlots } from "@udpcam/video/frame-memory";
import { SourceCache, startReading } from "./reading.js";
import { bindSocket } from "./socket.js";
import { kernelDrops } from "./socket-drops.js";

/**
 * Counters go to the main thread at most this often, and only after a datagram or an expiry changed them: often
 * enough for the status line and the live view (both once a second). Each report is a snapshot of some 90 counters
 * copied across threads, 25-45 us when warm (more while the code is still cold); at 10 a second they were a sixth of
 * this thread's CPU at 25 fps.
 */
const COUNTERS_EVERY_MS = 250;
/**
 * Expiry runs when the reassembler's `nextExpiryMs` says (a frame's timeout, an ordered stream's latency budget, a
 * stream's idle timeout), on one timer, this long after that moment: Node fires timers on a millisecond clock taken
 * at the loop's turn, which may be up to a millisecond behind `performance.now()`. So a frame waiting for an older
 * one (window FEC) leaves 1-2 ms after that one's budget runs out, and a raw stream, a frame always in flight,
 * wakes this thread about once per `--frame-timeout` for it, not every 10 ms as the poll did.
 */
const EXPIRY_LAG_MS = 1;
/**
 * NACKs (--nack on) are looked for when the tracker's `nextDueMs` says, but at most this often: a loss is asked
 * for within 2-3 ms of its reorder window. (A gap that parity may still repair stays due without being asked for
 * until its frame finishes: this bounds the wake-ups then.) A raw stream with no loss, each frame complete before
 * its reorder window, wakes this thread for nothing; the 2 ms poll it replaced ran the whole time a frame was
 * unfinished, which for raw frames is nearly always.
 */
const NACK_MIN_INTERVAL_MS = 2;

const port = parentPort;
if (port === null) throw new Error("ingest-thread.js runs as a worker thread");
const settings = workerData as IngestSettings;
/** Buffers of frames the main thread is done with, for the next ones. */
const pool = new FramePool();
/** The frame memory's slots, once the main thread reserved it: raw frames are completed there. */
let frameMemory: FrameMemorySlots | undefined;
/** The payload of a frame message whose bytes are in the frame memory. */
const NO_BYTES = new Uint8Array(0);
const post = (message: IngestMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

/**
 * A timer that runs only while there is work, so that an idle receiver's thread sleeps: `want()` arms it (a
 * no-op while armed), it fires `everyMs` later, and fires again as long as `tick` returns true.
 */
function onDemand(everyMs: number, tick: () => boolean): { want(): void; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const fire = (): void => {
    timer = undefined;
    if (tick() && !stopped) timer = setTimeout(fire, everyMs);
  };
  return {
    want: () => {
      if (timer === undefined && !stopped) timer = setTimeout(fire, everyMs);
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * One timer for the next moment something is due (on `performance.now()`'s clock): `at(ms)` arms it for then,
 * unless it is armed for then or earlier (so a datagram that moves nothing costs one comparison); when it fires,
 * `tick` runs and returns the next moment (`Infinity`: none), for which it is armed again.
 */
function dueTimer(tick: () => number): { at(ms: number): void; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Number.POSITIVE_INFINITY;
  let stopped = false;
  const arm = (ms: number): void => {
    clearTimeout(timer);
    armedFor = ms;
    timer = setTimeout(fire, Math.max(1, Math.ceil(ms - performance.now()) + EXPIRY_LAG_MS));
  };
  const fire = (): void => {
    timer = undefined;
    armedFor = Number.POSITIVE_INFINITY;
    const next = tick();
    if (next !== Number.POSITIVE_INFINITY && !stopped) arm(next);
  };
  return {
    at: (ms) => {
      if (ms < armedFor && !stopped) arm(ms);
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * A payload that can be transferred to the main thread: as it is when it owns its buffer (one of
 * the pool's, or a whole buffer of its own), else copied into one of the pool's (a frame of one
 * datagram is a view into that datagram).
 */
function ownBuffer(payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const buffer = payload.buffer;
  const owned =
    payload.byteOffset === 0 &&
    buffer instanceof ArrayBuffer &&
    (payload.byteLength === buffer.byteLength || pool.made(buffer));
  if (owned) return payload as Uint8Array<ArrayBuffer>;
  const copy = pool.take(payload.byteLength);
  copy.set(payload);
  return copy;
}

function createAssembler(boundPort: number, receiveBufferBytes: number): FrameAssembler {
  if (settings.protocol === "legacy")
    return createLegacyAssembler({
      mode: settings.legacyMode,
      kernelDrops: () => kernelDrops(boundPort),
      bufferDatagrams: Math.ceil(receiveBufferBytes / LEGACY_DATAGRAM_BYTES),
    });
  if (settings.protocol === "rtp") return createRtpAssembler(settings);
  // The reassembler copies what it keeps (the native reader's datagrams are views of its ring, overwritten by the
  // next batch); a large data chunk goes straight into its frame's payload, its one copy.
  return createV1Assembler({
    ...settings,
    allocatePayload: (byteLength) => frameMemory?.take(byteLength) ?? pool.take(byteLength),
    // A frame dropped before delivery gives its payload (taken at its first datagram) back for the next frames.
    releasePayload: (payload) => {
      const slot = frameMemory?.slotOf(payload);
      if (slot !== undefined) frameMemory!.free(slot);
      else if (payload.buffer instanceof ArrayBuffer) pool.give(payload.buffer);
    },
  });
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
  // The batch handler is set below, before the loop's next turn (the first batch).
  let onBatch: (count: number) => void = () => undefined;
  const reading = startReading(socket, (count) => onBatch(count), settings.reader ?? "native");
  const assembler = createAssembler(socket.address().port, socket.getRecvBufferSize());
  let datagramsReceived = 0;
  let bytesReceived = 0;
  let lastDatagramAt: number | undefined;
  const counters = (): IngestCounters => {
    const native = reading.reader?.counters();
    return {
      datagramsReceived,
      bytesReceived,
      datagramsTruncated: native?.truncated ?? 0,
      receiveErrors: native?.errors ?? 0,
      msSinceLastDatagram: lastDatagramAt === undefined ? undefined : performance.now() - lastDatagramAt,
      protocol: assembler.counters(),
      streams: assembler.streamCounters(),
    };
  };
  const sendFrame = (event: FrameEvent): void => {
    const ingested = { senderClock: assembler.senderClock, completedAt: Date.now() };
    const slot = frameMemory?.slotOf(event.payload);
    if (slot !== undefined) {
      const inFrameMemory = { slot, byteLength: event.payload.byteLength };
      post({ type: "frame", ingested: { frame: { ...event, payload: NO_BYTES }, ...ingested }, inFrameMemory });
      return;
    }
    const payload = ownBuffer(event.payload);
    post(
      {
        type: "frame",
        ingested: { frame: { ...event, payload }, ...ingested },
      },
      [payload.buffer],
    );
  };

  const reporting = onDemand(COUNTERS_EVERY_MS, () => {
    post({ type: "counters", counters: counters() });
    return false;
  });
  /** Expires what is due; counters go out when that changed anything. */
  const expire = (): void => {
    const before = assembler.framesInFlight + assembler.streams;
    const frames = assembler.expire(performance.now());
    for (const frame of frames) sendFrame(frame);
    if (frames.length > 0 || assembler.framesInFlight + assembler.streams !== before) reporting.want();
  };
  const expiring = dueTimer(() => {
    expire();
    return assembler.nextExpiryMs;
  });
  // With --idle-exit: the counters go out once no datagram came for that long, for the app to stop.
  const { idleMs } = settings;
  let idleTimer: NodeJS.Timeout | undefined;
  const idleCheck = (): void => {
    const quietMs = performance.now() - (lastDatagramAt ?? 0);
    if (idleMs === undefined || quietMs >= idleMs) {
      idleTimer = undefined;
      post({ type: "counters", counters: counters() });
    } else idleTimer = setTimeout(idleCheck, idleMs - quietMs);
  };

  // Each NACK goes back from this socket to where its stream came from (a multicast stream's unicast source).
  const nextNackMs = (): number => Math.max(assembler.nextNackMs!(), performance.now() + NACK_MIN_INTERVAL_MS);
  const nacking =
    assembler.nacks === undefined
      ? undefined
      : dueTimer(() => {
          for (const nack of assembler.nacks!(performance.now()))
            socket.send(nack.bytes, nack.to.port, nack.to.address, (error) => {
              if (error) assembler.nackSendFailed?.();
            });
          return nextNackMs();
        });

  const receive = (datagram: Uint8Array, now: number, from: Endpoint): void => {
    datagramsReceived++;
    bytesReceived += datagram.length;
    for (const frame of assembler.push(datagram, now, from.address, from)) sendFrame(frame);
  };
  /** After a datagram or a batch of them: the timers they may have moved. */
  const received = (now: number): void => {
    lastDatagramAt = now;
    reporting.want();
    nacking?.at(nextNackMs());
    expiring.at(assembler.nextExpiryMs);
    if (idleMs !== undefined && idleTimer === undefined) idleTimer = setTimeout(idleCheck, idleMs);
  };
  const { reader } = reading;
  if (reader === undefined) {
    socket.on("message", (datagram, from) => {
      const now = performance.now();
      receive(datagram, now, from);
      received(now);
    });
  } else {
    // A batch was read at one moment: one `now` for it. Each datagram is a view of the ring, valid until the batch
    // returns (frames it completes are copied out or sent before then).
    const sources = new SourceCache();
    const { addresses, ports } = reader;
    onBatch = (count) => {
      const now = performance.now();
      for (let i = 0; i < count; i++) {
        const datagram = reader.datagram(i);
        if (datagram !== undefined) receive(datagram, now, sources.get(addresses[i]!, ports[i]!));
      }
      received(now);
    };
  }
  const address = socket.address();
  post({
    type: "listening",
    address: address.address,
    port: address.port,
    receiveBuffer: buffers.receive,
    group: membership?.description,
    reader: reading.description,
  });

  port?.on("message", (command: IngestCommand) => {
    if (command.type === "recycle") {
      for (const buffer of command.buffers) pool.give(buffer);
      for (const slot of command.slots) frameMemory?.free(slot);
      return;
    }
    if (command.type === "frame-memory") {
      if (settings.frameMemoryFd !== undefined && frameMemory === undefined)
        frameMemory = FrameMemorySlots.map(settings.frameMemoryFd, command.layout);
      return;
    }
    if (command.type === "keys") {
      assembler.setKeys?.(command.keys);
      return;
    }
    reporting.stop();
    expiring.stop();
    clearTimeout(idleTimer);
    nacking?.stop();
    membership?.leave();
    reader?.close();
    socket.close(() => {
      post({ type: "closed", counters: counters() });
      port.close();
    });
  });
}

main().catch((error: unknown) => {
  post({ type: "failed", message: (error as Error).message, stack: (error as Error).stack });
});
