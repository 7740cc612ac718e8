import { describe, expect, it } from "vitest";
import { rolloverPath, segmentPath, streamRecordingPath } from "./file-names.js";
import { framesPerSegment, segmentFile } from "./segments.js";

describe("file names", () => {
  it("rolloverPath keeps the given name for the first file, then numbers from -001", () => {
    expect([0, 1, 2, 999, 1000].map((i) => rolloverPath("/rec/out.avi", i))).toEqual([
      "/rec/out.avi",
      "/rec/out-001.avi",
      "/rec/out-002.avi",
      "/rec/out-999.avi",
      "/rec/out-1000.avi",
    ]);
    expect(rolloverPath("/rec/a.b.AVI", 3)).toBe("/rec/a.b-003.AVI");
  });

  it("segmentPath numbers every file from -000", () => {
    expect([0, 1, 1000].map((i) => segmentPath("/rec/out.mkv", i))).toEqual([
      "/rec/out-000.mkv",
      "/rec/out-001.mkv",
      "/rec/out-1000.mkv",
    ]);
  });

  it("streamRecordingPath adds the stream id as 8 hex digits, and composes with segments", () => {
    expect(streamRecordingPath("/rec/out.avi", 0xabcd)).toBe("/rec/out-0000abcd.avi");
    expect(streamRecordingPath("out.avi", 0xffffffff)).toBe("out-ffffffff.avi");
    expect(streamRecordingPath("rec.v1/out", 1)).toBe("rec.v1/out-00000001");
    expect(segmentPath(streamRecordingPath("out.avi", 0x12), 2)).toBe("out-00000012-002.avi");
    expect(streamRecordingPath("out.avi", 0x12, 1)).toBe("out-00000012-r1.avi");
    expect(segmentPath(streamRecordingPath("out.avi", 0x12, 2), 0)).toBe("out-00000012-r2-000.avi");
  });
});

describe("segments", () => {
  it("framesPerSegment: round(seconds * fps), at least 1; 0 or undefined is one file", () => {
    expect(framesPerSegment(undefined, 25)).toBeNull();
    expect(framesPerSegment(0, 25)).toBeNull();
    expect(framesPerSegment(2, 25)).toBe(50);
    expect(framesPerSegment(1, 29.97)).toBe(30);
    expect(framesPerSegment(0.001, 25)).toBe(1);
  });

  it.each([-1, Number.NaN, Infinity])("framesPerSegment refuses segmentSeconds %s", (seconds) => {
    expect(() => framesPerSegment(seconds, 25)).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }) as Error);
  });

  it("segmentFile: frame i of a recording goes into segment floor(i / perSegment)", () => {
    expect([0, 2, 3, 7].map((i) => segmentFile("out.avi", 3, i))).toEqual([
      { segment: 0, path: "out-000.avi" },
      { segment: 0, path: "out-000.avi" },
      { segment: 1, path: "out-001.avi" },
      { segment: 2, path: "out-002.avi" },
    ]);
    expect(segmentFile("out.avi", null, 1234)).toEqual({ segment: null, path: "out.avi" });
  });
});
