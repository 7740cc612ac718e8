// The ceiling: how many datagrams (and bytes) per second Node's dgram moves from one process
// to another on this machine. `node dist/ceiling.js --mode recv --port P --seconds S` counts what
// arrives and prints JSON; `--mode send --port P --bytes B --seconds S` sends flat out (64
// datagrams a turn of the event loop, so the socket's callbacks run). Both sockets ask for 8 MB
// buffers.
import { createSocket } from "node:dgram";
import { CEILING_HELP, CEILING_OPTIONS, readCommandLine } from "./options.js";

const BUFFER_BYTES = 8 << 20;

async function receive(port: number, seconds: number): Promise<void> {
  const socket = createSocket({ type: "udp4", recvBufferSize: BUFFER_BYTES });
  let datagrams = 0;
  let bytes = 0;
  let firstMs = 0;
  let lastMs = 0;
  socket.on("message", (message) => {
    if (datagrams++ === 0) firstMs = performance.now();
    bytes += message.length;
    lastMs = performance.now();
  });
  await new Promise<void>((done) => socket.bind(port, "127.0.0.1", done));
  process.stderr.write("ceiling: listening\n");
  await new Promise((done) => setTimeout(done, seconds * 1000));
  socket.close();
  const elapsed = (lastMs - firstMs) / 1000;
  process.stdout.write(
    JSON.stringify({
      datagrams,
      bytes,
      seconds: elapsed,
      datagramsPerS: datagrams / elapsed,
      bytesPerS: bytes / elapsed,
    }) + "\n",
  );
}

async function send(port: number, size: number, seconds: number): Promise<void> {
  const socket = createSocket({ type: "udp4", sendBufferSize: BUFFER_BYTES });
  await new Promise<void>((done) => socket.connect(port, "127.0.0.1", done));
  const payload = Buffer.alloc(size, 0x5a);
  const until = performance.now() + seconds * 1000;
  let sent = 0;
  while (performance.now() < until) {
    for (let i = 0; i < 64; i++) socket.send(payload);
    sent += 64;
    await new Promise((done) => setImmediate(done));
  }
  socket.close();
  process.stdout.write(JSON.stringify({ sent }) + "\n");
}

const options = readCommandLine("ceiling", CEILING_OPTIONS, CEILING_HELP);
if (options.mode === "recv") await receive(options.port, options.seconds);
else await send(options.port, options.bytes, options.seconds);
