// What a user's project does with @udpcam/protocol once installed from the registry: import every
// entry point its `exports` lists, and send a signed frame through packetizeFrame and createReassembler.
// scripts/check-release.sh copies this file into an empty project that installed the packed tarball.
import { readFileSync } from "node:fs";
import process from "node:process";

const NAME = "@udpcam/protocol";
const manifest = JSON.parse(readFileSync(`node_modules/${NAME}/package.json`, "utf8"));
const entries = Object.keys(manifest.exports).map((subpath) => (subpath === "." ? NAME : NAME + subpath.slice(1)));
for (const specifier of entries) {
  const entry = await import(specifier);
  if (Object.keys(entry).length === 0) throw new Error(`${specifier} exports nothing`);
}

const { createReassembler, packetizeFrame } = await import(NAME);
const { createHmacAuthenticator } = await import(`${NAME}/node`);
const authenticator = createHmacAuthenticator("release check");
const payload = Uint8Array.from({ length: 20_000 }, (_, i) => (i * 31) & 0xff);
const frame = { streamId: 7, frameNumber: 1, codec: "jpeg", width: 640, height: 480, fps: 25, timestampMs: 0, payload };
const datagrams = packetizeFrame(frame, { authenticator });
const reassembler = createReassembler({ authenticator });
// The first datagram lost: the frame must come back through FEC, byte for byte.
const frames = datagrams
  .slice(1)
  .flatMap((datagram) => reassembler.push(datagram, 0))
  .filter((event) => event.type === "frame");
const received = frames[0];
const same =
  received !== undefined &&
  received.payload.length === payload.length &&
  received.payload.every((byte, i) => byte === payload[i]);
if (frames.length !== 1 || !same || reassembler.counters.datagramsUnauthenticated !== 0) {
  throw new Error(`the frame did not round-trip: ${frames.length} frames from ${datagrams.length} signed datagrams`);
}
process.stdout.write(
  `${NAME}@${manifest.version}: ${entries.join(", ")} import; a signed frame round-trips through ${datagrams.length} datagrams\n`,
);
