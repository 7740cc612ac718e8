import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { jpegAddon } from "../codec/jpeg-addon.js";
import { STDIN_SEND_BUFFER_BYTES, widenStdin } from "./encoder-spawn.js";
import { frameRecordHeader } from "./encoder-wire.js";

/** A child that never reads its stdin: whatever a write does not hand to the kernel at once stays queued. */
function idleChild(): ChildProcess {
  return spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: ["pipe", "ignore", "ignore"] });
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

/** Writes one 640x480 frame record (header and pixels, as the recorder does); returns the bytes Node still holds. */
function writeFrame(child: ChildProcess): number {
  const stdin = child.stdin;
  if (stdin === null) throw new Error("no stdin");
  stdin.on("error", () => undefined);
  stdin.cork();
  stdin.write(frameRecordHeader(640, 480));
  stdin.write(Buffer.alloc(640 * 480 * 3, 7));
  stdin.uncork();
  return stdin.writableLength;
}

describe("the encoder's stdin send buffer", () => {
  it("takes a whole 640x480 frame record in one write where the system allows it; Linux's default does not", () => {
    const wide = idleChild();
    const plain = idleChild();
    children.push(wide, plain);
    const granted = widenStdin(wide);
    // Linux caps the request at net.core.wmem_max and reports twice what it grants.
    const cap = Number(readFileSync("/proc/sys/net/core/wmem_max", "utf8"));
    expect(granted).toBe(2 * Math.min(cap, STDIN_SEND_BUFFER_BYTES));
    const frameRecord = 12 + 640 * 480 * 3;
    // The kernel's bookkeeping takes some of the buffer: a frame fits in one write with room to spare.
    if (granted > 1.2 * frameRecord) expect(writeFrame(wide)).toBe(0);
    expect(writeFrame(plain)).toBeGreaterThan(0);
  });

  it("is left alone, without an error, where the descriptor is not a socket", () => {
    const path = join(tmpdir(), `udpcam-sndbuf-${process.pid}`);
    const file = openSync(path, "w");
    try {
      expect(jpegAddon().setSendBuffer(file, STDIN_SEND_BUFFER_BYTES)).toBe(-1);
    } finally {
      closeSync(file);
      rmSync(path, { force: true });
    }
    expect(() => jpegAddon().setSendBuffer(-1, 1)).toThrow(TypeError);
  });
});
