import { checkAuthenticator, checkCipher, type Authenticator, type PayloadCipher } from "./auth.js";
import { NONCE_BYTES, writeNonce } from "./encryption.js";
import { encodeParity, MAX_FEC_GROUP_DATA } from "./fec.js";
import type { FrameMetadata } from "./frame.js";
import {
  DEFAULT_MAX_DATAGRAM_BYTES,
  HEADER_BYTES,
  headerProblem,
  MAX_DATAGRAM_BYTES,
  Offset,
  SALT_BYTES,
  writeHeader,
  type DatagramHeader,
  WINDOW_SEQUENCE_BYTES,
} from "./header.js";
import {
  chunkCount,
  chunkLength,
  DEFAULT_FEC_GROUP_SIZE,
  fecLayout,
  MAX_CHUNKS_PER_FRAME,
  parityCount,
} from "./slots.js";
import { repairPrefixBytes } from "./window-fec.js";

/** One frame to send. */
export interface FrameToSend extends FrameMetadata {
  /** The frame's bytes (raw-bgr24: width * height * 3). Not modified, not kept. */
  readonly payload: Uint8Array;
}

export interface PacketizeOptions {
  /** Largest datagram, header and tag included: 64..65,507. Default 1472 (no IP fragmentation on a 1500 MTU). */
  readonly maxDatagramBytes?: number;
  /** Parity chunks per data chunk, 0..1 (0 = no FEC). Default 0.1. Rounded up per group. */
  readonly fecOverhead?: number;
  /** Most data chunks per FEC group, 1..128. Default 48. Larger groups survive more loss patterns and cost more CPU. */
  readonly fecGroupSize?: number;
  /** Appends a tag to every datagram (flag A). */
  readonly authenticator?: Authenticator;
  /**
   * Encrypts every datagram's payload (flags E and A): a salt after the header, the AEAD tag after the
   * ciphertext. Not with `authenticator` (the AEAD tag authenticates). FEC parity is computed on the
   * plaintext, then every datagram, data or parity, is sealed on its own.
   */
  readonly cipher?: PayloadCipher;
  /**
   * Window FEC (flag W): the sequence number of the frame's first datagram (`WindowFecEncoder.nextSequence`);
   * datagram i carries it + i. Chunks are made smaller so that a repair datagram carrying one fits
   * in `maxDatagramBytes` (with a cipher, a repair also carries the salt: 16 bytes more room).
   */
  readonly windowSequence?: number;
  /**
   * Where the frame's datagrams are built: given the bytes needed, a buffer of exactly that many (one the caller
   * reuses once every send from it has completed). Default: a fresh one a frame. Every byte sent is written.
   */
  readonly allocate?: (bytes: number) => Uint8Array;
}

export const DEFAULT_FEC_OVERHEAD = 0.1;
/** Smallest `maxDatagramBytes` accepted: the header, room for a 16-byte tag, and a few bytes of payload. */
export const MIN_DATAGRAM_BYTES = 64;

function checkOptions(
  options: PacketizeOptions,
): Required<Omit<PacketizeOptions, "windowSequence" | "authenticator" | "cipher" | "allocate">> {
  const maxDatagramBytes = options.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES;
  const fecOverhead = options.fecOverhead ?? DEFAULT_FEC_OVERHEAD;
  const fecGroupSize = options.fecGroupSize ?? DEFAULT_FEC_GROUP_SIZE;
  if (
    !Number.isInteger(maxDatagramBytes) ||
    maxDatagramBytes < MIN_DATAGRAM_BYTES ||
    maxDatagramBytes > MAX_DATAGRAM_BYTES
  ) {
    throw new RangeError(
      `maxDatagramBytes must be an integer from ${MIN_DATAGRAM_BYTES} to ${MAX_DATAGRAM_BYTES}, got ${String(maxDatagramBytes)}`,
    );
  }
  if (!(fecOverhead >= 0 && fecOverhead <= 1))
    throw new RangeError(`fecOverhead must be from 0 to 1, got ${String(fecOverhead)}`);
  if (!Number.isInteger(fecGroupSize) || fecGroupSize < 1 || fecGroupSize > MAX_FEC_GROUP_DATA) {
    throw new RangeError(
      `fecGroupSize must be an integer from 1 to ${MAX_FEC_GROUP_DATA}, got ${String(fecGroupSize)}`,
    );
  }
  checkAuthenticator(options.authenticator, "authenticator");
  checkCipher(options.cipher, "cipher");
  if (options.authenticator !== undefined && options.cipher !== undefined)
    throw new RangeError("authenticator and cipher: give one (the cipher's AEAD tag authenticates the datagram)");
  return { maxDatagramBytes, fecOverhead, fecGroupSize };
}

