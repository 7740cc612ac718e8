import { describe, expect, it } from "vitest";
import { VideoError } from "../errors.js";
import { MAX_SLOTS } from "./frame-slots-layout.js";
import {
  acknowledgeRecord,
  closeRecord,
  eventRecord,
  EventReader,
  frameRecordHeader,
  MAX_EVENT_JSON_BYTES,
  MAX_RECORDED_SIDE,
  MAX_START_BYTES,
  parseEncoderEvent,
  parseEncoderOptions,
  parseProbeOptions,
  parseRecordHeader,
  probeRecord,
  RecordReader,
  RECORD_HEADER_BYTES,
  slotRecord,
  lentRecord,
  startRecord,
  type EncoderEvent,
  type EncoderOptions,
  type EncoderRecord,
  type ProbeOptions,
  type RecordHeader,
} from "./encoder-wire.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("record headers", () => {
  it.each([
    [
      "a 640x480 frame",
      frameRecordHeader(640, 480),
      "555201000000028000000" + "1e0",
      { kind: "frame", width: 640, height: 480 },
    ],
    ["a 1x1 frame", frameRecordHeader(1, 1), "555201000000000100000001", { kind: "frame", width: 1, height: 1 }],
    [
      "the largest frame",
      frameRecordHeader(MAX_RECORDED_SIDE, MAX_RECORDED_SIDE),
      "555201000000400000004000",
      { kind: "frame", width: 16384, height: 16384 },
    ],
    [
      "a 640x480 frame in slot 0",
      slotRecord(640, 480, 0),
      "555205000000028000000" + "1e0",
      { kind: "slot", width: 640, height: 480, slot: 0 },
    ],
    [
      "a 2x3 frame in the last slot",
      slotRecord(2, 3, MAX_SLOTS - 1),
      "555205ff0000000200000003",
      { kind: "slot", width: 2, height: 3, slot: 255 },
    ],
    [
      "a 640x480 frame in slot 33 of the frame memory",
      lentRecord(640, 480, 33),
      "555207210000028000000" + "1e0",
      { kind: "lent", width: 640, height: 480, slot: 33 },
    ],
    ["close", closeRecord(), "555202000000000000000000", { kind: "close" }],
    ["acknowledge", acknowledgeRecord(), "555206000000000000000000", { kind: "acknowledge" }],
  ] as [string, Uint8Array, string, RecordHeader][])(
    "%s: encodes to the bytes, which decode back",
    (_name, bytes, expected, header) => {
      expect(hex(bytes)).toBe(expected);
      expect(parseRecordHeader(bytes, 0)).toEqual(header);
      const decoded = parseRecordHeader(Buffer.from(expected, "hex"), 0);
      const again =
        decoded.kind === "frame"
          ? frameRecordHeader(decoded.width, decoded.height)
          : decoded.kind === "slot" || decoded.kind === "lent"
            ? (decoded.kind === "slot" ? slotRecord : lentRecord)(decoded.width, decoded.height, decoded.slot)
            : decoded.kind === "acknowledge"
              ? acknowledgeRecord()
              : closeRecord();
      expect(hex(again)).toBe(expected);
    },
  );

  it("start: a header giving the JSON's length, then the JSON", () => {
    const options: EncoderOptions = {
      path: "/tmp/é.avi",
      fourcc: "DIVX",
      fps: 25,
      framesPerSegment: null,
      acknowledgeEvery: 12,
      slots: null,
    };
    const record = startRecord(options);
    const json = Buffer.from(JSON.stringify(options));
    expect(hex(record.subarray(0, RECORD_HEADER_BYTES))).toBe(
      `55520300${json.byteLength.toString(16).padStart(8, "0")}00000000`,
    );
    expect(record.subarray(RECORD_HEADER_BYTES).equals(json)).toBe(true);
    expect(parseRecordHeader(record.subarray(0, RECORD_HEADER_BYTES), 0)).toEqual({
      kind: "start",
      length: json.byteLength,
    });
    expect(() => startRecord({ ...options, path: "/".repeat(MAX_START_BYTES) })).toThrow(RangeError);
  });

  it("probe: a header of kind 4 giving the JSON's length, then the JSON, read back as a probe", () => {
    const options: ProbeOptions = { path: "/tmp/.out.avi.probe-7.avi", fourcc: "DIVX", fps: 25 };
    const record = probeRecord(options);
    const json = Buffer.from(JSON.stringify(options));
    expect(hex(record.subarray(0, RECORD_HEADER_BYTES))).toBe(
      `55520400${json.byteLength.toString(16).padStart(8, "0")}00000000`,
    );
    expect(parseRecordHeader(record.subarray(0, RECORD_HEADER_BYTES), 0)).toEqual({
      kind: "probe",
      length: json.byteLength,
    });
    const start = { ...options, framesPerSegment: null, acknowledgeEvery: 1, slots: null };
    const stream = Buffer.concat([record, startRecord(start)]);
    const { records } = drain(stream, 5);
    expect(records).toEqual([
      { kind: "probe", options },
      { kind: "start", options: start },
    ]);
  });

  it.each([
    [0, 480],
    [640, 0],
    [MAX_RECORDED_SIDE + 1, 480],
    [640.5, 480],
    [-1, 480],
  ])("refuses to encode a %sx%s frame header", (width, height) => {
    expect(() => frameRecordHeader(width, height)).toThrow(RangeError);
    expect(() => slotRecord(width, height, 0)).toThrow(RangeError);
  });

  it.each([-1, 1.5, MAX_SLOTS])("refuses to encode slot %s", (slot) => {
    expect(() => slotRecord(640, 480, slot)).toThrow(/slot must be an integer from 0 to 255/);
  });

  it.each([
    ["bad magic", "555301000000028000000" + "1e0", /record at byte 4096: magic 0x5553, expected 0x5552/],
    ["a reserved byte set", "555201070000028000000" + "1e0", /record at byte 4096: reserved byte 7, expected 0/],
    ["an unknown kind", "555208000000028000000" + "1e0", /record at byte 4096: unknown kind 8/],
    ["a slot frame of height 0", "555205010000000100000000", /slot frame size 1x0 is outside 1\.\.16384/],
    ["an empty probe record", "555204000000000000000000", /probe record of 0 bytes \(field B 0\)/],
    ["a close record with a size", "555202000000000100000001", /close record with fields 1, 1, expected 0, 0/],
    [
      "an acknowledge record with a size",
      "555206000000000100000000",
      /acknowledge record with fields 1, 0, expected 0/,
    ],
    [
      "an empty start record",
      "555203000000000000000000",
      /start record of 0 bytes \(field B 0\), expected 2\.\.65536 bytes and 0/,
    ],
    ["a start record too long", "555203000001000100000000", /start record of 65537 bytes/],
    ["a start record with field B set", "555203000000001000000001", /start record of 16 bytes \(field B 1\)/],
    ["a frame of width 0", "555201000000000000000001", /frame size 0x1 is outside 1\.\.16384/],
    ["a frame too tall", "555201000000000100004001", /frame size 1x16385 is outside/],
    ["a short header", "5552010000000280000000", /header of 11 bytes, expected 12/],
    ["a long header", "555201000000028000000" + "1e000", /header of 13 bytes, expected 12/],
  ])("refuses %s, naming the stream offset", (_name, bytes, message) => {
    const error = ((): unknown => {
      try {
        return parseRecordHeader(Buffer.from(bytes, "hex"), 4096);
      } catch (caught) {
        return caught;
      }
    })();
    expect(VideoError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: "WRITE_FAILED" });
    expect((error as Error).message).toMatch(message);
  });
});

