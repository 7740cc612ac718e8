import { describe, expect, it } from "vitest";
import { encodeParity, MAX_FEC_GROUP_DATA, parityCoefficient, recoverData } from "./fec.js";
import { gfDiv, gfInv, gfMul, invertMatrix, mulAdd } from "./gf256.js";
import { prng, randomBytes } from "./testing/random.js";

describe("GF(256)", () => {
  it("has the known products of the 0x11d field", () => {
    expect(gfMul(2, 0x80)).toBe(0x1d);
    expect(gfMul(3, 7)).toBe(9);
    expect(gfMul(0x53, 0xca)).toBe(0x8f);
    expect(gfMul(0, 0x55)).toBe(0);
  });

  it("inverts every non-zero element", () => {
    for (let a = 1; a < 256; a++) expect(gfMul(a, gfInv(a))).toBe(1);
    expect(() => gfInv(0)).toThrow(RangeError);
    expect(gfDiv(gfMul(77, 200), 200)).toBe(77);
  });

  it("inverts matrices and reports singular ones", () => {
    const m = Uint8Array.of(1, 2, 3, 4);
    const copy = m.slice();
    expect(invertMatrix(m, 2)).toBe(true);
    // m * m^-1 = I
    const p00 = gfMul(copy[0]!, m[0]!) ^ gfMul(copy[1]!, m[2]!);
    const p01 = gfMul(copy[0]!, m[1]!) ^ gfMul(copy[1]!, m[3]!);
    expect([p00, p01]).toEqual([1, 0]);
    expect(invertMatrix(Uint8Array.of(1, 1, 1, 1), 2)).toBe(false);
  });
});

describe("Cauchy Reed-Solomon", () => {
  it("has an all-ones first parity row: one parity chunk is XOR parity", () => {
    for (let j = 0; j < MAX_FEC_GROUP_DATA; j++) expect(parityCoefficient(0, j)).toBe(1);
    const data = [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6), Uint8Array.of(7, 8)];
    const parity = [new Uint8Array(3)];
    encodeParity(data, parity);
    expect([...parity[0]!]).toEqual([1 ^ 4 ^ 7, 2 ^ 5 ^ 8, 3 ^ 6]);
  });

  function group(k: number, m: number, seed: number, lastLength = 50) {
    const random = prng(seed);
    const data = Array.from({ length: k }, (_, j) => randomBytes(random, j === k - 1 ? lastLength : 50));
    const parity = Array.from({ length: m }, () => new Uint8Array(50));
    encodeParity(data, parity);
    return { data, parity };
  }

  function rebuild(data: Uint8Array[], parity: Uint8Array[], lostData: number[], lostParity: number[]): Uint8Array[] {
    const out = data.map((d) => new Uint8Array(d.length));
    const n = recoverData(
      data.map((d, j) => (lostData.includes(j) ? undefined : d)),
      parity.map((p, r) => (lostParity.includes(r) ? undefined : p)),
      (j) => out[j]!,
    );
    expect(n).toBe(lostData.length);
    return lostData.map((j) => out[j]!);
  }

  it("rebuilds every pattern of up to m lost chunks (k=6, m=3), data and parity mixed", () => {
    const k = 6;
    const m = 3;
    const { data, parity } = group(k, m, 1, 17);
    let patterns = 0;
    for (let mask = 0; mask < 1 << (k + m); mask++) {
      const lost = [...Array(k + m).keys()].filter((i) => mask & (1 << i));
      if (lost.length > m) continue;
      const lostData = lost.filter((i) => i < k);
      const lostParity = lost.filter((i) => i >= k).map((i) => i - k);
      const rebuilt = rebuild(data, parity, lostData, lostParity);
      lostData.forEach((j, i) => expect(rebuilt[i]).toEqual(data[j]));
      patterns++;
    }
    expect(patterns).toBe(1 + 9 + 36 + 84);
  });

  it("rebuilds m lost data chunks in big groups (k=128, m=8) and a short last chunk", () => {
    const random = prng(2);
    const { data, parity } = group(128, 8, 3, 9);
    for (let trial = 0; trial < 20; trial++) {
      const lost = new Set<number>([127]);
      while (lost.size < 8) lost.add(Math.floor(random() * 128));
      const lostData = [...lost];
      const rebuilt = rebuild(data, parity, lostData, []);
      lostData.forEach((j, i) => expect(rebuilt[i]).toEqual(data[j]));
    }
  });

  it("says when there is not enough parity", () => {
    const { data, parity } = group(5, 2, 4);
    const n = recoverData([undefined, undefined, undefined, data[3], data[4]], parity, () => new Uint8Array(50));
    expect(n).toBe(-1);
  });

  it("refuses groups past the coefficient table", () => {
    expect(() =>
      encodeParity(
        Array.from({ length: 129 }, () => new Uint8Array(1)),
        [new Uint8Array(1)],
      ),
    ).toThrow(RangeError);
  });
});

describe("mulAdd", () => {
  it("gives the same bytes on aligned words and on unaligned views", () => {
    const random = prng(9);
    const src = randomBytes(random, 300);
    for (const c of [0, 1, 2, 0x8e, 255]) {
      const reference = randomBytes(prng(c), 300);
      const expected = reference.map((b, i) => b ^ gfMul(c, src[i]!));
      for (const shift of [0, 1, 2, 3, 4]) {
        const s = new Uint8Array(310);
        s.set(src, shift);
        const d = new Uint8Array(310);
        d.set(reference, 4 - (shift % 4));
        const dst = d.subarray(4 - (shift % 4), 4 - (shift % 4) + 300);
        mulAdd(dst, s.subarray(shift, shift + 300), c);
        expect([...dst]).toEqual([...expected]);
      }
    }
  });
});
