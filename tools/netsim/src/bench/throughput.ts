// Forwarding throughput of the netsim CLI with no impairment: a sender (worker thread)
// sends path-sized (1,472-byte) datagrams as fast as it can through a netsim child process to
// a receiver in this thread. Prints one JSON line.
// Usage: node dist/bench/throughput.js [--count N] [--rate PER_S] [--netsim "FLAGS"] (--help lists them)
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { integer, loadConfig, renderHelp, text, type OptionTable } from "@udpcam/appkit";
import { DEFAULT_MAX_DATAGRAM_BYTES } from "@udpcam/protocol";

interface SenderJob {
  readonly port: number;
  readonly count: number;
  /** Datagrams per second to aim at; 0 = as fast as the sender can. */
  readonly rate: number;
}

const DATAGRAM_BYTES = DEFAULT_MAX_DATAGRAM_BYTES;

const OPTIONS = {
  count: { schema: integer(1, 1e9), default: 1_000_000, value: "N", help: "datagrams to send" },
  rate: {
    schema: integer(0, 1e9),
    default: 100_000,
    value: "PER_S",
    help: "datagrams a second to aim at; 0 = flat out",
  },
  netsim: {
    schema: text({ allowEmpty: true }),
    default: "",
    value: '"FLAGS"',
    help: 'more flags for netsim, e.g. "--loss 0.01"',
  },
} satisfies OptionTable;
const BUFFER_BYTES = 8 * 1024 * 1024;

async function sender(job: SenderJob): Promise<number> {
  const socket = createSocket({ type: "udp4", sendBufferSize: BUFFER_BYTES });
  await new Promise<void>((resolve) => socket.connect(job.port, "127.0.0.1", resolve));
  const payload = Buffer.alloc(DATAGRAM_BYTES, 0x5a);
  const startedMs = performance.now();
  for (let sent = 0; sent < job.count;) {
    const due =
      job.rate > 0 ? Math.min(job.count, Math.ceil(((performance.now() - startedMs) / 1000) * job.rate)) : sent + 64;
    for (; sent < due && sent < job.count; sent++) socket.send(payload);
    // Paced in bursts about a millisecond apart: a busy loop here would take the CPU netsim is measured on.
    await new Promise((resolve) => (job.rate > 0 ? setTimeout(resolve, 1) : setImmediate(resolve)));
  }
  const elapsedMs = performance.now() - startedMs;
  socket.close();
  return elapsedMs;
}

/** The options, or the exit code after --help (0) or a bad flag (2, one line each). */
function readOptions(): { count: number; rate: number; extra: string[] } | number {
  const result = loadConfig(OPTIONS, "NETSIM_BENCH", {
    argv: process.argv.slice(2),
    env: process.env,
    readFile: (path) => readFileSync(path, "utf8"),
  });
  if (result.kind === "help") {
    process.stdout.write(
      renderHelp(OPTIONS, {
        usage: "node dist/bench/throughput.js [options]",
        summary: "Forwarding throughput of the netsim CLI.",
        envPrefix: "NETSIM_BENCH",
      }),
    );
    return 0;
  }
  if (result.kind === "errors") {
    for (const error of result.errors) process.stderr.write(`netsim bench: ${error}\n`);
    return 2;
  }
  const { count, rate, netsim } = result.config;
  return { count, rate, extra: netsim.split(/\s+/).filter((flag) => flag !== "") };
}

async function main(): Promise<void> {
  const options = readOptions();
  if (typeof options === "number") {
    process.exitCode = options;
    return;
  }
  const { count, rate, extra } = options;
  const receiver = createSocket({ type: "udp4", recvBufferSize: BUFFER_BYTES });
  await new Promise<void>((resolve) => receiver.bind(0, "127.0.0.1", resolve));
  let received = 0;
  let firstMs = 0;
  let lastMs = 0;
  receiver.on("message", () => {
    if (received++ === 0) firstMs = performance.now();
    lastMs = performance.now();
  });

  const cli = fileURLToPath(new URL("../cli.js", import.meta.url));
  const child = spawn(
    process.execPath,
    [cli, "--listen", "127.0.0.1:0", "--target", `127.0.0.1:${receiver.address().port}`, "--idle-exit", "1", ...extra],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on [^\s]+:(\d+),/.exec(stderr);
      if (match) resolve(Number(match[1]));
    });
    child.on("exit", () => reject(new Error(`netsim exited: ${stderr}`)));
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));

  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { port, count, rate } satisfies SenderJob });
  const sendMs = await new Promise<number>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  await exited;
  receiver.close();
  const stats = JSON.parse(stdout) as { datagramsIn: number; datagramsOut: number; sendErrors: number };
  const receiveMs = lastMs - firstMs;
  console.log(
    JSON.stringify({
      benchmark: "netsim-forwarding",
      datagramBytes: DATAGRAM_BYTES,
      flags: extra,
      sent: count,
      aimedRatePerS: rate,
      sendRatePerS: Math.round(count / (sendMs / 1000)),
      netsimIn: stats.datagramsIn,
      netsimOut: stats.datagramsOut,
      received,
      forwardedPerS: Math.round(received / (receiveMs / 1000)),
      lostBeforeNetsim: count - stats.datagramsIn,
      lostAfterNetsim: stats.datagramsOut - received,
      sendErrors: stats.sendErrors,
    }),
  );
}

if (isMainThread) {
  await main();
} else {
  parentPort?.postMessage(await sender(workerData as SenderJob));
}