/** Feeds `stream` to a RecordReader in pieces of at most `step` bytes, as stdin's data events come. */
function drain(
  stream: Uint8Array,
  step: number,
  allocate?: (byteLength: number) => Uint8Array,
): { records: EncoderRecord[]; unfinished: number } {
  const records: EncoderRecord[] = [];
  const input = new RecordReader(allocate);
  for (let at = 0; at < stream.byteLength; at += step)
    input.push(stream.subarray(at, at + step), (record) => records.push(record));
  return { records, unfinished: input.unfinished };
}

/** The records read from `stream` before a push threw, and what it threw. */
function drainUntilThrown(stream: Uint8Array, step: number): { records: EncoderRecord[]; thrown: unknown } {
  const records: EncoderRecord[] = [];
  const input = new RecordReader();
  try {
    for (let at = 0; at < stream.byteLength; at += step)
      input.push(stream.subarray(at, at + step), (record) => records.push(record));
  } catch (thrown) {
    return { records, thrown };
  }
  return { records, thrown: undefined };
}

const pixels = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
const first = pixels(2 * 1 * 3, 1);
const second = pixels(3 * 2 * 3, 2);
const options: EncoderOptions = {
  path: "/tmp/out.avi",
  fourcc: "MJPG",
  fps: 30,
  framesPerSegment: 30,
  acknowledgeEvery: 1,
  slots: { count: 2, stride: 8192, offset: 64 },
  frames: { count: 3, stride: 4096, offset: 0 },
};
const start = startRecord(options);
const stream = Buffer.concat([
  start,
  frameRecordHeader(2, 1),
  first,
  slotRecord(4, 4, 1),
  lentRecord(4, 4, 2),
  closeRecord(),
  frameRecordHeader(3, 2),
  second,
]);
const expected: EncoderRecord[] = [
  { kind: "start", options },
  { kind: "frame", width: 2, height: 1, bytes: first },
  { kind: "slot", width: 4, height: 4, slot: 1 },
  { kind: "lent", width: 4, height: 4, slot: 2 },
  { kind: "close" },
  { kind: "frame", width: 3, height: 2, bytes: second },
];
/** Where each record ends in the stream. */
const ends = [
  start.byteLength,
  start.byteLength + RECORD_HEADER_BYTES + first.byteLength,
  start.byteLength + 2 * RECORD_HEADER_BYTES + first.byteLength,
  start.byteLength + 3 * RECORD_HEADER_BYTES + first.byteLength,
  start.byteLength + 4 * RECORD_HEADER_BYTES + first.byteLength,
  stream.byteLength,
];

