/**
 * What the recorder and its encoder process (`encoder-process.ts`) say to each other.
 * Pure: no I/O, no OpenCV, so both ends and the tests share it.
 *
 * The recorder writes records on the encoder's stdin, one after another, each a
 * 12-byte header and a payload (big-endian, like the wire protocol):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      magic 0x55 0x52 ("UR")   |     kind      |slot (slot,lent)|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | A: width in pixels (frame, slot, lent), payload length (start)|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     B: height in pixels (frame, slot, lent), 0                |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * :  payload: frame: A * B * 3 bytes of bgr24; start and probe: A  :
 * :  bytes of UTF-8 JSON (EncoderOptions, ProbeOptions); slot,     :
 * :  lent, acknowledge and close: -                                :
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * kind 7 = lent (as slot, but in slot `slot` of the recorder's caller's frame memory, the encoder's fd
 * `FRAME_MEMORY_FD`, laid out as the start record's `frames` says: `frame-memory.ts`), 6 = acknowledge (say `written` for every frame before it now, not after `ACKNOWLEDGE_MS`: the
 * recorder's `flush`), 5 = slot (a frame of A * B * 3 bytes of bgr24 in shared slot number `slot`, laid out as the start
 * record's `slots` says: `frame-slots.ts`; the encoder is done with it when it says `written` for it), 4 = probe (write a one-frame file with the codec, remove it, answer
 * `probed`: any number of them, before the start record), 3 = start (what to record:
 * once), 1 = frame, 2 = close (encode what came before, finalize the file, exit). The
 * options come in a record rather than on the command line so that an encoder process
 * can be started before anyone knows what it will record (the recorder keeps one
 * ready), and the probe runs here so that the recorder's own process never loads OpenCV.
 *
 * The encoder answers on a socket pair of its own (its fd `EVENTS_FD`) with `EncoderEvent`s, in order, each a
 * 12-byte header and a payload (big-endian):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      magic 0x55 0x45 ("UE")   |     kind      |       0       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        A: frames (written), payload length (json)             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        B: of them scaled (written), 0 (json)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * :  payload: json: A bytes of UTF-8 JSON (any other EncoderEvent) :
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * kind 1 = written, 2 = json. Events: `file` when it opens a file (the recorder knows the names: it gives the
 * encoder absolute paths, its callers see the path as they gave it), `probed` once per probe record, `written`
 * for frames encoded (a count: at most `acknowledgeEvery` frames or `ACKNOWLEDGE_MS` after the first of them,
 * and always before any other event), `failed` once (it then encodes nothing more), `closed` after the close
 * record. (They went as JSON on Node's IPC channel: its reads and parsing were ~10% of the recorder's main
 * thread at 25 fps, `perf`; the channel stays, unused, for the encoder to see its parent go.)
 */
import { describeCause, VideoError } from "../errors.js";
import { checkSlotLayout, MAX_SLOTS, type SlotLayout } from "./frame-slots-layout.js";

export const RECORD_MAGIC = 0x5552;
export const RECORD_HEADER_BYTES = 12;
const OFFSET_MAGIC = 0;
const OFFSET_KIND = 2;
/** The slot's number in a slot record; 0 in every other. */
const OFFSET_SLOT = 3;
const OFFSET_A = 4;
const OFFSET_B = 8;

export const RECORD_KIND_FRAME = 1;
export const RECORD_KIND_CLOSE = 2;
export const RECORD_KIND_START = 3;
export const RECORD_KIND_PROBE = 4;
export const RECORD_KIND_SLOT = 5;
export const RECORD_KIND_ACKNOWLEDGE = 6;
export const RECORD_KIND_LENT = 7;

/** Frames wider or taller than this are not recorded: bounds what the encoder allocates for one record. */
export const MAX_RECORDED_SIDE = 16384;
/** The start record's JSON at most (a path of 4096 bytes fits many times). */
export const MAX_START_BYTES = 65536;

