/**
 * Flag E: the payload encrypted with an AEAD. What both ends must compute alike lives here, pure: the
 * nonce of a datagram, and the sender's rule for when a salt (and so the run's subkey) must change so
 * that no nonce repeats under one subkey. The AEAD itself is injected (`PayloadCipher` in auth.ts;
 * `@udpcam/protocol/node` has the ChaCha20-Poly1305 one). docs/protocol.md 1.5 proves the nonces unique.
 *
 * ```text
 * nonce (12 bytes), under the subkey HKDF-SHA-256(key, salt):
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           stream id                           |  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          frame number                         |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          chunk index          |            zero (0)           |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */
import { SALT_BYTES } from "./header.js";

export { SALT_BYTES };
/** Bytes of an AEAD nonce (ChaCha20-Poly1305 and AES-GCM both take 96 bits). */
export const NONCE_BYTES = 12;
/** Frames one salt may seal: frame numbers are 32 bits, so the 2^32-th frame would repeat the first's nonces. */
export const MAX_FRAMES_PER_SALT = 2 ** 32;

/** The nonce of chunk `chunkIndex` of frame `frameNumber` of stream `streamId`, written into `out` (12 bytes). */
export function writeNonce(out: Uint8Array, streamId: number, frameNumber: number, chunkIndex: number): Uint8Array {
  const view = new DataView(out.buffer, out.byteOffset, NONCE_BYTES);
  view.setUint32(0, streamId);
  view.setUint32(4, frameNumber);
  view.setUint16(8, chunkIndex);
  view.setUint16(10, 0);
  return out;
}

/** The sender's side of the rule: which salt seals each frame. */
export interface SaltSchedule {
  /**
   * The salt for frame `frameNumber` of stream `streamId`. The current salt is kept only while the
   * frames continue it: the same stream, the frame number one after the previous call's, and fewer
   * than `maxFramesPerSalt` frames under it. Anything else (a new stream, a frame number repeated or
   * skipped back, the wrap) takes a fresh random salt first, so a salt never seals two frames with the
   * same stream id and frame number, and so never repeats a nonce.
   */
  saltFor(streamId: number, frameNumber: number): Uint8Array;
  /** Salts taken so far (the first included). */
  readonly salts: number;
}

export function createSaltSchedule(
  randomSalt: () => Uint8Array,
  maxFramesPerSalt: number = MAX_FRAMES_PER_SALT,
): SaltSchedule {
  if (!Number.isInteger(maxFramesPerSalt) || maxFramesPerSalt < 1 || maxFramesPerSalt > MAX_FRAMES_PER_SALT)
    throw new RangeError(
      `maxFramesPerSalt must be an integer from 1 to ${MAX_FRAMES_PER_SALT}, got ${String(maxFramesPerSalt)}`,
    );
  let salt: Uint8Array | undefined;
  let streamId = -1;
  let lastFrame = -1;
  let frames = 0;
  let salts = 0;
  return {
    saltFor(stream, frameNumber) {
      const continues = salt !== undefined && stream === streamId && frameNumber === (lastFrame + 1) % 2 ** 32;
      if (!continues || frames >= maxFramesPerSalt) {
        const fresh = randomSalt();
        if (fresh.length !== SALT_BYTES)
          throw new RangeError(`randomSalt must return ${SALT_BYTES} bytes, got ${fresh.length}`);
        salt = fresh;
        salts++;
        frames = 0;
        streamId = stream;
      }
      lastFrame = frameNumber;
      frames++;
      return salt!;
    },
    get salts() {
      return salts;
    },
  };
}
