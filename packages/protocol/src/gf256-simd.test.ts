import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { encodeParityWith, MAX_FEC_GROUP_DATA, recoverDataWith } from "./fec.js";
import { createGfSimd, gfSimd, type GfSimd } from "./gf256-simd.js";
import { GF256_SIMD_WASM } from "./gf256-simd-wasm.js";
import { gfMul, mulAdd } from "./gf256.js";
import { firstDifference, prng, randomBytes, shuffle } from "./testing/random.js";
import { compileWat, renderWasmModule } from "./testing/wasm-module.js";

const WAT = readFileSync(new URL("gf256-simd.wat", import.meta.url), "utf8");

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

function simdOrFail(): GfSimd {
  const simd = createGfSimd();
  if (simd === undefined) throw new Error("this Node has no WebAssembly SIMD: the SIMD path would go untested");
  return simd;
}

describe("the embedded module", () => {
  it("is what wabt compiles gf256-simd.wat to, and gf256-simd-wasm.ts is what the generator writes", async () => {
    expect([...(await compileWat(WAT, "gf256-simd.wat"))]).toEqual([...GF256_SIMD_WASM]);
    const committed = readFileSync(new URL("gf256-simd-wasm.ts", import.meta.url), "utf8");
    expect(committed).toBe(renderWasmModule(GF256_SIMD_WASM, "gf256-simd.wat", "GF256_SIMD_WASM"));
  });

  it("is small enough to compile synchronously on a browser's main thread, and this Node runs it", () => {
    expect(GF256_SIMD_WASM.length).toBeLessThan(4096);
    expect(gfSimd()).toBeDefined();
  });
});

describe("SIMD mulAdd against the JavaScript loop", () => {
  const simd = simdOrFail();

  function expectSameMulAdd(length: number, c: number, srcShift: number, dstShift: number, seed: number): void {
    const random = prng(seed);
    const src = randomBytes(random, length + srcShift).subarray(srcShift);
    const start = randomBytes(random, length + dstShift + 3);
    const js = start.slice().subarray(dstShift, dstShift + length);
    const viaSimd = start.slice();
    mulAdd(js, src, c);
    simd.mulAdd(viaSimd.subarray(dstShift, dstShift + length), src, c);
    expect(firstDifference(viaSimd.subarray(dstShift, dstShift + length), js)).toBe(-1);
    // Nothing past the end is touched.
    expect([...viaSimd.subarray(dstShift + length)]).toEqual([...start.subarray(dstShift + length)]);
  }

  it("agrees for all 256 coefficients, on an odd length at odd offsets", () => {
    for (let c = 0; c < 256; c++) expectSameMulAdd(1001, c, 1, 3, c);
  });

  it("agrees on every length from 0 to 100 and every offset mod 4", () => {
    for (let length = 0; length <= 100; length++) {
      for (let shift = 0; shift < 4; shift++)
        expectSameMulAdd(length, (length * 37 + shift) % 256, shift, (shift * 3) % 4, length * 4 + shift);
    }
  });

  it("agrees on large buffers", () => {
    for (const length of [65_536 + 7, 1_000_003]) expectSameMulAdd(length, 0x8e, 2, 1, length);
  });

  it("is the field's product, byte by byte", () => {
    const src = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const c of [0, 1, 2, 0x1d, 0x80, 0xff]) {
      const dst = new Uint8Array(256);
      simd.mulAdd(dst, src, c);
      expect([...dst]).toEqual([...src].map((x) => gfMul(c, x)));
    }
  });
});

describe("SIMD matrix product", () => {
  const simd = simdOrFail();

  it("agrees with the JavaScript loop for 1 to 9 rows (blocks of four and the rest) and odd slot sizes", () => {
    const random = prng(5);
    for (let rows = 1; rows <= 9; rows++) {
      for (const cols of [1, 2, 5]) {
        for (const size of [1, 15, 16, 17, 100]) {
          const coef = randomBytes(random, rows * cols);
          const src = Array.from({ length: cols }, () => randomBytes(random, size));
          const dst = Array.from({ length: rows }, () => randomBytes(random, size));
          const expected = dst.map((d, r) => {
            const out = d.slice();
            src.forEach((s, j) => mulAdd(out, s, coef[r * cols + j]!));
            return out;
          });
          simd.layout(cols + rows, size);
          src.forEach((s, j) => simd.put(j, s));
          dst.forEach((d, r) => simd.put(cols + r, d));
          simd.mulAddRows(coef, rows, cols, 0, cols);
          const got = dst.map((_, r) => {
            const out = new Uint8Array(size);
            simd.get(cols + r, out);
            return out;
          });
          expect(got).toEqual(expected);
        }
      }
    }
  });

  it("refuses slots it did not lay out", () => {
    simd.layout(2, 10);
    expect(() => simd.put(2, new Uint8Array(1))).toThrow(RangeError);
    expect(() => simd.mulAddRows(new Uint8Array(4), 2, 2, 0, 1)).toThrow(RangeError);
  });
});

