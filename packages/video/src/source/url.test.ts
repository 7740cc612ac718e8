import { describe, expect, it } from "vitest";
import { isNetworkUrl, redactUrl } from "./url.js";

describe("network source URLs", () => {
  it.each([
    ["rtsp://127.0.0.1:8554/cam", true],
    ["RTSP://cam.local/stream", true],
    ["http://192.0.2.5/video.mjpg", true],
    ["https://cam.example/mjpeg", true],
    ["rtsps://cam/stream", true],
    ["file:///tmp/a.avi", false],
    ["/tmp/http://x.avi", false],
    ["0", false],
    ["test", false],
  ])("%s is a network camera: %s", (text, expected) => {
    expect(isNetworkUrl(text)).toBe(expected);
  });

  it.each([
    ["rtsp://admin:s3cret@192.0.2.5:554/live", "rtsp://***@192.0.2.5:554/live"],
    ["http://user@cam.local/video", "http://***@cam.local/video"],
    ["http://cam.local/video?x=1", "http://cam.local/video?x=1"],
    ["rtsp://a:b@[bad/x", "rtsp://***@[bad/x"],
  ])("redacts %s -> %s", (text, expected) => {
    expect(redactUrl(text)).toBe(expected);
    expect(redactUrl(text)).not.toMatch(/s3cret|admin|user@|a:b/);
  });
});
