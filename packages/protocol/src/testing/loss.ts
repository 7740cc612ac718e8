import { packetizeFrame, type PacketizeOptions } from "../packetize.js";
import { createReassembler } from "../reassembler.js";
import { firstDifference, prng, randomBytes } from "./random.js";

export interface LossRun {
  readonly frames: number;
  readonly complete: number;
  readonly recovered: number;
  readonly datagramsSent: number;
  readonly datagramsLost: number;
}

/**
 * Sends `frames` JPEG-sized frames (`frameBytes` random bytes, 640x480 at 25 fps) through
 * independent random datagram loss and counts the frames that come out byte-identical.
 */
export function runLoss(options: {
  frames: number;
  loss: number;
  seed: number;
  frameBytes?: number;
  packetize: PacketizeOptions;
}): LossRun {
  const random = prng(options.seed);
  const payloads = Array.from({ length: 8 }, () => randomBytes(random, options.frameBytes ?? 40_000));
  const r = createReassembler();
  let complete = 0;
  let recovered = 0;
  let sent = 0;
  let lost = 0;
  for (let n = 0; n < options.frames; n++) {
    const payload = payloads[n % payloads.length]!;
    const now = n * 40;
    const datagrams = packetizeFrame(
      {
        streamId: 0xc0ffee,
        frameNumber: n,
        codec: "jpeg",
        width: 640,
        height: 480,
        fps: 25,
        timestampMs: now,
        payload,
      },
      options.packetize,
    );
    for (const d of datagrams) {
      sent++;
      if (random() < options.loss) {
        lost++;
        continue;
      }
      for (const event of r.push(d, now)) {
        if (event.type !== "frame") continue;
        if (event.frameNumber !== n || firstDifference(event.payload, payload) !== -1)
          throw new Error(`frame ${event.frameNumber} came out wrong`);
        complete++;
        if (event.recovered) recovered++;
      }
    }
    r.expire(now);
  }
  return { frames: options.frames, complete, recovered, datagramsSent: sent, datagramsLost: lost };
}