/** What the recorder tells its encoder in the start record. */
export interface EncoderOptions {
  readonly path: string;
  readonly fourcc: string;
  readonly fps: number;
  /** Frames per file; `null`: one file (JSON has no Infinity). */
  readonly framesPerSegment: number | null;
  /** The encoder says `written` once this many frames are encoded (or `ACKNOWLEDGE_MS` after the first of them). */
  readonly acknowledgeEvery: number;
  /** Where the slot records' frames are (the memory is the encoder's fd `SLOTS_FD`); null: every frame on stdin. */
  readonly slots: SlotLayout | null;
  /**
   * Where the lent records' frames are (the recorder's caller's frame memory, the encoder's fd `FRAME_MEMORY_FD`);
   * absent or null: no lent records.
   */
  readonly frames?: SlotLayout | null;
}

/**
 * The longest the encoder holds back a `written` event. An event cost both processes a wake-up, a message and
 * its handling (the recorder's reads of them were ~10% of its main thread at 25 fps with 100 ms here, `perf`);
 * held back up to this long, one event covers 10 frames at 25 fps (a recorder's queue of 50 frames hears at 12
 * by `acknowledgeEvery`), and the recorder's queue counts them as queued meanwhile (its bound holds: the encoder
 * no longer needs their bytes; 10 of the slots stay taken). A recorder's `flush` does not wait it out: it sends
 * an acknowledge record.
 */
export const ACKNOWLEDGE_MS = 400;

/** What a probe record asks: write one 16x16 frame to `path` (the probe file, removed after) with the codec. */
export interface ProbeOptions {
  readonly path: string;
  readonly fourcc: string;
  readonly fps: number;
}

export type EncoderRecord =
  | { readonly kind: "probe"; readonly options: ProbeOptions }
  | { readonly kind: "start"; readonly options: EncoderOptions }
  | { readonly kind: "frame"; readonly width: number; readonly height: number; readonly bytes: Uint8Array }
  | { readonly kind: "slot" | "lent"; readonly width: number; readonly height: number; readonly slot: number }
  | { readonly kind: "acknowledge" }
  | { readonly kind: "close" };

/**
 * A 12-byte header (records and events alike: magic, kind, slot or reserved byte, fields A and B), with room for
 * `payloadBytes` after it. From Node's small-buffer pool when that is small: no ArrayBuffer of its own a frame.
 */
function writeHeader(magic: number, kind: number, a: number, b: number, slot = 0, payloadBytes = 0): Buffer {
  const bytes = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payloadBytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, RECORD_HEADER_BYTES);
  view.setUint16(OFFSET_MAGIC, magic);
  view.setUint8(OFFSET_KIND, kind);
  view.setUint8(OFFSET_SLOT, slot);
  view.setUint32(OFFSET_A, a);
  view.setUint32(OFFSET_B, b);
  return bytes;
}

function header(kind: number, a: number, b: number, slot = 0): Buffer {
  return writeHeader(RECORD_MAGIC, kind, a, b, slot);
}

function jsonRecord(kind: number, options: EncoderOptions | ProbeOptions): Buffer {
  const json = Buffer.from(JSON.stringify(options), "utf8");
  if (json.byteLength > MAX_START_BYTES)
    throw new RangeError(`encoder options of ${json.byteLength} bytes are longer than ${MAX_START_BYTES}`);
  return Buffer.concat([header(kind, json.byteLength, 0), json]);
}

/** The whole start record. Throws a RangeError if the options' JSON is too long. */
export function startRecord(options: EncoderOptions): Buffer {
  return jsonRecord(RECORD_KIND_START, options);
}

/** The whole probe record. Throws a RangeError if the options' JSON is too long. */
export function probeRecord(options: ProbeOptions): Buffer {
  return jsonRecord(RECORD_KIND_PROBE, options);
}

/** The header of a frame record; the frame's `width * height * 3` bytes follow it. */
export function frameRecordHeader(width: number, height: number): Buffer {
  checkSide("width", width);
  checkSide("height", height);
  return header(RECORD_KIND_FRAME, width, height);
}

/** A whole slot record: a frame of `width` x `height` in slot `slot` (0..MAX_SLOTS - 1) of the encoder's slots. */
export function slotRecord(width: number, height: number, slot: number): Buffer {
  return slotHeader(RECORD_KIND_SLOT, width, height, slot);
}

/** A whole lent record: a frame of `width` x `height` in slot `slot` (0..MAX_SLOTS - 1) of the frame memory. */
export function lentRecord(width: number, height: number, slot: number): Buffer {
  return slotHeader(RECORD_KIND_LENT, width, height, slot);
}

