/**
 * Arithmetic in GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d) and generator 2,
 * the field of most Reed-Solomon erasure codes. Addition is XOR; multiplication goes through
 * log/exp tables, and a full 256 x 256 product table (64 KiB) makes the bulk loop one lookup per byte.
 */

const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!;
}

/** MUL[(a << 8) | b] = a * b. */
const MUL = new Uint8Array(256 * 256);
for (let a = 1; a < 256; a++) {
  for (let b = 1; b < 256; b++) MUL[(a << 8) | b] = EXP[LOG[a]! + LOG[b]!]!;
}

export function gfMul(a: number, b: number): number {
  return MUL[((a & 0xff) << 8) | (b & 0xff)]!;
}

export function gfInv(a: number): number {
  if (a === 0) throw new RangeError("gfInv: 0 has no inverse");
  return EXP[255 - LOG[a]!]!;
}

export function gfDiv(a: number, b: number): number {
  return a === 0 ? 0 : gfMul(a, gfInv(b));
}

/**
 * dst[0..n) ^= c * src[0..n), with n = min(src.length, dst.length). The bulk loop of the erasure code.
 *
 * When both views start on a 4-byte boundary (chunks sit at offset 44 in a datagram, and at
 * multiples of the chunk size in a frame), it reads and writes 32-bit words: four table lookups
 * per word, each byte lane mapped on its own, so the result does not depend on endianness.
 */
export function mulAdd(dst: Uint8Array, src: Uint8Array, c: number): void {
  const n = Math.min(src.length, dst.length);
  if (c === 0) return;
  const base = c << 8;
  let i = 0;
  if (n >= 16 && ((dst.byteOffset | src.byteOffset) & 3) === 0) {
    const words = n >>> 2;
    const d32 = new Uint32Array(dst.buffer, dst.byteOffset, words);
    const s32 = new Uint32Array(src.buffer, src.byteOffset, words);
    if (c === 1) {
      for (let w = 0; w < words; w++) d32[w]! ^= s32[w]!;
    } else {
      for (let w = 0; w < words; w++) {
        const v = s32[w]!;
        d32[w]! ^=
          MUL[base | (v & 0xff)]! |
          (MUL[base | ((v >>> 8) & 0xff)]! << 8) |
          (MUL[base | ((v >>> 16) & 0xff)]! << 16) |
          (MUL[base | (v >>> 24)]! << 24);
      }
    }
    i = words << 2;
  }
  for (; i < n; i++) dst[i]! ^= MUL[base | src[i]!]!;
}

/** dst[0..n) = c * src[0..n). */
export function mulSet(dst: Uint8Array, src: Uint8Array, c: number): void {
  const n = Math.min(src.length, dst.length);
  if (c === 1) {
    dst.set(n === src.length ? src : src.subarray(0, n));
    return;
  }
  const row = MUL.subarray(c << 8, (c << 8) + 256);
  for (let i = 0; i < n; i++) dst[i] = row[src[i]!]!;
}

/**
 * Inverts the n x n matrix `m` (row-major) in place by Gauss-Jordan elimination.
 * Returns false when it is singular.
 */
export function invertMatrix(m: Uint8Array, n: number): boolean {
  const inv = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    while (pivot < n && m[pivot * n + col] === 0) pivot++;
    if (pivot === n) return false;
    if (pivot !== col) {
      for (let k = 0; k < n; k++) {
        swap(m, pivot * n + k, col * n + k);
        swap(inv, pivot * n + k, col * n + k);
      }
    }
    const scale = gfInv(m[col * n + col]!);
    for (let k = 0; k < n; k++) {
      m[col * n + k] = gfMul(m[col * n + k]!, scale);
      inv[col * n + k] = gfMul(inv[col * n + k]!, scale);
    }
    for (let row = 0; row < n; row++) {
      const factor = row === col ? 0 : m[row * n + col]!;
      if (factor === 0) continue;
      for (let k = 0; k < n; k++) {
        m[row * n + k]! ^= gfMul(factor, m[col * n + k]!);
        inv[row * n + k]! ^= gfMul(factor, inv[col * n + k]!);
      }
    }
  }
  m.set(inv);
  return true;
}

function swap(a: Uint8Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
