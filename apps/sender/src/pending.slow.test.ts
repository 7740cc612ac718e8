/**
 * A frame's payload is sent without a copy (header + a view of it), and the test pattern renders into two buffers in
 * turn: a buffer must not be written again while a send from it is still pending. On loopback every send completes
 * inside `sendmsg`; here the datagrams leave through a veth whose queue (a token bucket, 200 Mbit/s) is slower than
 * the sender, into a network namespace this test creates and removes, so the socket's send buffer fills and libuv
 * queues the sends: each frame's bytes must still arrive as they were when sent.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createLogger, StatusLine } from "@udpcam/appkit";
import { configTester } from "@udpcam/appkit/testing";
import { decodeDatagram, packetizeFrame } from "@udpcam/protocol";
import { renderPatternFrame } from "@udpcam/video";
import { afterAll, describe, expect, it } from "vitest";
import { startSender } from "./app.js";
import { parseSenderConfig } from "./config.js";

const { config } = configTester(parseSenderConfig, "/");
const FRAMES = 16;
const FPS = 100;
const PORT = 9600;
const tag = randomBytes(3).toString("hex");
const namespace = `udpcam-pending-${tag}`;
const link = `up${tag}`;
const subnet = `10.233.${randomBytes(1)[0]! & 0x7f}`;
const dir = mkdtempSync(join(tmpdir(), "udpcam-pending-"));

function must(command: string, args: readonly string[]): void {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 10_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")}: ${result.stderr}`);
}

/** A namespace at the far end of a veth whose near end queues at 200 Mbit/s; undefined when the system refuses. */
function makeSlowLink(): string | undefined {
  const made = spawnSync("ip", ["netns", "add", namespace], { encoding: "utf8" });
  if (made.status !== 0) return `ip netns add: ${made.stderr.trim() || "failed"} (needs root)`;
  must("ip", ["link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", namespace]);
  must("ip", ["addr", "add", `${subnet}.1/30`, "dev", link]);
  must("ip", ["link", "set", link, "up"]);
  must("ip", ["-n", namespace, "addr", "add", `${subnet}.2/30`, "dev", "eth0"]);
  must("ip", ["-n", namespace, "link", "set", "eth0", "up"]);
  // Room for more than the sender's 8 MiB send buffer: the socket fills before the queue drops anything.
  must("tc", ["qdisc", "add", "dev", link, "root", "tbf", "rate", "200mbit", "burst", "256kb", "limit", "32mb"]);
  return undefined;
}

const refused = makeSlowLink();
afterAll(() => {
  spawnSync("ip", ["netns", "delete", namespace]);
  rmSync(dir, { recursive: true, force: true });
});

/** Counts into a file (length-prefixed datagrams) in the namespace until 1.5 s of silence, then exits. */
const CAPTURE = `
import { createSocket } from "node:dgram";
import { writeFileSync } from "node:fs";
const parts = [];
const socket = createSocket("udp4");
const done = () => { writeFileSync(process.argv[2], Buffer.concat(parts)); process.exit(0); };
let idle = setTimeout(done, 10000);
socket.on("message", (bytes) => {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  parts.push(length, bytes);
  clearTimeout(idle);
  idle = setTimeout(done, 1500);
});
socket.bind(${PORT}, () => { socket.setRecvBufferSize(4 << 20); console.log("ready"); });
`;

describe("payload buffers and pending sends", () => {
  it.skipIf(refused !== undefined).each([
    { size: 65_507, how: "header + a view of the frame" },
    { size: 1472, how: "whole, in the encoder's reused buffer" },
  ])(
    "$size-byte datagrams ($how): a raw frame's bytes arrive as they were, while its sends wait behind a slow link",
    async ({ size }) => {
      const script = join(dir, "capture.mjs");
      const out = join(dir, `wire-${size}.bin`);
      writeFileSync(script, CAPTURE);
      const capture = spawn("ip", ["netns", "exec", namespace, process.execPath, script, out], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const exited = new Promise<void>((resolve) => capture.on("exit", () => resolve()));
      await new Promise<void>((resolve) => capture.stdout.once("data", () => resolve()));

      const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
      const summary: string[] = [];
      const app = await startSender(
        config([
          ...["--source", "test", "--codec", "raw", "--frames", String(FRAMES), "--fps", String(FPS)],
          ...["--host", `${subnet}.2`, "--port", String(PORT), "--datagram-size", String(size), "--fec", "0"],
        ]),
        {
          logger: createLogger({ name: "sender", level: "silent", format: "json", colors: false }),
          stdout: new Writable({
            write: (chunk: Buffer, _encoding, done) => {
              summary.push(chunk.toString());
              done();
            },
          }),
          status: new StatusLine(quiet),
        },
      );
      await app.done;
      await exited;

      // The link, not the schedule, set the pace: the sends waited (100 fps asked, ~25 MB/s let through).
      const fps = Number(/\(([\d.]+) fps\)/.exec(summary.join(""))?.[1]);
      expect(fps).toBeLessThan(FPS * 0.6);

      const wire = readFileSync(out);
      const frames = new Map<number, Buffer[]>();
      for (let at = 0; at < wire.length;) {
        const length = wire.readUInt32BE(at);
        const datagram = wire.subarray(at + 4, at + 4 + length);
        at += 4 + length;
        const n = decodeDatagram(datagram).frameNumber;
        frames.set(n, [...(frames.get(n) ?? []), datagram]);
      }
      expect([...frames.keys()].sort((a, b) => a - b)).toEqual([...Array(FRAMES).keys()]);
      for (const [n, datagrams] of frames) {
        const first = decodeDatagram(datagrams[0]!);
        const want = packetizeFrame(
          {
            streamId: first.streamId,
            frameNumber: n,
            codec: "raw-bgr24",
            width: 640,
            height: 480,
            fps: FPS,
            timestampMs: first.timestampMs,
            payload: renderPatternFrame(n, 640, 480).bytes,
          },
          { maxDatagramBytes: size, fecOverhead: 0 },
        );
        const sorted = [...datagrams].sort((a, b) => decodeDatagram(a).chunkIndex - decodeDatagram(b).chunkIndex);
        expect(sorted.length, `frame ${n}`).toBe(want.length);
        sorted.forEach((datagram, i) => {
          expect(Buffer.compare(datagram, want[i]!), `frame ${n} datagram ${i}`).toBe(0);
        });
      }
    },
  );
});
