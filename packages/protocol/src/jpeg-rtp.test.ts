import { describe, expect, it } from "vitest";
import { jfifHeader } from "./jfif.js";
import { parseRtpJpegSource } from "./jpeg-parse.js";
import { scaledQuantTables, STANDARD_HUFFMAN_TABLES } from "./jpeg-tables.js";
import {
  JPEG_FFMPEG_422,
  JPEG_OPTIMISED,
  JPEG_PROGRESSIVE,
  JPEG_RESTARTS,
  JPEG_YUV420,
  JPEG_YUV422,
  JPEG_YUV444,
} from "./testing/jpeg-fixtures.js";
import { hex } from "./testing/random.js";

/** The bytes of every segment with this marker (after the length). */
function segments(jpeg: Uint8Array, marker: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 2; at + 4 <= jpeg.length && jpeg[at + 1] !== 0xda;) {
    const length = (jpeg[at + 2]! << 8) | jpeg[at + 3]!;
    if (jpeg[at + 1] === marker) out.push(jpeg.subarray(at + 4, at + 2 + length));
    at += 2 + length;
  }
  return out;
}

describe("the standard tables", () => {
  it("are the Huffman tables libjpeg (OpenCV) writes", () => {
    const written = segments(JPEG_YUV420, 0xc4).map(hex).sort();
    const ours = STANDARD_HUFFMAN_TABLES.map((t) =>
      hex(Uint8Array.from([(t.tableClass << 4) | t.id, ...t.counts, ...t.symbols])),
    ).sort();
    expect(ours).toEqual(written);
  });

  it("scaled by Q are libjpeg's quality tables (zig-zag order)", () => {
    const [luma, chroma] = segments(JPEG_YUV420, 0xdb);
    const q80 = scaledQuantTables(80);
    expect(hex(q80.subarray(0, 64))).toBe(hex(luma!.subarray(1)));
    expect(hex(q80.subarray(64))).toBe(hex(chroma!.subarray(1)));
    expect(scaledQuantTables(1)[0]).toBe(255);
    expect(() => scaledQuantTables(100)).toThrow(RangeError);
  });
});

describe("parseRtpJpegSource", () => {
  it("reads OpenCV's 4:2:0 JPEG as type 1, with its tables and its scan", () => {
    const s = parseRtpJpegSource(JPEG_YUV420);
    expect([s.type, s.width, s.height, s.restartInterval]).toEqual([1, 16, 16, 0]);
    expect(hex(s.tables)).toBe(hex(scaledQuantTables(80)));
    expect(s.scan.length).toBeGreaterThan(10);
    // The scan is what follows the SOS header, up to (not including) EOI.
    expect(hex(JPEG_YUV420.subarray(JPEG_YUV420.length - 2 - s.scan.length))).toBe(hex(s.scan) + "ffd9");
  });

  it("reads libjpeg's 4:2:2 JPEG (Y 2x1) as type 0", () => {
    const s = parseRtpJpegSource(JPEG_YUV422);
    expect([s.type, s.width, s.height]).toEqual([0, 16, 16]);
  });

  it("reads restart markers as type 65 with the interval", () => {
    const s = parseRtpJpegSource(JPEG_RESTARTS);
    expect([s.type, s.restartInterval]).toEqual([65, 1]);
  });

  const sized = (width: number, height: number): Uint8Array => {
    const copy = JPEG_YUV420.slice();
    const sof = copy.findIndex((b, i) => b === 0xff && copy[i + 1] === 0xc0);
    copy.set([height >> 8, height & 255, width >> 8, width & 255], sof + 5);
    return copy;
  };

  it.each([
    ["progressive", JPEG_PROGRESSIVE, /progressive JPEG; RFC 2435 carries baseline \(SOF0\) only/],
    ["ffmpeg's 4:2:2 (Y 2x2, Cb and Cr 1x2)", JPEG_FFMPEG_422, /sampling 2x2,1x2,1x2/],
    ["4:4:4", JPEG_YUV444, /sampling [0-9x,]+; RTP\/JPEG carries 4:2:2 .* and 4:2:0/],
    ["optimised Huffman tables", JPEG_OPTIMISED, /Huffman tables other than the standard ones/],
    ["a width not a multiple of 8", sized(642, 480), /width 642; RTP\/JPEG carries sides from 8 to 2040 in steps of 8/],
    ["a side over 2040", sized(2048, 1080), /width 2048/],
    ["not a JPEG", Uint8Array.of(1, 2, 3, 4, 5), /not a JPEG file/],
    ["a JPEG cut before its scan", JPEG_YUV420.subarray(0, 300), /before its scan|runs past the end/],
  ])("refuses %s with one line naming the limit", (_, jpeg, message) => {
    expect(() => parseRtpJpegSource(jpeg)).toThrow(message);
  });

  it("takes a JPEG with no DHT (Motion-JPEG's way of saying: the standard tables)", () => {
    const dht = segments(JPEG_YUV420, 0xc4).reduce((sum, table) => sum + table.length + 4, 0);
    const start = JPEG_YUV420.findIndex((b, i) => b === 0xff && JPEG_YUV420[i + 1] === 0xc4);
    const without = new Uint8Array([...JPEG_YUV420.subarray(0, start), ...JPEG_YUV420.subarray(start + dht)]);
    expect(hex(parseRtpJpegSource(without).scan)).toBe(hex(parseRtpJpegSource(JPEG_YUV420).scan));
  });

  it("accepts 1280x720 and 1920x1080 (720 / 8 = 90, 1080 / 8 = 135)", () => {
    expect(parseRtpJpegSource(sized(1280, 720)).height).toBe(720);
    expect(parseRtpJpegSource(sized(1920, 1080)).height).toBe(1080);
  });
});

describe("jfifHeader", () => {
  it("rebuilds the headers of OpenCV's JPEG that matter: the same tables, frame and scan headers", () => {
    const s = parseRtpJpegSource(JPEG_YUV420);
    const rebuilt = new Uint8Array([
      ...jfifHeader({ type: 1, width: 16, height: 16, tables: s.tables, precision: 0, restartInterval: 0 }),
      ...s.scan,
      0xff,
      0xd9,
    ]);
    const again = parseRtpJpegSource(rebuilt);
    expect([again.type, again.width, again.height]).toEqual([1, 16, 16]);
    expect(hex(again.tables)).toBe(hex(s.tables));
    expect(hex(again.scan)).toBe(hex(s.scan));
    expect(hex(segments(rebuilt, 0xc0)[0]!)).toBe(hex(segments(JPEG_YUV420, 0xc0)[0]!));
  });
});
