import { configTester } from "@udpcam/appkit/testing";
import { describe, expect, it } from "vitest";
import { parseReceiverConfig } from "./config.js";

const cwd = "/home/user/videos";
const { parse, config } = configTester(parseReceiverConfig, cwd);

describe("receiver config", () => {
  it("defaults like the original server: port 9505, output.avi in the user's directory, DIVX for raw (fourcc auto)", () => {
    const c = config([]);
    expect(c).toMatchObject({
      port: 9505,
      protocol: "v1",
      legacyMode: "strict",
      output: `${cwd}/output.avi`,
      fourcc: "auto",
      display: "auto",
      streams: "first",
    });
  });

  it.each([
    {
      name: "flag beats env and file",
      argv: ["--port", "1", "--config", "c.json"],
      env: { RECEIVER_PORT: "2" },
      file: '{"port": 3}',
      port: 1,
    },
    { name: "env beats file", argv: ["--config", "c.json"], env: { RECEIVER_PORT: "2" }, file: '{"port": 3}', port: 2 },
    { name: "file beats default", argv: ["--config", "c.json"], env: {}, file: '{"port": 3}', port: 3 },
  ])("precedence: $name", ({ argv, env, file, port }) => {
    expect(config(argv, env, { "c.json": file }).port).toBe(port);
  });

  it("stream caps: 8 at once and half of it per source by default; a per-source cap above the total is refused", () => {
    expect(config([])).toMatchObject({ maxStreams: 8, maxStreamsPerSource: 4 });
    expect(config(["--max-streams", "1"])).toMatchObject({ maxStreams: 1, maxStreamsPerSource: 1 });
    expect(config(["--max-streams", "16", "--max-streams-per-source", "8"]).maxStreamsPerSource).toBe(8);
    expect(parse(["--max-streams-per-source", "9"])).toEqual({
      kind: "errors",
      errors: ["--max-streams-per-source: 9 is more than --max-streams 8; lower it, or raise --max-streams"],
    });
  });

  it("--receive-buffer: unset by default (the receiver asks for 8 MiB), bytes from 64 KiB to 1 GiB; anything else is refused naming the range", () => {
    expect(config([]).receiveBuffer).toBeUndefined();
    expect(config(["--receive-buffer", "1048576"]).receiveBuffer).toBe(1048576);
    expect(config([], { RECEIVER_RECEIVE_BUFFER: "2097152" }).receiveBuffer).toBe(2097152);
    for (const bad of ["1000", "8M", String(2 ** 31)])
      expect(parse(["--receive-buffer", bad])).toMatchObject({
        kind: "errors",
        errors: [expect.stringMatching(/^--receive-buffer: /)],
      });
  });

  it("--max-clock-skew: 5 s by default, seconds or off", () => {
    expect(config([]).maxClockSkew).toBe(5);
    expect(config(["--max-clock-skew", "0.5"]).maxClockSkew).toBe(0.5);
    expect(config(["--max-clock-skew", "off"]).maxClockSkew).toBeUndefined();
    expect(parse(["--max-clock-skew", "soon"])).toMatchObject({
      kind: "errors",
      errors: [expect.stringMatching(/^--max-clock-skew: got "soon"/)],
    });
  });

  it("--socket-reader: auto by default (the native reader where it runs), or dgram; anything else is refused", () => {
    expect(config([]).socketReader).toBe("auto");
    expect(config(["--socket-reader", "dgram"]).socketReader).toBe("dgram");
    expect(parse(["--socket-reader", "native"])).toEqual({
      kind: "errors",
      errors: ['--socket-reader: got "native", use one of: auto, dgram'],
    });
  });

  it("resolves relative paths against the user's directory and keeps absolute ones", () => {
    expect(config(["--output", "rec/a.avi", "--stats", "/tmp/s.json"])).toMatchObject({
      output: `${cwd}/rec/a.avi`,
      stats: "/tmp/s.json",
    });
    expect(config(["--output", "none"]).output).toBeUndefined();
  });

  it("reads the key from a file relative to the user's directory, and remembers the file for SIGHUP", () => {
    expect(config(["--key-file", "k.txt"], {}, { [`${cwd}/k.txt`]: "0123456789abcdef0123\n" }).key).toEqual({
      kind: "key",
      secret: "0123456789abcdef0123",
      file: `${cwd}/k.txt`,
    });
  });

  it("a passphrase from the flag, the environment or a file; encryption on by default, a 300 s grace", () => {
    expect(config(["--passphrase", "ten chars!"])).toMatchObject({
      key: { kind: "passphrase", secret: "ten chars!", file: undefined },
      encrypt: "on",
      keyGrace: 300,
    });
    expect(config([], { RECEIVER_PASSPHRASE: "from the environment" }).key).toMatchObject({ kind: "passphrase" });
    expect(
      config(["--passphrase-file", "p.txt", "--encrypt", "off"], {}, { [`${cwd}/p.txt`]: "a passphrase\n" }),
    ).toMatchObject({ key: { kind: "passphrase", secret: "a passphrase", file: `${cwd}/p.txt` }, encrypt: "off" });
  });

  it.each([
    {
      argv: ["--passphrase", "too short"],
      error: /^--passphrase: invalid value \(not shown\), use a passphrase of at least 10 characters$/,
    },
    { argv: ["--passphrase-file", "p.txt"], error: /^--passphrase-file: the passphrase in p.txt is shorter than 10/ },
    { argv: ["--key-file", "missing.txt"], error: /^--key-file: cannot read missing.txt/ },
    { argv: ["--key", "0123456789abcdef", "--passphrase", "a passphrase"], error: /^--passphrase: give a key/ },
    { argv: ["--passphrase", "a passphrase", "--protocol", "rtp"], error: /^--passphrase: the RTP\/JPEG protocol/ },
  ])("refuses $argv in one line", ({ argv, error }) => {
    const result = parse(argv, {}, { [`${cwd}/p.txt`]: "short\n" });
    expect(result.kind).toBe("errors");
    const errors = result.kind === "errors" ? result.errors : [];
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(error);
  });

  it("takes DISPLAY and XAUTHORITY for the window", () => {
    expect(config([], { DISPLAY: ":1", XAUTHORITY: "/x" }).x11).toEqual({ display: ":1", xauthority: "/x" });
  });

  it.each([
    { argv: ["--port", "99999"], error: '--port: got "99999", use a whole number from 1 to 65535' },
    { argv: ["--protocol", "srt"], error: '--protocol: got "srt", use one of: v1, legacy, rtp' },
    { argv: ["--display", "maybe"], error: '--display: got "maybe", use one of: auto, on, off' },
    {
      argv: ["--fourcc", "DIVXX"],
      error: '--fourcc: got "DIVXX", use auto, or four characters like DIVX, MJPG or XVID',
    },
    { argv: ["--idle-exit=-1"], error: '--idle-exit: got "-1", use a number from 0.1 to 86400' },
    {
      argv: ["--idle-exit", "-1"],
      error: '--idle-exit: a value that starts with "-" must be joined with "=", like --idle-exit=-1; see --help',
    },
    { argv: ["--frames", "0"], error: '--frames: got "0", use a whole number from 1 to 9007199254740991' },
    {
      argv: ["--key", "short"],
      error: "--key: invalid value (not shown), use a shared secret of at least 16 characters",
    },
    {
      argv: ["--key-file", "missing.txt"],
      error: "--key-file: cannot read missing.txt (ENOENT: no such file, open '/home/user/videos/missing.txt')",
    },
    {
      argv: ["--protocol", "legacy", "--key", "0123456789abcdef"],
      error: "--key: the legacy protocol has no room for an authentication tag, use --protocol v1 or drop the key",
    },
  ])("rejects $argv with one line naming the option", ({ argv, error }) => {
    expect(parse(argv)).toEqual({ kind: "errors", errors: [error] });
  });

  it("names the environment variable of a bad value", () => {
    expect(parse([], { RECEIVER_LEGACY_MODE: "loose" })).toEqual({
      kind: "errors",
      errors: ['--legacy-mode (from RECEIVER_LEGACY_MODE): got "loose", use one of: strict, seed'],
    });
  });

  it("answers --help with every option, its variable and default", () => {
    const result = parse(["--", "--help"]);
    expect(result.kind).toBe("help");
    const text = result.kind === "help" ? result.text : "";
    for (const flag of [
      "--host",
      "--port",
      "--protocol",
      "--output",
      "--fourcc",
      "--display",
      "--frames",
      "--idle-exit",
      "--stats",
      "--key",
    ]) {
      expect(text).toContain(flag);
    }
    expect(text).toContain("RECEIVER_PORT; default 9505");
    expect(text).toContain('default "output.avi"');
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
