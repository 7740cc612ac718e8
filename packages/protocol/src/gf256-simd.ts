import { GF256_SIMD_WASM } from "./gf256-simd-wasm.js";
import { gfMul } from "./gf256.js";

/**
 * The erasure code's bulk loop on WebAssembly SIMD (`gf256-simd.wat`): the split-nibble multiply of
 * ISA-L and klauspost/reedsolomon, 16 bytes per instruction instead of one table lookup per byte.
 *
 * The module is 0.8 KB and compiles synchronously (the reassembler is synchronous; browsers allow
 * small modules on the main thread). It works in its own linear memory, so the API is shaped
 * around whole matrix products: lay out slots, copy each chunk in once, run one `mulAddRows`,
 * copy each result out once. The memory grows to the largest layout asked for and stays there:
 * about (k + m) chunks for a group, some 100 KB at the defaults, 17 MB at most (128 + 128 chunks
 * of 64 KB).
 *
 * When this runtime has no WebAssembly, no SIMD (the module does not validate) or forbids
 * compiling it (a Content-Security-Policy without 'wasm-unsafe-eval'), `createGfSimd` returns
 * undefined and callers use the JavaScript loop of gf256.ts: same bytes.
 */

/** The slice of the WebAssembly JavaScript API used here (the ES library this package compiles against has no types for it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { readonly exports: Record<string, unknown> };
}

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface Exports {
  readonly memory: WasmMemory;
  mul_add(dst: number, src: number, n: number, c: number): void;
  mul_add_rows(src: number, k: number, dst: number, m: number, stride: number, coef: number, tab: number): void;
}

const PAGE_BYTES = 65_536;
/** Memory from 0: two 16-byte tables per coefficient (c * x, then c * (x << 4), x < 16). */
const TABLES_BYTES = 256 * 32;
/** Most coefficients of one matrix product: a 128 x 128 group. */
export const MAX_SIMD_COEFFICIENTS = 128 * 128;
const COEF_AT = TABLES_BYTES;
/** Then the slots (`layout`), then room for each coefficient's tables (`mulAddRows`). */
const SLOTS_AT = COEF_AT + MAX_SIMD_COEFFICIENTS;

export interface GfSimd {
  /**
   * Arranges `slots` slots of `bytes` bytes (each padded to a multiple of 16) in the module's
   * memory, growing it when needed. What earlier slots held is lost.
   */
  layout(slots: number, bytes: number): void;
  /** Copies `chunk` into a slot: at most the slot's bytes, zeros after a shorter chunk. */
  put(slot: number, chunk: Uint8Array): void;
  /** Zeros `count` slots from `first`. */
  zero(first: number, count: number): void;
  /** Copies a slot out into `out`: its first `min(out.length, bytes)` bytes, zeros after them. */
  get(slot: number, out: Uint8Array): void;
  /**
   * Slot `dst + r` ^= sum over j of coef[r * cols + j] * slot `src + j`, for r < rows and j < cols:
   * a whole encode or recovery step in one call. `coef` is row-major, at most MAX_SIMD_COEFFICIENTS.
   */
  mulAddRows(coef: Uint8Array, rows: number, cols: number, src: number, dst: number): void;
  /** dst[0..n) ^= c * src[0..n), n = min(src.length, dst.length), copying both in and dst out. For tests and benchmarks. */
  mulAdd(dst: Uint8Array, src: Uint8Array, c: number): void;
}

/**
 * A new instance of the SIMD module (each has its own memory), or undefined when this runtime
 * cannot run it. `wasm` is for tests; the default is the module assembled from gf256-simd.wat.
 */
