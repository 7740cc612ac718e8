import { gfDiv, invertMatrix, mulAdd, mulSet } from "./gf256.js";

/**
 * Systematic Reed-Solomon erasure code over GF(2^8) with a Cauchy parity matrix.
 *
 * A group of k data chunks (k <= 128) gets m parity chunks (m <= 128):
 *
 *     parity[r] = sum over j of C[r][j] * data[j]        (data zero-padded to the parity length)
 *     C[r][j]   = (x0 + yj) / (xr + yj),  xr = r,  yj = 128 + j
 *
 * A Cauchy matrix 1/(xr + yj) has every square submatrix invertible, and scaling its columns keeps
 * that true, so any k of the k + m chunks rebuild the group (an MDS code). The scaling by (x0 + yj)
 * makes row 0 all ones: with one parity chunk per group this is plain XOR parity, and the common
 * single loss is rebuilt with XOR only. The coefficients do not depend on k or m, so sender and
 * receiver share one fixed 128 x 128 table.
 */

export const MAX_FEC_GROUP_DATA = 128;
export const MAX_FEC_GROUP_PARITY = 128;

const COEF = new Uint8Array(MAX_FEC_GROUP_PARITY * MAX_FEC_GROUP_DATA);
for (let r = 0; r < MAX_FEC_GROUP_PARITY; r++) {
  for (let j = 0; j < MAX_FEC_GROUP_DATA; j++) {
    const y = 128 + j;
    COEF[r * MAX_FEC_GROUP_DATA + j] = gfDiv(y, r ^ y);
  }
}

/** The parity coefficient C[r][j]. */
export function parityCoefficient(row: number, column: number): number {
  return COEF[row * MAX_FEC_GROUP_DATA + column]!;
}

/**
 * Fills each `parity[r]` (all the same length, at least as long as the longest data chunk) from the
 * group's `data` chunks. Overwrites whatever `parity` held.
 */
export function encodeParity(data: readonly Uint8Array[], parity: readonly Uint8Array[]): void {
  if (data.length > MAX_FEC_GROUP_DATA || parity.length > MAX_FEC_GROUP_PARITY) {
    throw new RangeError(`encodeParity: at most ${MAX_FEC_GROUP_DATA} data and ${MAX_FEC_GROUP_PARITY} parity chunks per group, got ${data.length} and ${parity.length}`);
  }
  for (let r = 0; r < parity.length; r++) {
    const p = parity[r]!;
    p.fill(0);
    const base = r * MAX_FEC_GROUP_DATA;
    for (let j = 0; j < data.length; j++) mulAdd(p, data[j]!, COEF[base + j]!);
  }
}

/**
 * Rebuilds the missing data chunks of one group.
 *
 * `data[j]` is the chunk or undefined when lost; `parity[r]` likewise. `target(j)` gives the view to
 * write lost chunk j into (its true length: the last chunk of a frame is shorter). Needs at least
 * as many parity chunks as lost data chunks; returns how many chunks it rebuilt, or -1 when there
 * is not enough parity.
 */
export function recoverData(
  data: readonly (Uint8Array | undefined)[],
  parity: readonly (Uint8Array | undefined)[],
  target: (index: number) => Uint8Array,
): number {
  const lost: number[] = [];
  for (let j = 0; j < data.length; j++) if (data[j] === undefined) lost.push(j);
  const e = lost.length;
  if (e === 0) return 0;
  const rows: number[] = [];
  for (let r = 0; r < parity.length && rows.length < e; r++) if (parity[r] !== undefined) rows.push(r);
  if (rows.length < e) return -1;

  if (e === 1 && rows[0] === 0) {
    // XOR parity: the lost chunk is the parity minus (plus) every other chunk.
    const out = target(lost[0]!);
    mulSet(out, parity[0]!, 1);
    for (const chunk of data) if (chunk !== undefined) mulAdd(out, chunk, 1);
    return 1;
  }

  // Syndromes: each chosen parity chunk minus the contribution of the data chunks that arrived.
  const syndromes = rows.map((r) => {
    const s = parity[r]!.slice();
    const base = r * MAX_FEC_GROUP_DATA;
    for (let j = 0; j < data.length; j++) {
      const chunk = data[j];
      if (chunk !== undefined) mulAdd(s, chunk, COEF[base + j]!);
    }
    return s;
  });
  // syndromes = A * lost, with A[a][b] = C[rows[a]][lost[b]]; lost = A^-1 * syndromes.
  const a = new Uint8Array(e * e);
  for (let i = 0; i < e; i++) for (let k = 0; k < e; k++) a[i * e + k] = COEF[rows[i]! * MAX_FEC_GROUP_DATA + lost[k]!]!;
  if (!invertMatrix(a, e)) throw new Error("recoverData: singular Cauchy submatrix (a bug)");
  for (let b = 0; b < e; b++) {
    const out = target(lost[b]!);
    out.fill(0);
    for (let k = 0; k < e; k++) mulAdd(out, syndromes[k]!, a[b * e + k]!);
  }
  return e;
}