describe("encodeParity and recoverData: SIMD and JavaScript give the same bytes", () => {
  const simd = simdOrFail();

  function expectSameParity(random: () => number, k: number, m: number, size: number, last: number) {
    const data = Array.from({ length: k }, (_, j) => randomBytes(random, j === k - 1 ? last : size));
    const js = Array.from({ length: m }, () => new Uint8Array(size));
    const viaSimd = Array.from({ length: m }, () => new Uint8Array(size).fill(0xaa));
    encodeParityWith(undefined, data, js);
    encodeParityWith(simd, data, viaSimd);
    expect(viaSimd).toEqual(js);
    return { data, parity: js };
  }

  it("encodes groups of every shape, up to 128 + 128 chunks", () => {
    const random = prng(11);
    for (const [k, m, size, last] of [
      [1, 1, 1, 1],
      [3, 1, 10, 3],
      [29, 3, 1428, 16],
      [48, 5, 1428, 1428],
      [7, 9, 33, 1],
      [128, 8, 101, 100],
      [128, 128, 19, 0],
      [2, 0, 10, 10],
      [0, 3, 10, 10],
      [4, 2, 0, 0],
    ] as const) {
      expectSameParity(random, k, m, size, last);
    }
  });

  it("rebuilds the same chunks on random loss patterns, and the original ones", () => {
    const random = prng(12);
    for (let trial = 0; trial < 60; trial++) {
      const k = 1 + Math.floor(random() * 60);
      const m = 1 + Math.floor(random() * 9);
      const size = 1 + Math.floor(random() * 300);
      const { data, parity } = expectSameParity(random, k, m, size, 1 + Math.floor(random() * size));
      const chunks = shuffle(random, [...Array(k + m).keys()]).slice(0, Math.floor(random() * (m + 1)));
      const lostData = chunks.filter((i) => i < k);
      const kept = data.map((d, j) => (lostData.includes(j) ? undefined : d));
      const keptParity = parity.map((p, r) => (chunks.includes(k + r) ? undefined : p));
      const outJs = data.map((d) => new Uint8Array(d.length));
      const outSimd = data.map((d) => new Uint8Array(d.length).fill(0x55));
      expect(recoverDataWith(undefined, kept, keptParity, (j) => outJs[j]!)).toBe(lostData.length);
      expect(recoverDataWith(simd, kept, keptParity, (j) => outSimd[j]!)).toBe(lostData.length);
      for (const j of lostData) {
        expect(outSimd[j]).toEqual(outJs[j]);
        expect(outSimd[j]).toEqual(data[j]);
      }
    }
  });

  it("rebuilds every pattern of up to m lost chunks (k=6, m=3) on both", () => {
    const random = prng(13);
    const { data, parity } = expectSameParity(random, 6, 3, 40, 17);
    for (let mask = 0; mask < 1 << 9; mask++) {
      const lost = [...Array(9).keys()].filter((i) => mask & (1 << i));
      if (lost.length > 3) continue;
      for (const kernel of [simd, undefined]) {
        const out = data.map((d) => new Uint8Array(d.length));
        const n = recoverDataWith(
          kernel,
          data.map((d, j) => (lost.includes(j) ? undefined : d)),
          parity.map((p, r) => (lost.includes(6 + r) ? undefined : p)),
          (j) => out[j]!,
        );
        expect(n).toBe(lost.filter((i) => i < 6).length);
        for (const j of lost) if (j < 6) expect(out[j]).toEqual(data[j]);
      }
    }
  });

  it("zeros a target past the parity length on both, and rebuilds a lost chunk whose group lost no parity", () => {
    const random = prng(14);
    const { data, parity } = expectSameParity(random, 4, 2, 20, 20);
    for (const kernel of [simd, undefined]) {
      for (const lost of [[1], [1, 2]]) {
        const out = new Uint8Array(25).fill(9);
        const rest = new Uint8Array(20);
        recoverDataWith(
          kernel,
          data.map((d, j) => (lost.includes(j) ? undefined : d)),
          parity,
          (j) => (j === 1 ? out : rest),
        );
        expect([...out]).toEqual([...data[1]!, 0, 0, 0, 0, 0]);
      }
    }
  });

  it("refuses parity chunks of different lengths and data longer than parity, on both", () => {
    for (const kernel of [simd, undefined]) {
      expect(() => encodeParityWith(kernel, [new Uint8Array(4)], [new Uint8Array(4), new Uint8Array(5)])).toThrow(
        /parity\[1\] has 5 bytes, not 4/,
      );
      expect(() => encodeParityWith(kernel, [new Uint8Array(4), new Uint8Array(6)], [new Uint8Array(5)])).toThrow(
        /data\[1\] has 6 bytes, more than the 5-byte parity/,
      );
      expect(() =>
        recoverDataWith(
          kernel,
          [undefined, new Uint8Array(4)],
          [new Uint8Array(4), new Uint8Array(3)],
          () => new Uint8Array(4),
        ),
      ).toThrow(RangeError);
    }
  });

  it("refuses groups past the coefficient table", () => {
    expect(() =>
      encodeParityWith(
        simd,
        Array.from({ length: MAX_FEC_GROUP_DATA + 1 }, () => new Uint8Array(1)),
        [new Uint8Array(1)],
      ),
    ).toThrow(RangeError);
  });
});

