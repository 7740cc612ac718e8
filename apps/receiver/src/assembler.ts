import { createAuthenticator } from "@udpcam/appkit";
import { createLegacyReassembler, createReassembler, LEGACY_FRAME_HEIGHT, LEGACY_FRAME_WIDTH } from "@udpcam/protocol";
import type { ReceiveLoopSettings } from "./receive-protocol.js";

/** A complete frame, whatever protocol carried it. */
export interface AssembledFrame {
  readonly streamId: number;
  readonly frameNumber: number;
  readonly codec: "raw-bgr24" | "jpeg";
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** The sender's capture time (ms since the epoch), when the protocol carries it. */
  readonly senderTimeMs: number | undefined;
  readonly payload: Uint8Array;
  readonly recovered: boolean;
}

export interface AssemblerCounters {
  readonly framesComplete: number;
  readonly framesRecovered: number;
  readonly framesDropped: number;
  readonly framesLate: number;
  /** Everything the protocol counts, for --stats. */
  readonly protocol: Record<string, unknown>;
}

export interface FrameAssembler {
  push(datagram: Uint8Array, now: number): AssembledFrame[];
  expire(now: number): void;
  counters(): AssemblerCounters;
}

/** The original scripts have one stream, at 25 fps, with no id: this stands for it. */
const LEGACY_STREAM_ID = 0;
const LEGACY_FPS = 25;

export type AssemblerSettings = Pick<ReceiveLoopSettings, "protocol" | "legacyMode" | "key" | "maxFrameBytes" | "frameTimeout">;

export function createFrameAssembler(config: AssemblerSettings): FrameAssembler {
  return config.protocol === "legacy" ? legacyAssembler(config) : v1Assembler(config);
}

function legacyAssembler(config: AssemblerSettings): FrameAssembler {
  const reassembler = createLegacyReassembler({ mode: config.legacyMode });
  return {
    push(datagram, now) {
      const frames: AssembledFrame[] = [];
      for (const event of reassembler.push(datagram, now)) {
        if (event.type !== "frame") continue;
        frames.push({
          streamId: LEGACY_STREAM_ID,
          frameNumber: event.frameNumber,
          codec: "raw-bgr24",
          width: LEGACY_FRAME_WIDTH,
          height: LEGACY_FRAME_HEIGHT,
          fps: LEGACY_FPS,
          senderTimeMs: undefined,
          payload: event.payload,
          recovered: false,
        });
      }
      return frames;
    },
    expire() {},
    counters() {
      const counters = reassembler.counters;
      return { framesComplete: counters.framesComplete, framesRecovered: 0, framesDropped: counters.framesDropped, framesLate: 0, protocol: { ...counters } };
    },
  };
}

function v1Assembler(config: AssemblerSettings): FrameAssembler {
  const reassembler = createReassembler({
    maxFrameBytes: config.maxFrameBytes,
    frameTimeoutMs: config.frameTimeout,
    ...(config.key === undefined ? {} : { authenticator: createAuthenticator(config.key) }),
  });
  return {
    push(datagram, now) {
      const frames: AssembledFrame[] = [];
      for (const event of reassembler.push(datagram, now)) {
        if (event.type !== "frame") continue;
        frames.push({
          streamId: event.streamId,
          frameNumber: event.frameNumber,
          codec: event.codec,
          width: event.width,
          height: event.height,
          // 0 means the sender did not know its rate: record at the original scripts' 25.
          fps: event.fps > 0 ? event.fps : LEGACY_FPS,
          senderTimeMs: event.timestampMs,
          payload: event.payload,
          recovered: event.recovered,
        });
      }
      return frames;
    },
    expire(now) {
      reassembler.expire(now);
    },
    counters() {
      const counters = reassembler.counters;
      return {
        framesComplete: counters.framesComplete,
        framesRecovered: counters.framesRecovered,
        framesDropped: counters.framesDropped,
        framesLate: counters.framesLate,
        protocol: { ...counters },
      };
    },
  };
}