export function createGfSimd(wasm: Uint8Array = GF256_SIMD_WASM): GfSimd | undefined {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  let exports: Exports;
  try {
    if (api === undefined || !api.validate(wasm)) return undefined;
    const raw = new api.Instance(new api.Module(wasm)).exports;
    if (typeof raw.mul_add !== "function" || typeof raw.mul_add_rows !== "function" || typeof raw.memory !== "object")
      return undefined;
    exports = raw as unknown as Exports;
  } catch {
    // CompileError, or an EvalError/CompileError from a CSP that forbids compiling WebAssembly.
    return undefined;
  }
  const memory = exports.memory;
  let bytes = new Uint8Array(memory.buffer);
  for (let c = 0; c < 256; c++) {
    for (let x = 0; x < 16; x++) {
      bytes[c * 32 + x] = gfMul(c, x);
      bytes[c * 32 + 16 + x] = gfMul(c, x << 4);
    }
  }

  let slots = 0;
  let bytesPerSlot = 0;
  let stride = 0;

  function reserve(end: number): void {
    if (end <= bytes.length) return;
    memory.grow(Math.ceil((end - bytes.length) / PAGE_BYTES));
    bytes = new Uint8Array(memory.buffer);
  }

  function at(slot: number): number {
    if (!Number.isInteger(slot) || slot < 0 || slot >= slots)
      throw new RangeError(`GfSimd: slot ${slot} outside the ${slots} laid out`);
    return SLOTS_AT + slot * stride;
  }

  function layout(count: number, size: number): void {
    if (!Number.isInteger(count) || count < 0 || !Number.isInteger(size) || size < 0)
      throw new RangeError(`GfSimd.layout: bad ${count} slots of ${size} bytes`);
    slots = count;
    bytesPerSlot = size;
    stride = (size + 15) & ~15;
    reserve(SLOTS_AT + slots * stride);
  }

  return {
    layout,
    put(slot, chunk) {
      const start = at(slot);
      const n = Math.min(chunk.length, bytesPerSlot);
      bytes.set(n === chunk.length ? chunk : chunk.subarray(0, n), start);
      bytes.fill(0, start + n, start + stride);
    },
    zero(first, count) {
      if (count <= 0) return;
      at(first + count - 1);
      const start = at(first);
      bytes.fill(0, start, start + count * stride);
    },
    get(slot, out) {
      const start = at(slot);
      const n = Math.min(out.length, bytesPerSlot);
      out.set(bytes.subarray(start, start + n));
      if (n < out.length) out.fill(0, n);
    },
    mulAddRows(coef, rows, cols, src, dst) {
      if (rows === 0 || cols === 0 || stride === 0) return;
      if (rows * cols > MAX_SIMD_COEFFICIENTS || coef.length < rows * cols) {
        throw new RangeError(
          `GfSimd.mulAddRows: ${rows} x ${cols} coefficients, ${coef.length} given, at most ${MAX_SIMD_COEFFICIENTS}`,
        );
      }
      at(src + cols - 1);
      at(dst + rows - 1);
      const srcAt = at(src);
      const dstAt = at(dst);
      // The kernel wants the coefficients column-major, and room for their tables past the slots.
      for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) bytes[COEF_AT + j * rows + r] = coef[r * cols + j]!;
      const tab = SLOTS_AT + slots * stride;
      reserve(tab + rows * cols * 32);
      exports.mul_add_rows(srcAt, cols, dstAt, rows, stride, COEF_AT, tab);
    },
    mulAdd(dst, src, c) {
      const n = Math.min(src.length, dst.length);
      if (n === 0) return;
      layout(2, n);
      bytes.set(src.subarray(0, n), SLOTS_AT);
      const d = SLOTS_AT + stride;
      bytes.set(dst.subarray(0, n), d);
      exports.mul_add(d, SLOTS_AT, n, c & 0xff);
      dst.set(bytes.subarray(d, d + n));
    },
  };
}

let shared: GfSimd | undefined | null = null;

/** The instance encodeParity and recoverData use, created on first call; undefined when this runtime cannot run it. */
export function gfSimd(): GfSimd | undefined {
  if (shared === null) shared = createGfSimd();
  return shared;
}
