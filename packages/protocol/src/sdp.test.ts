import { describe, expect, it } from "vitest";
import { rtpJpegSdp } from "./sdp.js";

describe("rtpJpegSdp", () => {
  it("describes one RTP/JPEG stream as ffmpeg, GStreamer and VLC read it", () => {
    expect(rtpJpegSdp({ address: "127.0.0.1", port: 5004, fps: 25, sessionId: 1 }).split("\r\n")).toEqual([
      "v=0",
      "o=- 1 1 IN IP4 127.0.0.1",
      "s=udpcam",
      "c=IN IP4 127.0.0.1",
      "t=0 0",
      "m=video 5004 RTP/AVP 26",
      "a=rtpmap:26 JPEG/90000",
      "a=framerate:25",
      "a=recvonly",
      "",
    ]);
  });

  it("gives a multicast address its TTL, and IPv6 its family", () => {
    expect(rtpJpegSdp({ address: "239.1.2.3", port: 5004 })).toContain("c=IN IP4 239.1.2.3/16\r\n");
    expect(rtpJpegSdp({ address: "::1", port: 5004 })).toContain("c=IN IP6 ::1\r\n");
  });

  it("refuses what is not an address or a port", () => {
    expect(() => rtpJpegSdp({ address: "a b\r\n", port: 5004 })).toThrow(/address/);
    expect(() => rtpJpegSdp({ address: "127.0.0.1", port: 0 })).toThrow(/port/);
  });
});
