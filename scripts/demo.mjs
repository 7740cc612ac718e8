// npm run demo: a receiver and a sender on 127.0.0.1 stream the test pattern
// for a few seconds into ./output.avi, then this prints what happened.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createSocket } from "node:dgram";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const here = process.env.INIT_CWD ?? process.cwd();
const output = join(here, "output.avi");
const work = mkdtempSync(join(tmpdir(), "udpcam-demo-"));
const FRAMES = 125;
const FPS = 25;

function freePort() {
  return new Promise((done, fail) => {
    const socket = createSocket("udp4");
    socket.once("error", fail);
    socket.bind(0, "127.0.0.1", () => {
      const { port } = socket.address();
      socket.close(() => done(port));
    });
  });
}

function start(app, args) {
  const child = spawn(process.execPath, [join(root, "apps", app, "dist", "main.js"), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  child.stdout.resume();
  const exited = new Promise((done) => child.once("exit", (code) => done(code)));
  return { child, exited, stderr: () => stderr };
}

function waitForLine(app, pattern) {
  return new Promise((done, fail) => {
    let seen = "";
    const onData = (chunk) => {
      seen += chunk;
      if (pattern.test(seen)) {
        app.child.stderr.off("data", onData);
        done();
      }
    };
    app.child.stderr.on("data", onData);
    app.exited.then((code) => fail(new Error(`exited with code ${code} before it was ready:\n${app.stderr()}`)));
  });
}

const port = await freePort();
console.log(
  `udpcam demo: streaming ${FRAMES} frames of the 640x480 test pattern at ${FPS} fps over UDP on 127.0.0.1:${port}`,
);

const receiverStats = join(work, "receiver.json");
const senderStats = join(work, "sender.json");
const receiver = start("receiver", [
  "--host",
  "127.0.0.1",
  "--port",
  String(port),
  "--output",
  output,
  "--idle-exit",
  "1",
  "--stats",
  receiverStats,
  "--log-format",
  "json",
]);
await waitForLine(receiver, /"msg":"listening/);
const sender = start("sender", [
  "--source",
  "test",
  "--host",
  "127.0.0.1",
  "--port",
  String(port),
  "--fps",
  String(FPS),
  "--frames",
  String(FRAMES),
  "--stats",
  senderStats,
  "--log-format",
  "json",
]);

const senderCode = await sender.exited;
// The receiver stops by itself one second after the last datagram; a sender that failed sent none.
if (senderCode !== 0) receiver.child.kill("SIGTERM");
const receiverCode = await receiver.exited;
if (senderCode !== 0 || receiverCode !== 0) {
  console.error(`udpcam demo failed: sender exited ${senderCode}, receiver exited ${receiverCode}`);
  console.error(sender.stderr(), receiver.stderr());
  process.exit(1);
}

const sent = JSON.parse(readFileSync(senderStats, "utf8"));
const received = JSON.parse(readFileSync(receiverStats, "utf8"));
rmSync(work, { recursive: true, force: true });

const probe = spawnSync(
  "ffprobe",
  [
    "-v",
    "error",
    "-count_frames",
    "-select_streams",
    "v:0",
    "-show_entries",
    "stream=nb_read_frames,codec_name,width,height",
    "-of",
    "csv=p=0",
    output,
  ],
  { encoding: "utf8" },
);

console.log(
  `  frames sent:      ${sent.framesSent} (${sent.datagramsSent} datagrams, ${(sent.bytesSent / 1e6).toFixed(1)} MB)`,
);
console.log(
  `  frames received:  ${received.framesComplete} complete, ${received.framesRecovered} rebuilt by FEC, ${received.framesDropped} dropped`,
);
console.log(`  frames recorded:  ${received.framesRecorded} -> ${output}`);
if (received.latencyMs?.p50 !== undefined) {
  console.log(
    `  latency:          p50 ${received.latencyMs.p50.toFixed(1)} ms, p99 ${received.latencyMs.p99.toFixed(1)} ms`,
  );
}
if (probe.status === 0) console.log(`  ffprobe:          ${probe.stdout.trim()} (codec,width,height,frames)`);
console.log("Play it with: ffplay output.avi   (or any video player)");