describe("RecordReader", () => {
  it("reads the same records whatever the pieces' sizes, and ends cleanly between records", () => {
    for (let step = 1; step <= stream.byteLength; step++) {
      expect(drain(stream, step), `pieces of ${step} bytes`).toEqual({ records: expected, unfinished: 0 });
    }
  });

  it("at an input cut anywhere, gives the complete records and counts the unfinished one's bytes", () => {
    for (let cut = 0; cut <= stream.byteLength; cut++) {
      const { records, unfinished } = drain(stream.subarray(0, cut), 5);
      const complete = ends.filter((end) => end <= cut);
      expect(records, `cut at ${cut}`).toEqual(expected.slice(0, complete.length));
      expect(unfinished, `cut at ${cut}`).toBe(cut - Math.max(0, ...complete));
    }
  });

  it("reads each frame into a buffer from allocate", () => {
    const given: Uint8Array[] = [];
    const { records } = drain(stream, 64, (byteLength) => {
      const buffer = new Uint8Array(byteLength);
      given.push(buffer);
      return buffer;
    });
    expect(records.flatMap((record) => (record.kind === "frame" ? [record.bytes] : []))).toEqual(given);
    expect(given.map((buffer) => buffer.byteLength)).toEqual([6, 18]); // not the start record's JSON
  });

  it("throws at a header that lost the framing, after the records before it", () => {
    const broken = Buffer.concat([frameRecordHeader(2, 1), first, Buffer.from("garbage!1234")]);
    const { records, thrown } = drainUntilThrown(broken, 7);
    expect(records).toEqual([expected[1]]);
    expect(thrown).toMatchObject({ code: "WRITE_FAILED" });
    expect((thrown as Error).message).toMatch(/record at byte 18: magic 0x6761/);
  });

  it("throws at a start record whose JSON is not options, naming its offset", () => {
    const json = Buffer.from(JSON.stringify({ ...options, fps: -1 }));
    const bad = Buffer.concat([
      closeRecord(),
      Buffer.from(`55520300${json.byteLength.toString(16).padStart(8, "0")}00000000`, "hex"),
      json,
    ]);
    const { records, thrown } = drainUntilThrown(bad, 100);
    expect(records).toEqual([{ kind: "close" }]);
    expect(thrown).toMatchObject({
      code: "WRITE_FAILED",
      message: "encoder input: start record at byte 12: encoder options: fps must be above 0",
    });
  });
});

