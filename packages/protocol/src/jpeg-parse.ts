import { QUANT_TABLE_BYTES, sameBytes, standardHuffmanTable } from "./jpeg-tables.js";
import { RTP_JPEG_MAX_SIDE } from "./rtp-jpeg-header.js";

/**
 * What RFC 2435 carries of a JPEG file, read from its markers: the type (from the sampling), the
 * size, the two quantisation tables, the restart interval and the entropy-coded scan. A JPEG that
 * the format cannot carry as it is throws RangeError naming the limit: progressive or not
 * baseline, not three components, sampling other than 4:2:0 or 4:2:2, a side over 2040 or not a
 * multiple of 8, 16-bit tables, Cb and Cr with different tables, Huffman tables other than the
 * standard ones (RFC 2435 has no room for them), more than one scan.
 */
export interface RtpJpegSource {
  /** 0 (4:2:2) or 1 (4:2:0); +64 when the JPEG has restart markers (DRI). */
  readonly type: number;
  readonly width: number;
  readonly height: number;
  /** Luminance then chrominance table, 8-bit, zig-zag order (128 bytes). */
  readonly tables: Uint8Array;
  readonly restartInterval: number;
  /** The scan after the SOS header, EOI cut off: a view of the JPEG. */
  readonly scan: Uint8Array;
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const DQT = 0xdb;
const DHT = 0xc4;
const DRI = 0xdd;
const SOF0 = 0xc0;

interface Component {
  readonly id: number;
  readonly sampling: number;
  readonly quantTable: number;
}

function refuse(message: string): never {
  throw new RangeError(`jpeg: ${message}`);
}

/** Reads the markers up to the scan. Throws RangeError (see `RtpJpegSource`). */
export function parseRtpJpegSource(jpeg: Uint8Array): RtpJpegSource {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== SOI) refuse("not a JPEG file (no SOI marker)");
  const view = new DataView(jpeg.buffer, jpeg.byteOffset, jpeg.length);
  const quant = new Map<number, Uint8Array>();
  const huffman = new Map<number, { counts: Uint8Array; symbols: Uint8Array }>();
  let components: Component[] | undefined;
  let width = 0;
  let height = 0;
  let restartInterval = 0;
  let at = 2;
  for (;;) {
    if (at + 4 > jpeg.length) refuse(`ends at byte ${jpeg.length} before its scan (SOS)`);
    if (jpeg[at] !== 0xff) refuse(`expected a marker at byte ${at}, got 0x${jpeg[at]!.toString(16)}`);
    const marker = jpeg[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = view.getUint16(at + 2);
    const body = at + 4;
    const next = at + 2 + length;
    if (length < 2 || next > jpeg.length) refuse(`segment 0xff${marker.toString(16)} at byte ${at} runs past the end`);
    if (marker === DQT) {
      for (let p = body; p < next;) {
        const precision = jpeg[p]! >> 4;
        const id = jpeg[p]! & 0x0f;
        if (precision !== 0)
          refuse("16-bit quantisation tables; RTP/JPEG here carries 8-bit ones (JPEG quality 25 or more)");
        if (p + 1 + QUANT_TABLE_BYTES > next) refuse(`DQT at byte ${at} is cut short`);
        quant.set(id, jpeg.subarray(p + 1, p + 1 + QUANT_TABLE_BYTES));
        p += 1 + QUANT_TABLE_BYTES;
      }
    } else if (marker === DHT) {
      for (let p = body; p < next;) {
        if (p + 17 > next) refuse(`DHT at byte ${at} is cut short`);
        const counts = jpeg.subarray(p + 1, p + 17);
        const n = counts.reduce((sum, c) => sum + c, 0);
        if (p + 17 + n > next) refuse(`DHT at byte ${at} is cut short`);
        huffman.set(jpeg[p]!, { counts, symbols: jpeg.subarray(p + 17, p + 17 + n) });
        p += 17 + n;
      }
    } else if (marker === DRI) {
      restartInterval = view.getUint16(body);
    } else if (marker === SOF0) {
      if (jpeg[body] !== 8) refuse(`${jpeg[body]}-bit samples; baseline JPEG is 8-bit`);
      height = view.getUint16(body + 1);
      width = view.getUint16(body + 3);
      const count = jpeg[body + 5]!;
      if (count !== 3) refuse(`${count} components; RTP/JPEG types 0 and 1 carry YCbCr (3)`);
      components = [0, 1, 2].map((i) => ({
        id: jpeg[body + 6 + i * 3]!,
        sampling: jpeg[body + 7 + i * 3]!,
        quantTable: jpeg[body + 8 + i * 3]!,
      }));
    } else if (marker >= 0xc1 && marker <= 0xcf && marker !== DHT && marker !== 0xc8 && marker !== 0xcc) {
      refuse(
        `${marker === 0xc2 ? "a progressive" : `a SOF${marker - 0xc0}`} JPEG; RFC 2435 carries baseline (SOF0) only`,
      );
    } else if (marker === SOS) {
      if (components === undefined) refuse("a scan before the frame header (SOF0)");
      return finish(jpeg, view, at, components, { width, height, restartInterval, quant, huffman });
    } else if (marker === EOI) {
      refuse("no scan");
    }
    at = next;
  }
}

function finish(
  jpeg: Uint8Array,
  view: DataView,
  at: number,
  components: readonly Component[],
  found: {
    width: number;
    height: number;
    restartInterval: number;
    quant: Map<number, Uint8Array>;
    huffman: Map<number, { counts: Uint8Array; symbols: Uint8Array }>;
  },
): RtpJpegSource {
  const { width, height, restartInterval, quant, huffman } = found;
  for (const [side, value] of [
    ["width", width],
    ["height", height],
  ] as const) {
    if (value < 8 || value > RTP_JPEG_MAX_SIDE || value % 8 !== 0)
      refuse(`${side} ${value}; RTP/JPEG carries sides from 8 to ${RTP_JPEG_MAX_SIDE} in steps of 8`);
  }
  const [y, cb, cr] = components as [Component, Component, Component];
  if (cb.sampling !== 0x11 || cr.sampling !== 0x11 || (y.sampling !== 0x21 && y.sampling !== 0x22)) {
    refuse(
      `sampling ${components.map((c) => `${c.sampling >> 4}x${c.sampling & 15}`).join(",")}; RTP/JPEG carries 4:2:2 (2x1,1x1,1x1) and 4:2:0 (2x2,1x1,1x1)`,
    );
  }
  if (cb.quantTable !== cr.quantTable) refuse("Cb and Cr use different quantisation tables; RTP/JPEG has one for both");
  const luma = quant.get(y.quantTable);
  const chroma = quant.get(cb.quantTable);
  if (luma === undefined || chroma === undefined) refuse("a component's quantisation table is not defined (DQT)");
  const length = view.getUint16(at + 2);
  const count = jpeg[at + 4]!;
  if (count !== 3) refuse(`a scan of ${count} components (more than one scan); RTP/JPEG carries one interleaved scan`);
  if (length < 6 + 2 * count) refuse(`the scan header at byte ${at} is cut short`);
  for (let i = 0; i < 3; i++) {
    const selectors = jpeg[at + 6 + i * 2]!;
    const chromaComponent = jpeg[at + 5 + i * 2] !== y.id;
    for (const tableClass of [0, 1] as const) {
      const table = huffman.get((tableClass << 4) | (tableClass === 0 ? selectors >> 4 : selectors & 15));
      const standard = standardHuffmanTable(tableClass, chromaComponent);
      // No DHT at all is Motion-JPEG's convention for "the standard tables" (AVI1), which is what RFC 2435 rebuilds.
      if (table === undefined && huffman.size === 0) continue;
      if (
        table === undefined ||
        !sameBytes(table.counts, standard.counts) ||
        !sameBytes(table.symbols, standard.symbols)
      ) {
        refuse(
          "Huffman tables other than the standard ones (an optimised JPEG); RTP/JPEG rebuilds the standard tables",
        );
      }
    }
  }
  let end = jpeg.length;
  if (jpeg[end - 2] === 0xff && jpeg[end - 1] === EOI) end -= 2;
  const tables = new Uint8Array(2 * QUANT_TABLE_BYTES);
  tables.set(luma);
  tables.set(chroma, QUANT_TABLE_BYTES);
  const type = (y.sampling === 0x21 ? 0 : 1) + (restartInterval > 0 ? 64 : 0);
  return { type, width, height, tables, restartInterval, scan: jpeg.subarray(at + 2 + length, end) };
}
