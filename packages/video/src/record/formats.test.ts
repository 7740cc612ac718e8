import { describe, expect, it } from "vitest";
import { chooseFourcc, recordingStoresJpeg } from "./formats.js";

describe("chooseFourcc", () => {
  it.each([
    ["out.avi", "jpeg", "MJPG"],
    ["out.avi", "raw-bgr24", "DIVX"],
    ["out.AVI", "jpeg", "MJPG"],
    ["out.mkv", "jpeg", "MJPG"],
    ["out.mkv", "raw-bgr24", "DIVX"],
    ["out.mov", "jpeg", "DIVX"],
    ["out.mp4", "jpeg", "mp4v"],
    ["out.mp4", "raw-bgr24", "mp4v"],
  ] as const)("auto into %s for a %s stream is %s", (path, codec, fourcc) => {
    expect(chooseFourcc(path, "auto", codec)).toBe(fourcc);
  });

  it("keeps a fourcc the user named", () => {
    expect(chooseFourcc("out.avi", "XVID", "jpeg")).toBe("XVID");
    expect(chooseFourcc("out.avi", "MJPG", "raw-bgr24")).toBe("MJPG");
  });

  it("makes a JPEG stream into .avi a pass-through recording", () => {
    expect(recordingStoresJpeg({ path: "out.avi", fourcc: chooseFourcc("out.avi", "auto", "jpeg") })).toBe(true);
    expect(recordingStoresJpeg({ path: "out.mkv", fourcc: chooseFourcc("out.mkv", "auto", "jpeg") })).toBe(false);
  });
});