function slotHeader(kind: number, width: number, height: number, slot: number): Buffer {
  checkSide("width", width);
  checkSide("height", height);
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS)
    throw new RangeError(`slot must be an integer from 0 to ${MAX_SLOTS - 1}, got ${slot}`);
  return header(kind, width, height, slot);
}

export function closeRecord(): Buffer {
  return header(RECORD_KIND_CLOSE, 0, 0);
}

/** Asks the encoder to say `written` for every frame before it at once (what `flush` waits for). */
export function acknowledgeRecord(): Buffer {
  return header(RECORD_KIND_ACKNOWLEDGE, 0, 0);
}

function checkSide(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > MAX_RECORDED_SIDE) {
    throw new RangeError(`frame ${name} must be an integer from 1 to ${MAX_RECORDED_SIDE}, got ${value}`);
  }
}

export type RecordHeader =
  | { readonly kind: "start" | "probe"; readonly length: number }
  | { readonly kind: "frame"; readonly width: number; readonly height: number }
  | { readonly kind: "slot" | "lent"; readonly width: number; readonly height: number; readonly slot: number }
  | { readonly kind: "acknowledge" | "close" };

/**
 * Checks and reads a record header (`RECORD_HEADER_BYTES` bytes). `offset` is where
 * the record starts in the stream, for the message. Throws `VideoError` `WRITE_FAILED`.
 */
