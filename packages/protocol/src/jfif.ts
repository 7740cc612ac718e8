import { QUANT_TABLE_BYTES, STANDARD_HUFFMAN_TABLES } from "./jpeg-tables.js";

/**
 * The receiving half of RFC 2435: the JFIF headers a frame's scan needs to be a complete file
 * (RFC 2435 appendix B): SOI, APP0 "JFIF", DQT (two tables), SOF0, DRI (restart types), DHT (the
 * four standard tables), SOS. The caller appends the scan and EOI.
 */
export interface JfifLayout {
  /** RFC 2435 type: 0/64 = 4:2:2, 1/65 = 4:2:0. */
  readonly type: number;
  readonly width: number;
  readonly height: number;
  /** Luminance then chrominance table, zig-zag order: 64 bytes each (8-bit) or 128 (16-bit). */
  readonly tables: Uint8Array;
  /** Bit 0: the luminance table is 16-bit; bit 1: the chrominance table is. */
  readonly precision: number;
  readonly restartInterval: number;
}

const APP0_JFIF = [
  0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
];

/** Bytes of the two tables for `precision`: what the quantisation table header must hold. */
export function quantTablesBytes(precision: number): number {
  return ((precision & 1) + 1) * QUANT_TABLE_BYTES + ((precision & 2 ? 1 : 0) + 1) * QUANT_TABLE_BYTES;
}

export function jfifHeader(layout: JfifLayout): Uint8Array {
  const out: number[] = [0xff, 0xd8, ...APP0_JFIF];
  const lumaBytes = (layout.precision & 1 ? 2 : 1) * QUANT_TABLE_BYTES;
  const tableBytes = quantTablesBytes(layout.precision);
  out.push(0xff, 0xdb, (2 + 2 + tableBytes) >> 8, (2 + 2 + tableBytes) & 0xff);
  out.push((layout.precision & 1 ? 0x10 : 0) | 0, ...layout.tables.subarray(0, lumaBytes));
  out.push((layout.precision & 2 ? 0x10 : 0) | 1, ...layout.tables.subarray(lumaBytes, tableBytes));
  const ySampling = (layout.type & 63) === 0 ? 0x21 : 0x22;
  out.push(0xff, 0xc0, 0, 17, 8, layout.height >> 8, layout.height & 0xff, layout.width >> 8, layout.width & 0xff, 3);
  out.push(1, ySampling, 0, 2, 0x11, 1, 3, 0x11, 1);
  if (layout.restartInterval > 0)
    out.push(0xff, 0xdd, 0, 4, layout.restartInterval >> 8, layout.restartInterval & 0xff);
  let dhtLength = 2;
  for (const t of STANDARD_HUFFMAN_TABLES) dhtLength += 17 + t.symbols.length;
  out.push(0xff, 0xc4, dhtLength >> 8, dhtLength & 0xff);
  for (const t of STANDARD_HUFFMAN_TABLES) out.push((t.tableClass << 4) | t.id, ...t.counts, ...t.symbols);
  out.push(0xff, 0xda, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0);
  return Uint8Array.from(out);
}
