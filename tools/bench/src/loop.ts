// The bare loops the efficiency bench holds udpcam's per-datagram cost against: Node's dgram and nothing else.
// `node dist/loop.js --mode send --port P --frames F --frame-bytes B --bytes D --fps R` sends F "frames" of B bytes
// cut into datagrams of D bytes, on a connected socket, each frame's datagrams 64 a turn of the event loop, the
// next frame when it is due (as the sender paces); `--mode recv --port P` counts what arrives until 1 s of silence
// after the first datagram (as the receiver's --idle-exit 1) and prints JSON. Both sockets ask for 8 MB buffers.
import { createSocket } from "node:dgram";
import { setTimeout as sleep } from "node:timers/promises";
import { LOOP_HELP, LOOP_OPTIONS, readCommandLine } from "./options.js";

const BUFFER_BYTES = 8 << 20;
const IDLE_MS = 1000;

async function receive(port: number): Promise<void> {
  const socket = createSocket({ type: "udp4", recvBufferSize: BUFFER_BYTES });
  let datagrams = 0;
  let bytes = 0;
  let lastAt = 0;
  socket.on("message", (message) => {
    datagrams++;
    bytes += message.length;
    lastAt = performance.now();
  });
  await new Promise<void>((done) => socket.bind(port, "127.0.0.1", done));
  process.stderr.write("loop: listening\n");
  while (datagrams === 0 || performance.now() - lastAt < IDLE_MS) await sleep(100);
  socket.close();
  process.stdout.write(JSON.stringify({ datagrams, bytes }) + "\n");
}

async function send(port: number, frames: number, frameBytes: number, size: number, fps: number): Promise<void> {
  const socket = createSocket({ type: "udp4", sendBufferSize: BUFFER_BYTES });
  // Nothing listening is the bench's mistake, not a crash.
  socket.on("error", () => undefined);
  await new Promise<void>((done) => socket.connect(port, "127.0.0.1", done));
  const payload = Buffer.alloc(size, 0x5a);
  const perFrame = Math.ceil(frameBytes / size);
  const started = performance.now();
  let sent = 0;
  for (let frame = 0; frame < frames; frame++) {
    for (let i = 0; i < perFrame; i++) {
      socket.send(payload);
      if (++sent % 64 === 0) await new Promise((done) => setImmediate(done));
    }
    const wait = started + ((frame + 1) * 1000) / fps - performance.now();
    if (wait > 0) await sleep(wait);
  }
  while (socket.getSendQueueCount() > 0) await new Promise((done) => setImmediate(done));
  socket.close();
  process.stdout.write(JSON.stringify({ sent }) + "\n");
}

const options = readCommandLine("loop", LOOP_OPTIONS, LOOP_HELP);
if (options.mode === "recv") await receive(options.port);
else await send(options.port, options.frames, options.frameBytes, options.bytes, options.fps);