/** What `packetizeFrame` and `packetizeFrameParts` share: the options checked, the header written once. */
interface FramePlan {
  readonly start: number;
  readonly tagBytes: number;
  readonly saltBytes: number;
  readonly chunkBytes: number;
  readonly dataChunks: number;
  readonly parityChunks: number;
  readonly groups: number;
  readonly parityPerGroup: number;
  /** The datagrams' first `start` bytes (header, salt, window sequence space), chunk index 0. */
  readonly template: Uint8Array;
  readonly salt: Uint8Array | undefined;
}

function planFrame(frame: FrameToSend, options: PacketizeOptions): FramePlan {
  const { maxDatagramBytes, fecOverhead, fecGroupSize } = checkOptions(options);
  const { authenticator, cipher } = options;
  const tagBytes = cipher?.tagBytes ?? authenticator?.tagBytes ?? 0;
  const saltBytes = cipher === undefined ? 0 : SALT_BYTES;
  const windowSequence = options.windowSequence;
  const start = HEADER_BYTES + saltBytes + (windowSequence === undefined ? 0 : WINDOW_SEQUENCE_BYTES);
  const frameBytes = frame.payload.length;
  if (frameBytes === 0) throw new RangeError("payload must not be empty");
  // With window FEC, a repair datagram carries a whole source (header and tag) after its own header (and salt).
  const chunkBytes =
    maxDatagramBytes -
    start -
    tagBytes -
    (windowSequence === undefined ? 0 : repairPrefixBytes(cipher !== undefined) + tagBytes);
  const dataChunks = chunkCount(frameBytes, chunkBytes);
  const layout = fecLayout(dataChunks, fecOverhead, fecGroupSize);
  const parityChunks = parityCount(layout);
  if (dataChunks + parityChunks > MAX_CHUNKS_PER_FRAME) {
    throw new RangeError(
      `payload: ${frameBytes} bytes make ${dataChunks} data + ${parityChunks} parity chunks of ${chunkBytes} bytes, more than ${MAX_CHUNKS_PER_FRAME}: use larger datagrams`,
    );
  }
  const header: DatagramHeader = {
    streamId: frame.streamId,
    frameNumber: frame.frameNumber,
    frameBytes,
    chunkIndex: 0,
    chunkCount: dataChunks,
    chunkBytes,
    fecGroups: layout.groups,
    fecParityPerGroup: layout.parityPerGroup,
    codec: frame.codec,
    width: frame.width,
    height: frame.height,
    fps: frame.fps,
    timestampMs: frame.timestampMs,
    tagBytes,
    encrypted: cipher !== undefined,
    windowSequence,
  };
  const problem = headerProblem(header);
  if (problem) throw new RangeError(problem.message);

  const template = new Uint8Array(start);
  writeHeader(new DataView(template.buffer), header);
  // After the checks: a frame refused above takes no salt. One salt per frame (the schedule decides).
  const salt = cipher?.saltFor(frame.streamId, frame.frameNumber);
  if (salt !== undefined) {
    if (salt.length !== SALT_BYTES)
      throw new RangeError(`cipher.saltFor returned ${salt.length} bytes, not ${SALT_BYTES}`);
    template.set(salt, HEADER_BYTES);
  }
  return {
    start,
    tagBytes,
    saltBytes,
    chunkBytes,
    dataChunks,
    parityChunks,
    groups: layout.groups,
    parityPerGroup: layout.parityPerGroup,
    template,
    salt,
  };
}

