import { describe, expect, it } from "vitest";
import { fourccText, needsMjpeg } from "./camera.js";

describe("camera formats", () => {
  it.each([
    [{}, false],
    [{ width: 640, height: 480, fps: 30 }, false],
    [{ width: 640, height: 480, fps: 60 }, true],
    [{ width: 1280, height: 720 }, true],
    [{ width: 1280, height: 720, fps: 10 }, false],
    [{ width: 1920, height: 1080, fps: 30 }, true],
  ])("%j needs MJPG: %s", (options, expected) => {
    expect(needsMjpeg(options)).toBe(expected);
  });

  it("names the format the camera reports, or nothing", () => {
    expect(fourccText(0x47504a4d)).toBe("MJPG");
    expect(fourccText(0x56595559)).toBe("YUYV");
    expect(fourccText(0)).toBeUndefined();
    expect(fourccText(-1)).toBeUndefined();
    expect(fourccText(0x01020304)).toBeUndefined();
  });
});
