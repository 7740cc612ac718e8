import { gfSimd, type GfSimd } from "./gf256-simd.js";
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
 *
 * The bulk work runs on WebAssembly SIMD when the runtime has it (gf256-simd.ts: each chunk copied
 * into the module's memory once, one matrix product per step, results copied out once), and on the
 * JavaScript loop of gf256.ts otherwise. Both give the same bytes; `encodeParityWith` and
 * `recoverDataWith` choose one, for tests and benchmarks.
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
  encodeParityWith(gfSimd(), data, parity);
}

/** encodeParity on `simd`, or on the JavaScript loop when it is undefined. */
export function encodeParityWith(
  simd: GfSimd | undefined,
  data: readonly Uint8Array[],
  parity: readonly Uint8Array[],
): void {
  if (data.length > MAX_FEC_GROUP_DATA || parity.length > MAX_FEC_GROUP_PARITY) {
    throw new RangeError(
      `encodeParity: at most ${MAX_FEC_GROUP_DATA} data and ${MAX_FEC_GROUP_PARITY} parity chunks per group, got ${data.length} and ${parity.length}`,
    );
  }
  const n = commonLength("encodeParity", parity, data);
  const k = data.length;
  const m = parity.length;
  if (simd === undefined || n === 0) {
    for (let r = 0; r < m; r++) {
      const p = parity[r]!;
      p.fill(0);
      const base = r * MAX_FEC_GROUP_DATA;
      for (let j = 0; j < k; j++) mulAdd(p, data[j]!, COEF[base + j]!);
    }
    return;
  }
  // Slots 0..k: the data; k..k+m: the parity, from zero.
  simd.layout(k + m, n);
  for (let j = 0; j < k; j++) simd.put(j, data[j]!);
  simd.zero(k, m);
  const coef = new Uint8Array(m * k);
  for (let r = 0; r < m; r++) coef.set(COEF.subarray(r * MAX_FEC_GROUP_DATA, r * MAX_FEC_GROUP_DATA + k), r * k);
  simd.mulAddRows(coef, m, k, 0, k);
  for (let r = 0; r < m; r++) simd.get(k + r, parity[r]!);
}

/**
 * The length shared by the `parity` chunks given (undefined ones skipped; 0 when none), checking
 * that they agree and that no data chunk is longer: the SIMD and JavaScript loops would otherwise
 * cut differently.
 */
function commonLength(
  what: string,
  parity: readonly (Uint8Array | undefined)[],
  data: readonly (Uint8Array | undefined)[],
): number {
  let n = -1;
  parity.forEach((p, r) => {
    if (p === undefined) return;
    if (n >= 0 && p.length !== n)
      throw new RangeError(`${what}: parity chunks must have one length, parity[${r}] has ${p.length} bytes, not ${n}`);
    n = p.length;
  });
  if (n < 0) return 0;
  data.forEach((d, j) => {
    if (d !== undefined && d.length > n)
      throw new RangeError(`${what}: data[${j}] has ${d.length} bytes, more than the ${n}-byte parity`);
  });
  return n;
}

/**
 * Rebuilds the missing data chunks of one group.
 *
 * `data[j]` is the chunk or undefined when lost; `parity[r]` likewise (the parity chunks given all
 * the same length, no data chunk longer). `target(j)` gives the view to write lost chunk j into
 * (its true length: the last chunk of a frame is shorter; bytes past the parity length are zeroed).
 * Needs at least as many parity chunks as lost data chunks; returns how many chunks it rebuilt, or
 * -1 when there is not enough parity.
 */
export function recoverData(
  data: readonly (Uint8Array | undefined)[],
  parity: readonly (Uint8Array | undefined)[],
  target: (index: number) => Uint8Array,
): number {
  return recoverDataWith(gfSimd(), data, parity, target);
}

/** recoverData on `simd`, or on the JavaScript loop when it is undefined. */
export function recoverDataWith(
  simd: GfSimd | undefined,
  data: readonly (Uint8Array | undefined)[],
  parity: readonly (Uint8Array | undefined)[],
  target: (index: number) => Uint8Array,
): number {
  const lost: number[] = [];
  const present: number[] = [];
  for (let j = 0; j < data.length; j++) (data[j] === undefined ? lost : present).push(j);
  const e = lost.length;
  if (e === 0) return 0;
  const rows: number[] = [];
  for (let r = 0; r < parity.length && rows.length < e; r++) if (parity[r] !== undefined) rows.push(r);
  if (rows.length < e) return -1;
  const n = commonLength("recoverData", parity, data);
  // All targets first: the SIMD path must not run the caller's code between its steps.
  const outs = lost.map((j) => target(j));

  if (simd === undefined && e === 1 && rows[0] === 0) {
    // XOR parity: the lost chunk is the parity minus (plus) every other chunk.
    const out = outs[0]!;
    mulSet(out, parity[0]!, 1);
    out.fill(0, n);
    for (const chunk of data) if (chunk !== undefined) mulAdd(out, chunk, 1);
    return 1;
  }

  // Syndromes: each chosen parity chunk minus the contribution of the data chunks that arrived.
  // They equal A * lost, with A[a][b] = C[rows[a]][lost[b]]; so lost = A^-1 * syndromes.
  const a = new Uint8Array(e * e);
  for (let i = 0; i < e; i++)
    for (let b = 0; b < e; b++) a[i * e + b] = COEF[rows[i]! * MAX_FEC_GROUP_DATA + lost[b]!]!;
  if (!invertMatrix(a, e)) throw new Error("recoverData: singular Cauchy submatrix (a bug)");

  if (simd === undefined) {
    const syndromes = rows.map((r) => {
      const s = parity[r]!.slice();
      const base = r * MAX_FEC_GROUP_DATA;
      for (const j of present) mulAdd(s, data[j]!, COEF[base + j]!);
      return s;
    });
    outs.forEach((out, b) => {
      out.fill(0);
      for (let i = 0; i < e; i++) mulAdd(out, syndromes[i]!, a[b * e + i]!);
    });
    return e;
  }

  // Slots: the p data chunks that arrived, then the e syndromes (from the parity), then the e
  // rebuilt chunks (from zero). Two matrix products, no copy in between.
  const p = present.length;
  simd.layout(p + 2 * e, n);
  present.forEach((j, q) => simd.put(q, data[j]!));
  rows.forEach((r, i) => simd.put(p + i, parity[r]!));
  simd.zero(p + e, e);
  const c = new Uint8Array(e * p);
  for (let i = 0; i < e; i++)
    for (let q = 0; q < p; q++) c[i * p + q] = COEF[rows[i]! * MAX_FEC_GROUP_DATA + present[q]!]!;
  simd.mulAddRows(c, e, p, 0, p);
  simd.mulAddRows(a, e, e, p, p + e);
  outs.forEach((out, b) => simd.get(p + e + b, out));
  return e;
}
