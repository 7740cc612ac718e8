// The built CLI (dist/cli.js) as a child process; `turbo run test` builds it first.
import { type ChildProcess, spawn } from "node:child_process";
import { type Socket, createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LEGACY_DATAGRAM_BYTES } from "@udpcam/protocol";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { NetsimStats } from "./netsim.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const sockets: Socket[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (pnpm --filter @udpcam/netsim build)`);
});

interface Run {
  readonly child: ChildProcess;
  /** The port netsim listens on, read from its first line on stderr. */
  readonly port: Promise<number>;
  readonly exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

const netsim = (args: string[]): Run => {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const port = new Promise<number>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on [^\s]+:(\d+),/.exec(stderr);
      if (match) resolve(Number(match[1]));
    });
    child.on("exit", () => reject(new Error(`netsim exited before listening: ${stderr}`)));
  });
  port.catch(() => undefined);
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("exit", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, port, exited };
};

const openSocket = async (): Promise<Socket> => {
  const socket = createSocket({ type: "udp4", recvBufferSize: 8 << 20 });
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return socket;
};

describe("netsim CLI", () => {
  it("forwards for --duration, then prints the stats JSON and writes --stats", async () => {
    const rx = await openSocket();
    const received: Buffer[] = [];
    rx.on("message", (bytes) => received.push(bytes));
    const dir = await mkdtemp(join(tmpdir(), "netsim-"));
    try {
      const statsFile = join(dir, "stats.json");
      const run = netsim([
        "--",
        "--listen",
        "127.0.0.1:0",
        "--target",
        `127.0.0.1:${rx.address().port}`,
        "--loss",
        "0.002",
        "--seed",
        "42",
        "--duration",
        "1.5",
        "--stats",
        statsFile,
      ]);
      const port = await run.port;
      const tx = await openSocket();
      // 300 legacy datagrams of 46,081 bytes: 32 fragments each, about 6 % lost.
      for (let id = 0; id < 300; id++) {
        const frame = Buffer.alloc(LEGACY_DATAGRAM_BYTES, id & 0xff);
        frame.writeUInt32BE(id, 0);
        tx.send(frame, port, "127.0.0.1");
        if (id % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const { code, stdout, stderr } = await run.exited;
      expect(code, stderr).toBe(0);
      const lines = stdout.trim().split("\n");
      expect(lines).toHaveLength(1);
      const stats = JSON.parse(lines[0]!) as NetsimStats;
      expect(stats).toMatchObject({
        seed: 42,
        datagramsIn: 300,
        bytesIn: 300 * LEGACY_DATAGRAM_BYTES,
        fragmentsIn: 300 * 32,
        pending: 0,
        sendErrors: 0,
      });
      expect(stats.dropped).toBeGreaterThan(3);
      expect(stats.dropped).toBeLessThan(45);
      expect(stats.datagramsOut).toBe(300 - stats.dropped);
      expect(stats.elapsedMs).toBeGreaterThanOrEqual(1400);
      expect(received).toHaveLength(stats.datagramsOut);
      const ids = received.map((bytes) => bytes.readUInt32BE(0));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(JSON.parse(await readFile(statsFile, "utf8"))).toEqual(stats);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("stops on SIGTERM and prints the stats", async () => {
    const run = netsim(["--listen", "127.0.0.1:0", "--target", "127.0.0.1:9", "--seed", "3"]);
    await run.port;
    run.child.kill("SIGTERM");
    const { code, stdout } = await run.exited;
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ seed: 3, datagramsIn: 0, datagramsOut: 0 });
  });

  it("stops by itself after --idle-exit with no traffic", async () => {
    const run = netsim(["--listen", "127.0.0.1:0", "--target", "127.0.0.1:9", "--idle-exit", "0.3"]);
    await run.port;
    const { code, stdout } = await run.exited;
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ datagramsIn: 0 });
  });

  it("exits 2 with one line for a bad flag", async () => {
    const { code, stdout, stderr } = await netsim(["--target", "127.0.0.1:9505", "--loss", "abc"]).exited;
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe('netsim: --loss: got "abc", use a number from 0 to 1\n');
  });

  it("exits 2 with one line when the listen port is taken", async () => {
    const taken = await openSocket();
    const { code, stderr } = await netsim(["--listen", `127.0.0.1:${taken.address().port}`, "--target", "127.0.0.1:9"])
      .exited;
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("EADDRINUSE");
  });

  it("prints the help with exit 0", async () => {
    const { code, stdout } = await netsim(["--help"]).exited;
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: netsim");
  });
});
