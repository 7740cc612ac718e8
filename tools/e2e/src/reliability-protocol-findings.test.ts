/**
 * Protocol findings from the reliability work, for the protocol package's owner.
 * A finding still open is marked `it.fails` (it passes while the finding stands,
 * and turns red once it is fixed, as a reminder to drop `.fails`); a fixed one is
 * a plain `it` that keeps it fixed. See docs/reliability.md.
 *
 * Finding (fixed): the reassembler reserved (and zero-filled) a buffer of the
 * announced frame size on the first datagram of a frame, before anything about
 * the sender was known. Without a key, 4 well-formed datagrams of 1.5 KB
 * announcing 64 MiB frames took the whole 256 MiB budget and pushed out the real
 * stream's frames in flight, and each cost a 64 MiB allocation (measured 2-3 ms
 * per datagram, so ~450 such datagrams a second saturated the receive loop).
 * Now a frame holds the chunks that arrived (in blocks that grow with them) and
 * its payload buffer is allocated when it completes; the budget counts what is held.
 */
import {
  createReassembler,
  DEFAULT_MAX_DATAGRAM_BYTES,
  encodeDatagram,
  fecLayout,
  packetizeFrame,
  type DatagramHeader,
} from "@udpcam/protocol";
import { describe, expect, it } from "vitest";

const MAX_FRAME_BYTES = 64 << 20;

function frameStart(streamId: number, frameBytes: number): Uint8Array {
  const chunkBytes = 1428;
  const chunkCount = Math.ceil(frameBytes / chunkBytes);
  const layout = fecLayout(chunkCount, 0.1);
  const header: DatagramHeader = {
    streamId,
    frameNumber: 1,
    frameBytes,
    chunkIndex: 0,
    chunkCount,
    chunkBytes,
    fecGroups: layout.groups,
    fecParityPerGroup: layout.parityPerGroup,
    codec: "jpeg",
    width: 640,
    height: 480,
    fps: 25,
    timestampMs: 1,
    tagBytes: 0,
  };
  return encodeDatagram(header, new Uint8Array(chunkBytes));
}

describe("protocol findings (it.fails until fixed in @udpcam/protocol)", () => {
  it("one 1.5 KB datagram does not reserve a 64 MiB frame buffer", () => {
    const reassembler = createReassembler({ maxFrameBytes: MAX_FRAME_BYTES });
    const datagram = frameStart(0x1234, MAX_FRAME_BYTES);
    reassembler.push(datagram, 0);
    // Some amplification is fine (bookkeeping per chunk); 45,000x is not.
    expect(reassembler.counters.bufferedBytes).toBeLessThanOrEqual(64 * datagram.length);
  });

  it("a real frame in flight survives four forged datagrams announcing huge frames", () => {
    const reassembler = createReassembler({ maxFrameBytes: MAX_FRAME_BYTES });
    const real = packetizeFrame(
      {
        streamId: 7,
        frameNumber: 0,
        codec: "jpeg",
        width: 640,
        height: 480,
        fps: 25,
        timestampMs: 1,
        payload: new Uint8Array(30_000).fill(9),
      },
      { maxDatagramBytes: DEFAULT_MAX_DATAGRAM_BYTES, fecOverhead: 0 },
    );
    const half = Math.floor(real.length / 2);
    for (const datagram of real.slice(0, half)) reassembler.push(datagram, 0);
    for (let i = 0; i < 4; i++) reassembler.push(frameStart(0x1000 + i, MAX_FRAME_BYTES), 1);
    const events = real.slice(half).flatMap((datagram) => reassembler.push(datagram, 2));
    expect(events.filter((e) => e.type === "frame").map((e) => (e.type === "frame" ? e.streamId : -1))).toEqual([7]);
  });
});
