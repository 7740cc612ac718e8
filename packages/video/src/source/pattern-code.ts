/**
 * The test pattern's code word: the frame number and its check, shown as 32
 * black/white blocks in a band across the top and again across the bottom (layout
 * in `pattern.ts`). Written by `renderPatternFrame`, read back by the inspection in
 * `../testing/pattern-inspection.ts`.
 */
export const PATTERN_CODE_BLOCKS = 32;
export const PATTERN_NUMBER_BITS = 24;
/** Frame numbers in the code bands wrap at 2^24 (about 77 hours at 60 fps). */
export const PATTERN_NUMBER_MODULUS = 2 ** PATTERN_NUMBER_BITS;

const CHECK_XOR = 0x5a;

/** Rows of each code band for a frame of this height. */
export function patternBandHeight(height: number): number {
  return Math.max(2, Math.round(height / 16));
}

function crc8(bytes: readonly number[]): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

export function checkByte(number: number): number {
  return crc8([(number >>> 16) & 0xff, (number >>> 8) & 0xff, number & 0xff]) ^ CHECK_XOR;
}

/** The 32 bits (0 or 1, most significant first) that the bands show for frame n. */
export function patternCodeBits(n: number): number[] {
  const number = ((n % PATTERN_NUMBER_MODULUS) + PATTERN_NUMBER_MODULUS) % PATTERN_NUMBER_MODULUS;
  const word = number * 256 + checkByte(number);
  const bits: number[] = [];
  for (let i = PATTERN_CODE_BLOCKS - 1; i >= 0; i--) bits.push(Math.floor(word / 2 ** i) % 2);
  return bits;
}

/** First column of code block i. */
export function blockStart(i: number, width: number): number {
  return Math.floor((i * width) / PATTERN_CODE_BLOCKS);
}
