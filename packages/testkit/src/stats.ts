// The apps' --stats files, read as the apps' own types and checked field by field: a
// counter renamed in an app fails here (at compile time, through the field tables, and at
// run time, through the check), never reads as a silent 0.
import type { ReceiverStats } from "@udpcam/receiver/stats";
import type { SenderStats } from "@udpcam/sender/stats";
import { readJson } from "./files.js";

export type { ReceiverStats, SenderStats };

type ProtocolCounters = ReceiverStats["protocol"];
/** The protocol counters of a v1 stream (the reassembler's, plus what the receiver counts around it). */
export type V1Counters = Extract<ProtocolCounters, { readonly format: "v1" }>;
/** The protocol counters of a legacy (original scripts') stream. */
export type LegacyCounters = Extract<ProtocolCounters, { readonly format: "legacy" }>;
/** The protocol counters of an RTP/JPEG stream. */
export type RtpCounters = Extract<ProtocolCounters, { readonly format: "rtp" }>;

type Kind = "number" | "string" | "object" | "array";
/** What each field of T holds. `satisfies` makes a field added to or taken from T a compile error here. */
type Fields<T> = { readonly [K in keyof T]-?: Kind };

const RECEIVER_FIELDS = {
  datagramsReceived: "number",
  bytesReceived: "number",
  datagramsTruncated: "number",
  receiveErrors: "number",
  framesComplete: "number",
  framesRecovered: "number",
  framesDropped: "number",
  framesLate: "number",
  framesDelivered: "number",
  framesRecorded: "number",
  framesNotRecorded: "number",
  framesShown: "number",
  framesSkippedBusy: "number",
  framesUndecodable: "number",
  streamsSeen: "number",
  streamsRefused: "number",
  protocol: "object",
  sinks: "object",
  latencyMs: "object",
  files: "array",
  startedAt: "number",
  elapsedSeconds: "number",
  resources: "object",
} as const satisfies Fields<ReceiverStats>;

const SENDER_FIELDS = {
  streamId: "number",
  framesSent: "number",
  datagramsSent: "number",
  bytesSent: "number",
  sendErrors: "number",
  refusals: "number",
  framesScaled: "number",
  framesPassedThrough: "number",
  sourceReconnects: "number",
  startedAt: "number",
  elapsedSeconds: "number",
  nack: "object",
} as const satisfies Fields<SenderStats>;

/** The fields every format's protocol counters have. */
const PROTOCOL_FIELDS = {
  format: "string",
  datagramsAccepted: "number",
  datagramsDuplicate: "number",
  datagramsMalformed: "number",
  malformedByCode: "object",
} as const;

const V1_FIELDS = {
  ...PROTOCOL_FIELDS,
  datagramsLegacyLike: "number",
  datagramsLate: "number",
  datagramsSurplus: "number",
  datagramsUnauthenticated: "number",
  datagramsUntagged: "number",
  datagramsAuthRequired: "number",
  datagramsUnencrypted: "number",
  datagramsDecrypted: "number",
  datagramsStale: "number",
  datagramsOverSourceCap: "number",
  datagramsOverStreamCap: "number",
  framesComplete: "number",
  framesRecovered: "number",
  chunksRecovered: "number",
  framesDropped: "number",
  framesLate: "number",
  bytesReceived: "number",
  bytesEmitted: "number",
  streams: "number",
  framesInFlight: "number",
  bufferedBytes: "number",
  datagramsRepair: "number",
  repairsReceived: "number",
  repairsUnneeded: "number",
  repairsInconsistent: "number",
  repairsUnmatched: "number",
  sourcesRecovered: "number",
  equationsExpired: "number",
  windowShed: "number",
  windowBytes: "number",
  nack: "object",
} as const satisfies Fields<V1Counters>;

const LEGACY_FIELDS = {
  ...PROTOCOL_FIELDS,
  datagramsV1Like: "number",
  framesComplete: "number",
  framesTorn: "number",
  framesDropped: "number",
  framesDroppedForKernelLoss: "number",
  bytesReceived: "number",
  bytesEmitted: "number",
} as const satisfies Fields<LegacyCounters>;

const RTP_FIELDS = {
  ...PROTOCOL_FIELDS,
  datagramsV1Like: "number",
  datagramsLate: "number",
  datagramsOverSourceCap: "number",
  datagramsOverStreamCap: "number",
  framesComplete: "number",
  framesDropped: "number",
  framesLate: "number",
  bytesReceived: "number",
  bytesEmitted: "number",
  streams: "number",
  framesInFlight: "number",
  bufferedBytes: "number",
} as const satisfies Fields<RtpCounters>;

function kindOf(value: unknown): Kind | "other" {
  if (Array.isArray(value)) return "array";
  if (value !== null && typeof value === "object") return "object";
  if (typeof value === "number") return "number";
  if (typeof value === "string") return "string";
  return "other";
}

/** `value` as a T, once every field in `fields` is there with its kind; throws naming the first that is not. */
function checked<T>(value: unknown, fields: Fields<T>, where: string): T {
  if (kindOf(value) !== "object") throw new Error(`${where}: expected a JSON object, got ${JSON.stringify(value)}`);
  const record = value as Record<string, unknown>;
  for (const [name, kind] of Object.entries<Kind>(fields)) {
    const actual = kindOf(record[name]);
    if (actual !== kind) {
      const got = name in record ? `a ${actual} (${JSON.stringify(record[name])})` : "nothing";
      throw new Error(`${where}: field "${name}" should be a ${kind}, found ${got}; did the app rename it?`);
    }
  }
  return value as T;
}

/** The receiver's --stats file; throws if a field of `ReceiverStats` is missing or of another kind. */
export function readReceiverStats(path: string): ReceiverStats {
  return checked<ReceiverStats>(readJson(path), RECEIVER_FIELDS, path);
}

/** The sender's --stats file; throws if a field of `SenderStats` is missing or of another kind. */
export function readSenderStats(path: string): SenderStats {
  return checked<SenderStats>(readJson(path), SENDER_FIELDS, path);
}

/** The protocol counters of a v1 stream; throws if the receiver ran another format or a counter is missing. */
export function v1Counters(stats: ReceiverStats): V1Counters {
  return protocolCounters<V1Counters>(stats, "v1", V1_FIELDS);
}

/** The protocol counters of a legacy stream; throws if the receiver ran another format or a counter is missing. */
export function legacyCounters(stats: ReceiverStats): LegacyCounters {
  return protocolCounters<LegacyCounters>(stats, "legacy", LEGACY_FIELDS);
}

/** The protocol counters of an RTP/JPEG stream; throws if the receiver ran another format or a counter is missing. */
export function rtpCounters(stats: ReceiverStats): RtpCounters {
  return protocolCounters<RtpCounters>(stats, "rtp", RTP_FIELDS);
}

function protocolCounters<T extends ProtocolCounters>(stats: ReceiverStats, format: T["format"], fields: Fields<T>): T {
  if (stats.protocol.format !== format)
    throw new Error(`stats: protocol counters are for ${stats.protocol.format}, not ${format}`);
  return checked<T>(stats.protocol, fields, "stats.protocol");
}