/** Datagram `i`'s chunk index (and window sequence number) over the template's copy at `datagram[0..start)`. */
function numberDatagram(datagram: Uint8Array, i: number, plan: FramePlan, windowSequence: number | undefined): void {
  datagram[Offset.chunkIndex] = i >>> 8;
  datagram[Offset.chunkIndex + 1] = i & 0xff;
  if (windowSequence !== undefined) {
    const sequence = (windowSequence + i) >>> 0;
    const at = HEADER_BYTES + plan.saltBytes;
    datagram[at] = sequence >>> 24;
    datagram[at + 1] = (sequence >>> 16) & 0xff;
    datagram[at + 2] = (sequence >>> 8) & 0xff;
    datagram[at + 3] = sequence & 0xff;
  }
}

/** Fills the parity chunks of every FEC group from its data chunks (views of the same bytes either way). */
function fillParity(
  plan: FramePlan,
  dataChunk: (i: number) => Uint8Array,
  parityChunk: (i: number) => Uint8Array,
): void {
  const { groups, parityPerGroup, dataChunks } = plan;
  if (parityPerGroup === 0) return;
  for (let g = 0; g < groups; g++) {
    const data: Uint8Array[] = [];
    for (let i = g; i < dataChunks; i += groups) data.push(dataChunk(i));
    const parity: Uint8Array[] = [];
    for (let r = 0; r < parityPerGroup; r++) parity.push(parityChunk(dataChunks + r * groups + g));
    encodeParity(data, parity);
  }
}

/**
 * Cuts a frame into v1 datagrams: K data chunks in order, then the parity chunks (index K..).
 * Each datagram is a Uint8Array of at most `maxDatagramBytes`; they are views of one buffer
 * allocated for the frame (use `byteOffset`/`length` when handing them to a socket). Throws RangeError naming the
 * field or option that is out of range.
 */
export function packetizeFrame(frame: FrameToSend, options: PacketizeOptions = {}): Uint8Array[] {
  const plan = planFrame(frame, options);
  const { start, tagBytes, chunkBytes, dataChunks, parityChunks, template, salt } = plan;
  const { cipher, authenticator, windowSequence } = options;
  const payload = frame.payload;
  const frameBytes = payload.length;
  const total = dataChunks + parityChunks;
  const datagrams = new Array<Uint8Array>(total);
  // One allocation for the whole frame, each datagram a view of it: a new Uint8Array per
  // datagram cost more than copying the bytes. Views start at multiples of 4 when the
  // datagram size allows, for the word-wide FEC loop.
  const stride = (start + chunkBytes + tagBytes + 3) & ~3;
  const memory = options.allocate?.(stride * total) ?? new Uint8Array(stride * total);
  if (memory.length !== stride * total)
    throw new RangeError(`allocate returned ${memory.length} bytes, not the ${stride * total} asked for`);
  for (let i = 0; i < total; i++) {
    const length = i < dataChunks ? chunkLength(i, frameBytes, chunkBytes) : chunkBytes;
    const datagram = memory.subarray(i * stride, i * stride + start + length + tagBytes);
    datagram.set(template);
    numberDatagram(datagram, i, plan, windowSequence);
    if (i < dataChunks) datagram.set(payload.subarray(i * chunkBytes, i * chunkBytes + length), start);
    datagrams[i] = datagram;
  }

  fillParity(
    plan,
    (i) => datagrams[i]!.subarray(start, datagrams[i]!.length - tagBytes),
    (i) => datagrams[i]!.subarray(start, start + chunkBytes),
  );

  if (cipher !== undefined && salt !== undefined) {
    const nonce = new Uint8Array(NONCE_BYTES);
    for (let i = 0; i < total; i++) {
      const datagram = datagrams[i]!;
      const end = datagram.length - tagBytes;
      const sealed = cipher.seal(
        salt,
        writeNonce(nonce, frame.streamId, frame.frameNumber, i),
        datagram.subarray(0, start),
        datagram.subarray(start, end),
      );
      if (sealed.tag.length !== tagBytes || sealed.ciphertext.length !== end - start)
        throw new RangeError(
          `cipher.seal returned ${sealed.ciphertext.length} + ${sealed.tag.length} bytes, expected ${end - start} + ${tagBytes}`,
        );
      datagram.set(sealed.ciphertext, start);
      datagram.set(sealed.tag, end);
    }
  } else if (authenticator) {
    for (const datagram of datagrams) {
      const end = datagram.length - tagBytes;
      const tag = authenticator.sign(datagram.subarray(0, end));
      if (tag.length !== tagBytes)
        throw new RangeError(`authenticator.sign returned ${tag.length} bytes, tagBytes is ${tagBytes}`);
      datagram.set(tag, end);
    }
  }
  return datagrams;
}

