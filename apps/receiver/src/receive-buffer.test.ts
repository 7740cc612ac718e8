import { describe, expect, it } from "vitest";
import { DEFAULT_RECEIVE_BUFFER_BYTES } from "./config.js";
import { receiveBufferWarnings } from "./receive-buffer.js";

const MiB = 1 << 20;

describe("what the receiver says of its receive buffer", () => {
  it("nothing when the default is capped to a size that holds the original client's frame", () => {
    expect(receiveBufferWarnings(undefined, 4 * MiB)).toEqual([]);
  });

  it("a size the user chose and the system capped: what was granted, and the sysctl that allows it", () => {
    expect(receiveBufferWarnings(16 * MiB, 4 * MiB)).toEqual([
      "--receive-buffer: asked for 16.0 MiB, the system granted 4.0 MiB (net.core.rmem_max caps it); raise the cap with: sysctl -w net.core.rmem_max=16777216",
    ]);
    // The default's own size, given on purpose, is the user's size all the same.
    expect(receiveBufferWarnings(DEFAULT_RECEIVE_BUFFER_BYTES, 4 * MiB)).toHaveLength(1);
  });

  it("a buffer smaller than one unpaced raw frame: the fix is the option when it was asked for, the cap when not", () => {
    expect(receiveBufferWarnings(256 * 1024, 256 * 1024)).toEqual([
      "receive buffer 256 KiB: a sender that does not pace (like the original script) sends 900 KiB at once and the rest is lost; raise --receive-buffer to 921600 or more",
    ]);
    expect(receiveBufferWarnings(undefined, 208 * 1024)).toEqual([
      "receive buffer 208 KiB: a sender that does not pace (like the original script) sends 900 KiB at once and the rest is lost; raise the system's cap with: sysctl -w net.core.rmem_max=8388608",
    ]);
  });
});