describe("fallback to the JavaScript loop", () => {
  it("when the runtime has no WebAssembly", () => {
    vi.stubGlobal("WebAssembly", undefined);
    expect(createGfSimd()).toBeUndefined();
  });

  it("when the module does not validate (no SIMD), or compiling it throws (a CSP without 'wasm-unsafe-eval')", () => {
    const real = (
      globalThis as unknown as {
        WebAssembly: { validate(bytes: Uint8Array): boolean; Module: unknown; Instance: unknown };
      }
    ).WebAssembly;
    const api = { validate: (bytes: Uint8Array) => real.validate(bytes), Module: real.Module, Instance: real.Instance };
    vi.stubGlobal("WebAssembly", api);
    expect(createGfSimd()).toBeDefined();
    vi.stubGlobal("WebAssembly", { ...api, validate: () => false });
    expect(createGfSimd()).toBeUndefined();
    vi.stubGlobal("WebAssembly", {
      ...api,
      Module: function () {
        throw new Error("WebAssembly.Module(): Wasm code generation disallowed by embedder");
      },
    });
    expect(createGfSimd()).toBeUndefined();
    vi.unstubAllGlobals();
    const broken = GF256_SIMD_WASM.slice();
    broken[broken.length - 1] = 0xff;
    expect(createGfSimd(broken)).toBeUndefined();
  });

  it("encodeParity and recoverData, loaded without WebAssembly, give the same bytes", async () => {
    const random = prng(21);
    const data = Array.from({ length: 10 }, (_, j) => randomBytes(random, j === 9 ? 700 : 1428));
    const withSimd = Array.from({ length: 3 }, () => new Uint8Array(1428));
    encodeParityWith(simdOrFail(), data, withSimd);

    vi.stubGlobal("WebAssembly", undefined);
    vi.resetModules();
    const fresh = await import("./fec.js");
    const simdModule = await import("./gf256-simd.js");
    expect(simdModule.gfSimd()).toBeUndefined();
    const parity = Array.from({ length: 3 }, () => new Uint8Array(1428));
    fresh.encodeParity(data, parity);
    expect(parity).toEqual(withSimd);
    const out = data.map((d) => new Uint8Array(d.length));
    expect(
      fresh.recoverData([undefined, data[1], undefined, ...data.slice(3, 9), undefined], parity, (j) => out[j]!),
    ).toBe(3);
    for (const j of [0, 2, 9]) expect(out[j]).toEqual(data[j]);
  });
});