/**
 * A datagram in two parts for one gather send (Node's `socket.send([head, body])`, one `sendmsg`): the bytes on
 * the wire are `head` then `body`, the same bytes as `packetizeFrame`'s datagram.
 */
export interface DatagramParts {
  /** The header. */
  readonly head: Uint8Array;
  /** A view of the frame's payload (a data chunk), or the chunk's parity. */
  readonly body: Uint8Array;
  /** `head.length + body.length`: the datagram's size. */
  readonly length: number;
}

/** What `packetizeFrameParts` takes: neither tags nor encryption nor window FEC, which need the datagram whole. */
export type PartsOptions = Omit<PacketizeOptions, "authenticator" | "cipher" | "windowSequence" | "allocate">;

/**
 * `packetizeFrame` without copying the payload: each data datagram is its header and a view of the payload's
 * chunk, each parity datagram its header and its parity. The payload must stay unchanged until every datagram's
 * send has completed. The headers share one small buffer, the parity chunks another. Throws RangeError as
 * `packetizeFrame` does, and for an authenticator, a cipher or a window sequence.
 */
export function packetizeFrameParts(frame: FrameToSend, options: PartsOptions = {}): DatagramParts[] {
  const given = options as PacketizeOptions;
  if (given.authenticator !== undefined || given.cipher !== undefined || given.windowSequence !== undefined)
    throw new RangeError("packetizeFrameParts: authenticator, cipher and windowSequence need packetizeFrame");
  const plan = planFrame(frame, options);
  const { start, chunkBytes, dataChunks, parityChunks, template } = plan;
  const payload = frame.payload;
  const frameBytes = payload.length;
  const total = dataChunks + parityChunks;
  const heads = new Uint8Array(start * total);
  const parity = parityChunks === 0 ? undefined : new Uint8Array(chunkBytes * parityChunks);
  const datagrams = new Array<DatagramParts>(total);
  for (let i = 0; i < total; i++) {
    const head = heads.subarray(i * start, (i + 1) * start);
    head.set(template);
    numberDatagram(head, i, plan, undefined);
    // Plain views (a Buffer's own subarray takes the slow FastBuffer path).
    const body =
      i < dataChunks
        ? new Uint8Array(payload.buffer, payload.byteOffset + i * chunkBytes, chunkLength(i, frameBytes, chunkBytes))
        : parity!.subarray((i - dataChunks) * chunkBytes, (i - dataChunks + 1) * chunkBytes);
    datagrams[i] = { head, body, length: start + body.length };
  }
  fillParity(
    plan,
    (i) => datagrams[i]!.body,
    (i) => datagrams[i]!.body,
  );
  return datagrams;
}