describe("encoder options and events", () => {
  const options: EncoderOptions = {
    path: "/tmp/out.avi",
    fourcc: "DIVX",
    fps: 25,
    framesPerSegment: null,
    acknowledgeEvery: 8,
    slots: null,
  };

  it("options round-trip through JSON", () => {
    expect(parseEncoderOptions(JSON.stringify(options))).toEqual(options);
    expect(parseEncoderOptions(JSON.stringify({ ...options, framesPerSegment: 25 }))).toEqual({
      ...options,
      framesPerSegment: 25,
    });
    const slots = { count: 8, stride: 925696, offset: 2048 };
    expect(parseEncoderOptions(JSON.stringify({ ...options, slots }))).toEqual({ ...options, slots });
    // From a recorder before slots: every frame on stdin.
    expect(parseEncoderOptions(JSON.stringify({ ...options, slots: undefined }))).toEqual(options);
    // The frame memory, when the recorder lends it; none when absent or null.
    expect(parseEncoderOptions(JSON.stringify({ ...options, frames: slots }))).toEqual({ ...options, frames: slots });
    expect(parseEncoderOptions(JSON.stringify({ ...options, frames: null }))).toEqual(options);
  });

  it.each([
    ["no argument", undefined, /not JSON/],
    ["not JSON", "{", /not JSON/],
    ["null", "null", /not an object/],
    ["an empty path", JSON.stringify({ ...options, path: "" }), /path/],
    ["a 3-letter fourcc", JSON.stringify({ ...options, fourcc: "DIV" }), /fourcc/],
    ["fps 0", JSON.stringify({ ...options, fps: 0 }), /fps/],
    ["0 frames a segment", JSON.stringify({ ...options, framesPerSegment: 0 }), /framesPerSegment/],
    ["fractional frames a segment", JSON.stringify({ ...options, framesPerSegment: 2.5 }), /framesPerSegment/],
    ["no acknowledgeEvery", JSON.stringify({ ...options, acknowledgeEvery: undefined }), /acknowledgeEvery/],
    ["acknowledgeEvery 0", JSON.stringify({ ...options, acknowledgeEvery: 0 }), /acknowledgeEvery/],
    ["no slots", JSON.stringify({ ...options, slots: { count: 0, stride: 4096, offset: 0 } }), /slots must be/],
    ["257 slots", JSON.stringify({ ...options, slots: { count: 257, stride: 4096, offset: 0 } }), /slots must be/],
    ["a stride off a page", JSON.stringify({ ...options, slots: { count: 1, stride: 5000, offset: 0 } }), /slots/],
    [
      "a frame memory of 0 slots",
      JSON.stringify({ ...options, frames: { count: 0, stride: 4096, offset: 0 } }),
      /frames must be/,
    ],
    [
      "an offset past the stride",
      JSON.stringify({ ...options, slots: { count: 1, stride: 4096, offset: 4096 } }),
      /slots/,
    ],
  ])("options: refuses %s", (_name, text, message) => {
    expect(() => parseEncoderOptions(text)).toThrow(message);
  });

  it("probe options round-trip through JSON, and are checked like the start record's", () => {
    const probe = { path: "/tmp/.out.avi.probe-1.avi", fourcc: "DIVX", fps: 25 };
    expect(parseProbeOptions(JSON.stringify(probe))).toEqual(probe);
    expect(() => parseProbeOptions(JSON.stringify({ ...probe, fourcc: "DIV" }))).toThrow(/probe options: fourcc/);
    expect(() => parseProbeOptions("{")).toThrow(/probe options: not JSON/);
  });

  it.each([
    { event: "probed", error: null },
    { event: "probed", error: "cannot record DIVX to /tmp/out.avi: no encoder" },
    { event: "file", segment: null },
    { event: "file", segment: 3 },
    { event: "written", frames: 1, scaled: 0 },
    { event: "written", frames: 3, scaled: 3 },
    { event: "failed", code: null, message: "boom" },
    { event: "failed", code: "CODEC_UNAVAILABLE", message: "cannot open" },
    { event: "closed" },
  ])("event $event is accepted as it is", (event) => {
    expect(parseEncoderEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it.each([
    null,
    "closed",
    {},
    { event: "file" },
    { event: "file", path: "/tmp/out.avi" },
    { event: "file", segment: -1 },
    { event: "file", segment: "1" },
    { event: "written", scaled: false },
    { event: "written", frames: 0, scaled: 0 },
    { event: "written", frames: 2, scaled: 3 },
    { event: "written", frames: 1.5, scaled: 0 },
    { event: "probed" },
    { event: "probed", error: 1 },
    { event: "failed", code: "CLOSED", message: "x" },
    { event: "failed", code: null },
    { event: "other" },
  ])("event %j is refused", (value) => {
    expect(() => parseEncoderEvent(value)).toThrow(/not (an encoder event|an object)/);
  });
});

describe("encoder events", () => {
  it.each([
    ["written, 1 frame", { event: "written", frames: 1, scaled: 0 }, "554501000000000100000000"],
    ["written, 12 frames, 3 scaled", { event: "written", frames: 12, scaled: 3 }, "554501000000000c00000003"],
    [
      "written, the most frames",
      { event: "written", frames: 0xffffffff, scaled: 0xffffffff },
      "554501 00 ffffffff ffffffff",
    ],
    ["closed", { event: "closed" }, "554502000000001200000000" + Buffer.from('{"event":"closed"}').toString("hex")],
    [
      "file",
      { event: "file", segment: 3 },
      "554502000000001c00000000" + Buffer.from('{"event":"file","segment":3}').toString("hex"),
    ],
  ] as [string, EncoderEvent, string][])("%s: encodes to the bytes, which decode back", (_name, event, expected) => {
    const bytes = eventRecord(event);
    expect(hex(bytes)).toBe(expected.replaceAll(" ", ""));
    expect(readEvents(bytes, bytes.byteLength)).toEqual({ events: [event], unfinished: 0 });
    expect(eventRecord(readEvents(Buffer.from(hex(bytes), "hex"), 5).events[0]!)).toEqual(bytes);
  });

  it.each([
    ["no frames", { event: "written", frames: 0, scaled: 0 }],
    ["more scaled than frames", { event: "written", frames: 2, scaled: 3 }],
    ["a fraction", { event: "written", frames: 1.5, scaled: 0 }],
    ["too many frames", { event: "written", frames: 2 ** 32, scaled: 0 }],
    ["JSON too long", { event: "failed", code: null, message: "x".repeat(MAX_EVENT_JSON_BYTES) }],
  ] as [string, EncoderEvent][])("refuses to encode %s", (_name, event) => {
    expect(() => eventRecord(event)).toThrow(RangeError);
  });

  const events: EncoderEvent[] = [
    { event: "file", segment: null },
    { event: "written", frames: 10, scaled: 0 },
    { event: "written", frames: 2, scaled: 2 },
    { event: "failed", code: "CODEC_UNAVAILABLE", message: "cannot record DIVX to /x/y.avi: ünïcode" },
    { event: "probed", error: null },
    { event: "closed" },
  ];
  const records = events.map((event) => eventRecord(event));
  const stream = Buffer.concat(records);
  const ends = records.map((_, i) => records.slice(0, i + 1).reduce((sum, r) => sum + r.byteLength, 0));

  it("reads the same events whatever the pieces' sizes, and ends cleanly between them", () => {
    for (let step = 1; step <= stream.byteLength; step++)
      expect(readEvents(stream, step), `pieces of ${step} bytes`).toEqual({ events, unfinished: 0 });
  });

  it("at a cut anywhere, gives the complete events and counts the unfinished one's bytes", () => {
    for (let cut = 0; cut <= stream.byteLength; cut++) {
      const complete = ends.filter((end) => end <= cut);
      const got = readEvents(stream.subarray(0, cut), 7);
      expect(got.events, `cut at ${cut}`).toEqual(events.slice(0, complete.length));
      expect(got.unfinished, `cut at ${cut}`).toBe(cut - Math.max(0, ...complete));
    }
  });

  it.each([
    ["a bad magic", "554601000000000100000000", /event at byte 12: magic 0x5546/],
    ["a reserved byte set", "554501010000000100000000", /event at byte 12: reserved byte 1/],
    ["an unknown kind", "554509000000000100000000", /event at byte 12: unknown kind 9/],
    ["written of no frames", "554501000000000000000000", /event at byte 12: written 0 frames/],
    ["more scaled than written", "554501000000000200000003", /event at byte 12: written 2 frames, 3 scaled/],
    [
      "json too long",
      `55450200${(MAX_EVENT_JSON_BYTES + 1).toString(16).padStart(8, "0")}00000000`,
      /json event of 65537/,
    ],
    ["json not JSON", "554502000000000200000000" + Buffer.from("{x").toString("hex"), /json event at byte 12: .*JSON/],
    [
      "json not an event",
      "554502000000000d00000000" + Buffer.from('{"event":"x"}').toString("hex"),
      /json event at byte 12: not an encoder event/,
    ],
  ])("throws at %s, after the events before it, naming its offset", (_name, bad, message) => {
    const input = Buffer.concat([records[1]!, Buffer.from(bad, "hex")]);
    const reader = new EventReader();
    const got: EncoderEvent[] = [];
    let thrown: unknown;
    try {
      for (let at = 0; at < input.byteLength; at += 5) reader.push(input.subarray(at, at + 5), (e) => got.push(e));
    } catch (error) {
      thrown = error;
    }
    expect(got).toEqual([events[1]]);
    expect(thrown).toBeInstanceOf(VideoError);
    expect(thrown).toMatchObject({ code: "WRITE_FAILED" });
    expect((thrown as Error).message).toMatch(message);
  });
});

function readEvents(input: Uint8Array, step: number): { events: EncoderEvent[]; unfinished: number } {
  const reader = new EventReader();
  const events: EncoderEvent[] = [];
  for (let at = 0; at < input.byteLength; at += step) reader.push(input.subarray(at, at + step), (e) => events.push(e));
  return { events, unfinished: reader.unfinished };
}
