import { describe, expect, it } from "vitest";
import { createSaltSchedule, MAX_FRAMES_PER_SALT, NONCE_BYTES, SALT_BYTES, writeNonce } from "./encryption.js";
import { hex } from "./testing/random.js";

function counterSalts(): () => Uint8Array {
  let n = 0;
  return () => new Uint8Array(SALT_BYTES).fill(++n);
}

describe("createSaltSchedule", () => {
  it("keeps a salt for consecutive frames of one stream, through the 32-bit wrap", () => {
    const s = createSaltSchedule(counterSalts());
    const salts = [0xfffffffe, 0xffffffff, 0, 1].map((n) => s.saltFor(1, n)[0]);
    expect(salts).toEqual([1, 1, 1, 1]);
    expect(s.salts).toBe(1);
  });

  it("takes a new salt for a repeated or out-of-order frame number, another stream, and after maxFramesPerSalt", () => {
    const s = createSaltSchedule(counterSalts(), 3);
    expect([0, 1, 2, 3, 4, 4, 2, 3].map((n) => s.saltFor(1, n)[0])).toEqual([1, 1, 1, 2, 2, 3, 4, 4]);
    expect(s.saltFor(2, 4)[0]).toBe(5);
  });

  it("refuses a bad limit or a salt of the wrong size", () => {
    expect(() => createSaltSchedule(counterSalts(), 0)).toThrow("maxFramesPerSalt");
    expect(() => createSaltSchedule(counterSalts(), MAX_FRAMES_PER_SALT + 1)).toThrow("maxFramesPerSalt");
    expect(() => createSaltSchedule(() => new Uint8Array(8)).saltFor(1, 0)).toThrow("16 bytes");
  });
});

describe("writeNonce", () => {
  it("stream id, frame number, chunk index, two zero bytes", () => {
    expect(hex(writeNonce(new Uint8Array(NONCE_BYTES).fill(0xee), 0xdeadbeef, 0xffffffff, 0x1234))).toBe(
      "deadbeefffffffff12340000",
    );
  });
});