export function parseRecordHeader(bytes: Uint8Array, offset: number): RecordHeader {
  const fail = (message: string): never => {
    throw new VideoError("WRITE_FAILED", `encoder input: record at byte ${offset}: ${message}`);
  };
  if (bytes.byteLength !== RECORD_HEADER_BYTES)
    fail(`header of ${bytes.byteLength} bytes, expected ${RECORD_HEADER_BYTES}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint16(OFFSET_MAGIC);
  const kind = view.getUint8(OFFSET_KIND);
  const slot = view.getUint8(OFFSET_SLOT);
  const a = view.getUint32(OFFSET_A);
  const b = view.getUint32(OFFSET_B);
  if (magic !== RECORD_MAGIC)
    fail(`magic 0x${magic.toString(16).padStart(4, "0")}, expected 0x${RECORD_MAGIC.toString(16)}`);
  if (slot !== 0 && kind !== RECORD_KIND_SLOT && kind !== RECORD_KIND_LENT) fail(`reserved byte ${slot}, expected 0`);
  switch (kind) {
    case RECORD_KIND_CLOSE:
    case RECORD_KIND_ACKNOWLEDGE: {
      const name = kind === RECORD_KIND_CLOSE ? "close" : "acknowledge";
      if (a !== 0 || b !== 0) fail(`${name} record with fields ${a}, ${b}, expected 0, 0`);
      return { kind: name };
    }
    case RECORD_KIND_START:
    case RECORD_KIND_PROBE: {
      const name = kind === RECORD_KIND_START ? "start" : "probe";
      if (a < 2 || a > MAX_START_BYTES || b !== 0)
        fail(`${name} record of ${a} bytes (field B ${b}), expected 2..${MAX_START_BYTES} bytes and 0`);
      return { kind: name, length: a };
    }
    case RECORD_KIND_FRAME:
      if (a < 1 || a > MAX_RECORDED_SIDE || b < 1 || b > MAX_RECORDED_SIDE)
        fail(`frame size ${a}x${b} is outside 1..${MAX_RECORDED_SIDE}`);
      return { kind: "frame", width: a, height: b };
    case RECORD_KIND_SLOT:
    case RECORD_KIND_LENT: {
      const name = kind === RECORD_KIND_SLOT ? "slot" : "lent";
      if (a < 1 || a > MAX_RECORDED_SIDE || b < 1 || b > MAX_RECORDED_SIDE)
        fail(`${name} frame size ${a}x${b} is outside 1..${MAX_RECORDED_SIDE}`);
      return { kind: name, width: a, height: b, slot };
    }
    default:
      return fail(`unknown kind ${kind}`);
  }
}

/** What a header says: an item with no payload, or a payload to gather (into `payload`) and what it makes. */
type Framing<T> =
  | { readonly item: T }
  | { readonly payload: Uint8Array; readonly complete: (payload: Uint8Array, offset: number) => T };

/**
 * Reads an input of 12-byte headers, each with a payload or none, that arrives in pieces of any size: the
 * framing the encoder's input (records) and its events share. `frame` reads a whole header at `offset` in the
 * input and says what follows it; it throws at a bad one.
 */
class FramedReader<T> {
  readonly #head = new Uint8Array(RECORD_HEADER_BYTES);
  #headFilled = 0;
  /** A payload being gathered, and what it makes once whole. */
  #pending: Exclude<Framing<T>, { readonly item: T }> | undefined;
  #payloadFilled = 0;
  /** Where the header being read, or the one before the payload being read, starts in the input. */
  #offset = 0;

  constructor(private readonly frame: (head: Uint8Array, offset: number) => Framing<T>) {}

  /**
   * Reads `chunk`, calling `onItem` for each item it completes, in order. Throws where `frame` or `complete`
   * throws (after the items before it): the input has then lost its framing, and nothing more can be read from it.
   */
  push(chunk: Uint8Array, onItem: (item: T) => void): void {
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.#pending === undefined) {
        const n = Math.min(RECORD_HEADER_BYTES - this.#headFilled, chunk.byteLength - at);
        this.#head.set(chunk.subarray(at, at + n), this.#headFilled);
        this.#headFilled += n;
        at += n;
        if (this.#headFilled < RECORD_HEADER_BYTES) return;
        const framing = this.frame(this.#head, this.#offset);
        if ("item" in framing) {
          this.#finish(RECORD_HEADER_BYTES);
          onItem(framing.item);
          continue;
        }
        this.#pending = framing;
        this.#payloadFilled = 0;
      }
      const { payload, complete } = this.#pending;
      const n = Math.min(payload.byteLength - this.#payloadFilled, chunk.byteLength - at);
      payload.set(chunk.subarray(at, at + n), this.#payloadFilled);
      this.#payloadFilled += n;
      at += n;
      if (this.#payloadFilled < payload.byteLength) return;
      const offset = this.#offset;
      this.#finish(RECORD_HEADER_BYTES + payload.byteLength);
      onItem(complete(payload, offset));
    }
  }

  /** Bytes of an unfinished last item: 0 when the input so far ends between items. */
  get unfinished(): number {
    return this.#pending === undefined ? this.#headFilled : RECORD_HEADER_BYTES + this.#payloadFilled;
  }

  #finish(itemBytes: number): void {
    this.#offset += itemBytes;
    this.#headFilled = 0;
    this.#pending = undefined;
  }
}

/**
 * Reads the records of an input that arrives in pieces of any size (stdin's `data` events). A frame's pixels
 * are gathered into a buffer from `allocate` (by default a new one); slot, lent, acknowledge and close records have no
 * payload.
 * `push` throws `VideoError` `WRITE_FAILED` at a bad header or start record.
 */
export class RecordReader extends FramedReader<EncoderRecord> {
  constructor(allocate: (byteLength: number) => Uint8Array = (n) => new Uint8Array(n)) {
    super((head, offset) => {
      const header = parseRecordHeader(head, offset);
      switch (header.kind) {
        case "close":
        case "acknowledge":
        case "slot":
        case "lent":
          return { item: header };
        case "frame":
          // Limits were checked by parseRecordHeader: at most MAX_RECORDED_SIDE² * 3 bytes.
          return {
            payload: allocate(header.width * header.height * 3),
            complete: (bytes) => ({ ...header, bytes }),
          };
        default:
          return {
            payload: new Uint8Array(header.length),
            complete: (payload, at) => parsedJsonRecord(header, payload, at),
          };
      }
    });
  }
}

function parsedJsonRecord(
  header: { readonly kind: "start" | "probe" },
  payload: Uint8Array,
  offset: number,
): EncoderRecord {
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8");
  try {
    return header.kind === "start"
      ? { kind: "start", options: parseEncoderOptions(text) }
      : { kind: "probe", options: parseProbeOptions(text) };
  } catch (cause) {
    throw new VideoError(
      "WRITE_FAILED",
      `encoder input: ${header.kind} record at byte ${offset}: ${describeCause(cause)}`,
      {
        cause,
      },
    );
  }
}

/** The fields the start and probe records share, checked. Throws an Error saying what is wrong. */
function parseCodecOptions(
  text: string | undefined,
  what: string,
): ProbeOptions & Partial<Record<keyof EncoderOptions, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(text ?? "");
  } catch {
    throw new Error(`${what}: not JSON: ${String(text)}`);
  }
  const o = value as Partial<Record<keyof EncoderOptions, unknown>> | null;
  if (typeof o !== "object" || o === null) throw new Error(`${what}: not an object`);
  if (typeof o.path !== "string" || o.path === "") throw new Error(`${what}: path must be a non-empty string`);
  if (typeof o.fourcc !== "string" || o.fourcc.length !== 4) throw new Error(`${what}: fourcc must be 4 characters`);
  if (typeof o.fps !== "number" || !(o.fps > 0)) throw new Error(`${what}: fps must be above 0`);
  return o as ProbeOptions & Partial<Record<keyof EncoderOptions, unknown>>;
}

/** Checks the probe record's JSON. Throws an Error saying what is wrong. */
export function parseProbeOptions(text: string | undefined): ProbeOptions {
  const o = parseCodecOptions(text, "probe options");
  return { path: o.path, fourcc: o.fourcc, fps: o.fps };
}

/** Checks the start record's JSON. Throws an Error saying what is wrong. */
export function parseEncoderOptions(text: string | undefined): EncoderOptions {
  const o = parseCodecOptions(text, "encoder options");
  if (
    o.framesPerSegment !== null &&
    !(typeof o.framesPerSegment === "number" && Number.isInteger(o.framesPerSegment) && o.framesPerSegment >= 1)
  ) {
    throw new Error("encoder options: framesPerSegment must be null or an integer >= 1");
  }
  if (!(typeof o.acknowledgeEvery === "number" && Number.isInteger(o.acknowledgeEvery) && o.acknowledgeEvery >= 1)) {
    throw new Error("encoder options: acknowledgeEvery must be an integer >= 1");
  }
  return {
    path: o.path,
    fourcc: o.fourcc,
    fps: o.fps,
    framesPerSegment: o.framesPerSegment,
    acknowledgeEvery: o.acknowledgeEvery,
    slots: o.slots === null || o.slots === undefined ? null : checkSlotLayout(o.slots),
    ...(o.frames === null || o.frames === undefined ? {} : { frames: checkSlotLayout(o.frames, "frames") }),
  };
}

/** Codes the encoder passes on as they are; anything else becomes `WRITE_FAILED` naming the frame. */
export type EncoderFailureCode = "CODEC_UNAVAILABLE";

export type EncoderEvent =
  /** A file was opened: segment number, or null when the recording is one file. */
  | { readonly event: "file"; readonly segment: number | null }
  /** The answer to a probe record: null, or why the codec cannot be written there (`CODEC_UNAVAILABLE`). */
  | { readonly event: "probed"; readonly error: string | null }
  /** `frames` more frames were encoded (in order), `scaled` of them scaled to the recording's size. */
  | { readonly event: "written"; readonly frames: number; readonly scaled: number }
  | { readonly event: "failed"; readonly code: EncoderFailureCode | null; readonly message: string }
  | { readonly event: "closed" };

/** Checks a message from the encoder. Throws an Error describing what is wrong with it. */
export function parseEncoderEvent(value: unknown): EncoderEvent {
  const m = value as Record<string, unknown> | null;
  if (typeof m !== "object" || m === null) throw new Error(`not an object: ${JSON.stringify(value)}`);
  switch (m.event) {
    case "file":
      if (m.segment === null || (typeof m.segment === "number" && Number.isInteger(m.segment) && m.segment >= 0))
        return { event: "file", segment: m.segment };
      break;
    case "probed":
      if (m.error === null || typeof m.error === "string") return { event: "probed", error: m.error };
      break;
    case "written":
      if (
        typeof m.frames === "number" &&
        Number.isInteger(m.frames) &&
        m.frames >= 1 &&
        typeof m.scaled === "number" &&
        Number.isInteger(m.scaled) &&
        m.scaled >= 0 &&
        m.scaled <= m.frames
      )
        return { event: "written", frames: m.frames, scaled: m.scaled };
      break;
    case "failed":
      if (typeof m.message === "string" && (m.code === null || m.code === "CODEC_UNAVAILABLE"))
        return { event: "failed", code: m.code, message: m.message };
      break;
    case "closed":
      return { event: "closed" };
  }
  throw new Error(`not an encoder event: ${JSON.stringify(value)}`);
}

/** The encoder's events' socket: its stdio entry after the slots' (`SLOTS_FD`). */
export const EVENTS_FD = 5;
export const EVENT_MAGIC = 0x5545;
export const EVENT_HEADER_BYTES = 12;
export const EVENT_KIND_WRITTEN = 1;
export const EVENT_KIND_JSON = 2;
/** A json event's payload at most (a failure's message is cut to `MAX_FAILURE_MESSAGE_CHARS`). */
export const MAX_EVENT_JSON_BYTES = 1 << 16;
/** A failure's message at most, in characters: its JSON then fits `MAX_EVENT_JSON_BYTES`. */
export const MAX_FAILURE_MESSAGE_CHARS = 8192;

function eventHeader(kind: number, a: number, b: number, payloadBytes = 0): Buffer {
  return writeHeader(EVENT_MAGIC, kind, a, b, 0, payloadBytes);
}

/** One event as the encoder writes it. Throws RangeError for a written count out of range or JSON too long. */
export function eventRecord(event: EncoderEvent): Buffer {
  if (event.event === "written") {
    const { frames, scaled } = event;
    if (!Number.isInteger(frames) || frames < 1 || frames > 0xffffffff)
      throw new RangeError(`written frames ${frames}`);
    if (!Number.isInteger(scaled) || scaled < 0 || scaled > frames) throw new RangeError(`written scaled ${scaled}`);
    return eventHeader(EVENT_KIND_WRITTEN, frames, scaled);
  }
  const json = Buffer.from(JSON.stringify(event), "utf8");
  if (json.byteLength > MAX_EVENT_JSON_BYTES)
    throw new RangeError(`${event.event} event of ${json.byteLength} bytes, at most ${MAX_EVENT_JSON_BYTES}`);
  const bytes = eventHeader(EVENT_KIND_JSON, json.byteLength, 0, json.byteLength);
  json.copy(bytes, EVENT_HEADER_BYTES);
  return bytes;
}

/**
 * The recorder's side of the events' socket: takes its bytes as they arrive, in chunks of any size, and hands out
 * each event once it is whole. `push` throws `VideoError` `WRITE_FAILED` at a bad header or payload (after the
 * events before it, naming its offset): the socket has then lost its framing, and nothing more can be read from it.
 */
export class EventReader extends FramedReader<EncoderEvent> {
  constructor() {
    super(parseEventHeader);
  }
}

function parseEventHeader(head: Uint8Array, offset: number): Framing<EncoderEvent> {
  const fail = (message: string): never => {
    throw new VideoError("WRITE_FAILED", `encoder events: event at byte ${offset}: ${message}`);
  };
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const magic = view.getUint16(OFFSET_MAGIC);
  const kind = view.getUint8(OFFSET_KIND);
  const reserved = view.getUint8(OFFSET_SLOT);
  const a = view.getUint32(OFFSET_A);
  const b = view.getUint32(OFFSET_B);
  if (magic !== EVENT_MAGIC)
    fail(`magic 0x${magic.toString(16).padStart(4, "0")}, expected 0x${EVENT_MAGIC.toString(16)}`);
  if (reserved !== 0) fail(`reserved byte ${reserved}, expected 0`);
  switch (kind) {
    case EVENT_KIND_WRITTEN:
      if (a < 1 || b > a) fail(`written ${a} frames, ${b} scaled: expected at least 1, and at most that scaled`);
      return { item: { event: "written", frames: a, scaled: b } };
    case EVENT_KIND_JSON:
      if (a < 2 || a > MAX_EVENT_JSON_BYTES || b !== 0)
        fail(`json event of ${a} bytes (field B ${b}), expected 2..${MAX_EVENT_JSON_BYTES} bytes and 0`);
      return { payload: new Uint8Array(a), complete: parsedJsonEvent };
    default:
      return fail(`unknown kind ${kind}`);
  }
}

function parsedJsonEvent(payload: Uint8Array, offset: number): EncoderEvent {
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8");
  try {
    return parseEncoderEvent(JSON.parse(text));
  } catch (cause) {
    throw new VideoError("WRITE_FAILED", `encoder events: json event at byte ${offset}: ${describeCause(cause)}`, {
      cause,
    });
  }
}
