/**
 * Bad configuration and impossible requests, against the real programs: one
 * clear line on stderr naming the option, exit code 2, no stack trace.
 */
import { createSocket, type Socket } from "node:dgram";
import { networkInterfaces } from "node:os";
import { DEFAULT_MAX_DATAGRAM_BYTES, MAX_DATAGRAM_BYTES } from "@udpcam/protocol";
import { RECEIVER_MAIN, SENDER_MAIN, freePort, spawnChild, startSender, tempDir } from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { LOG_WARN, logLines, useCleanup } from "./harness.js";

const cleanup = useCleanup();

interface Row {
  readonly name: string;
  readonly app: "sender" | "receiver";
  /** PORT stands for a free port; BUSY for a port another socket holds; DIR for a temporary folder. */
  readonly args: readonly string[];
  readonly line: RegExp;
}

const rows: Row[] = [
  {
    name: "port in use",
    app: "receiver",
    args: ["--port", "BUSY", "--host", "127.0.0.1"],
    line: /^udpcam receiver: --port: \d+ is already in use on 127\.0\.0\.1 .*choose another with --port$/,
  },
  {
    name: "address not of this machine",
    app: "receiver",
    args: ["--port", "PORT", "--host", "192.0.2.254"],
    line: /^udpcam receiver: --host: 192\.0\.2\.254 is not an address of this machine/,
  },
  {
    name: "unwritable output",
    app: "receiver",
    args: ["--port", "PORT", "--output", "/proc/no-such-folder/out.avi"],
    line: /^udpcam receiver: --output: cannot record to \/proc\/no-such-folder\/out\.avi: folder .* does not exist or is not writable$/,
  },
  {
    name: "codec missing (unsupported fourcc)",
    app: "receiver",
    args: ["--port", "PORT", "--output", "DIR/out.avi", "--fourcc", "ZZZZ"],
    line: /^udpcam receiver: --(fourcc|output): fourcc 'ZZZZ' is not supported in \.avi files; use one of /,
  },
  {
    name: "key file missing",
    app: "receiver",
    args: ["--port", "PORT", "--key-file", "DIR/no-such-key"],
    line: /^udpcam receiver: --key-file: cannot read /,
  },
  { name: "key too short", app: "receiver", args: ["--port", "PORT", "--key", "short"], line: /--key/ },
  {
    name: "camera missing",
    app: "sender",
    args: ["--source", "0", "--port", "PORT"],
    line: /^udpcam sender: --source: no camera at index 0 .*use --source test/,
  },
  {
    name: "video file missing",
    app: "sender",
    args: ["--source", "DIR/no-such-clip.mp4", "--port", "PORT"],
    line: /^udpcam sender: --source: /,
  },
  {
    name: "datagram larger than UDP over IPv4 allows",
    app: "sender",
    args: ["--source", "test", "--port", "PORT", "--datagram-size", String(MAX_DATAGRAM_BYTES + 1)],
    line: new RegExp(
      `^udpcam sender: --datagram-size\\b.*"${MAX_DATAGRAM_BYTES + 1}", use auto or a whole number from 64 to ${MAX_DATAGRAM_BYTES}$`,
    ),
  },
  {
    name: "host that does not resolve",
    app: "sender",
    args: ["--source", "test", "--host", "no-such-host.invalid", "--port", "PORT"],
    line: /^udpcam sender: --host: cannot resolve "no-such-host\.invalid"/,
  },
  {
    name: "legacy with a key",
    app: "sender",
    args: ["--source", "test", "--protocol", "legacy", "--key", "a-long-enough-shared-key", "--port", "PORT"],
    line: /--key/,
  },
];

function holdPort(): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    socket.bind(0, "127.0.0.1", () => resolve(socket));
    cleanup.add(() => socket.close());
  });
}

describe("bad configuration and impossible requests", () => {
  it.each(rows)(
    "$app, $name: one clear line, exit 2, no stack",
    async ({ app, args, line }) => {
      const dir = tempDir();
      cleanup.add(dir.remove);
      const busy = await holdPort();
      const port = await freePort();
      const resolved = args.map((a) =>
        a === "PORT" ? String(port) : a === "BUSY" ? String(busy.address().port) : a.replace(/^DIR/, dir.path),
      );
      const main = app === "sender" ? SENDER_MAIN : RECEIVER_MAIN;
      const extra = app === "receiver" ? ["--display", "off"] : [];
      const child = spawnChild(process.execPath, [main, ...extra, ...resolved], { name: app, cwd: dir.path });
      cleanup.kill(child);
      expect(await child.exited).toBe(2);
      const lines = child
        .stderr()
        .split("\n")
        .filter((l) => l.trim() !== "");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(line);
      expect(child.stderr()).not.toMatch(/^\s+at /m);
    },
    30_000,
  );

  it(`--datagram-size ${MAX_DATAGRAM_BYTES} to an address that is not loopback: a warning naming the fix, and the stream still goes`, async () => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((a) => a !== undefined && a.family === "IPv4" && !a.internal)?.address;
    if (address === undefined) return; // no network interface but loopback: nothing to warn about
    const port = await freePort();
    const sender = startSender([
      "--source",
      "test",
      "--frames",
      "3",
      "--host",
      address,
      "--port",
      String(port),
      "--datagram-size",
      String(MAX_DATAGRAM_BYTES),
    ]);
    cleanup.kill(sender);
    expect(await sender.exited).toBe(0);
    // Nothing listens at that port: the sender also says so once (its own test is sender-refused.slow.test.ts).
    const warnings = logLines(sender.stderr()).filter(
      (l) => l.level >= LOG_WARN && !/^nothing is listening at /.test(l.msg),
    );
    expect(warnings.map((w) => w.msg)).toEqual([
      expect.stringMatching(
        new RegExp(
          `datagrams of ${MAX_DATAGRAM_BYTES} bytes are larger than one 1500-byte packet.*--datagram-size ${DEFAULT_MAX_DATAGRAM_BYTES}`,
        ),
      ),
    ]);
  }, 30_000);
});
