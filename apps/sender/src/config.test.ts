import { configTester } from "@udpcam/appkit/testing";
import { describe, expect, it } from "vitest";
import { parseSenderConfig } from "./config.js";

const cwd = "/home/user/videos";
const { parse, config } = configTester(parseSenderConfig, cwd);

describe("sender config", () => {
  it("defaults like the original client: camera 0 to 127.0.0.1:9505, raw frames", () => {
    expect(config([])).toMatchObject({
      source: { kind: "camera", index: 0 },
      host: "127.0.0.1",
      port: 9505,
      protocol: "v1",
      codec: "raw",
      datagramSize: "auto",
      fec: "auto",
    });
  });

  it.each([
    { source: "test", expected: { kind: "test" } },
    { source: "2", expected: { kind: "camera", index: 2 } },
    { source: "clips/a.mp4", expected: { kind: "file", path: `${cwd}/clips/a.mp4` } },
    { source: "/data/b.avi", expected: { kind: "file", path: "/data/b.avi" } },
  ])("--source $source", ({ source, expected }) => {
    expect(config(["--source", source]).source).toEqual(expected);
  });

  it.each([
    { name: "flag beats env", argv: ["--fps", "10"], env: { SENDER_FPS: "20" }, fps: 10 },
    { name: "env beats file", argv: ["--config", "c.json"], env: { SENDER_FPS: "20" }, fps: 20 },
    { name: "file beats default", argv: ["--config", "c.json"], env: {}, fps: 30 },
  ])("precedence: $name", ({ argv, env, fps }) => {
    expect(config(argv, env, { "c.json": '{"fps": 30}' }).fps).toBe(fps);
  });

  it.each([
    {
      argv: ["--datagram-size", "70000"],
      error: '--datagram-size: got "70000", use auto or a whole number from 64 to 65507',
    },
    { argv: ["--codec", "h264"], error: '--codec: got "h264", use one of: raw, jpeg' },
    { argv: ["--quality", "0"], error: '--quality: got "0", use a whole number from 1 to 100' },
    { argv: ["--fec", "2"], error: '--fec: got "2", use auto or a number from 0 to 1' },
    { argv: ["--width", "320"], error: "--height: give --width and --height together" },
    {
      argv: ["--protocol", "legacy", "--codec", "jpeg"],
      error: "--codec: the legacy protocol carries raw 640x480 frames only, use --codec raw or --protocol v1",
    },
    {
      argv: ["--source", ""],
      error: '--source: got "", use a camera index like 0, a video file path, rtsp://... or http(s)://..., or test',
    },
  ])("rejects $argv with one line naming the option", ({ argv, error }) => {
    expect(parse(argv)).toEqual({ kind: "errors", errors: [error] });
  });

  it("reports every problem at once", () => {
    const result = parse(["--port", "x", "--codec", "y"]);
    expect(result.kind === "errors" && result.errors).toHaveLength(2);
  });

  it("--nack: off by default, on or off; v1 only", () => {
    expect(config([]).nack).toBe("off");
    expect(config(["--nack", "on"]).nack).toBe("on");
    expect(parse(["--nack", "on", "--protocol", "rtp"])).toEqual({
      kind: "errors",
      errors: ["--nack: retransmission on request is part of --protocol v1, drop --nack or use --protocol v1"],
    });
    expect(parse(["--nack", "yes"]).kind).toBe("errors");
  });
});
