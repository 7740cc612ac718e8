import { describe, expect, it } from "vitest";
import { checkAuthenticator, verifyTag, type Authenticator } from "./auth.js";

/** Accepts a tag equal to the first byte of the signed bytes, repeated tagBytes times. */
function echo(tagBytes = 2): Authenticator {
  const sign = (bytes: Uint8Array) => new Uint8Array(tagBytes).fill(bytes[0] ?? 0);
  return {
    tagBytes,
    sign,
    verify: (bytes, tag) => tag.length === tagBytes && tag.every((b, i) => b === sign(bytes)[i]),
  };
}

const signed = Uint8Array.of(7, 8, 9);

describe("verifyTag", () => {
  it.each([
    ["untagged, no key", undefined, undefined, "accepted"],
    ["tagged, no key", Uint8Array.of(7, 7), undefined, "auth-required"],
    ["untagged, a key", undefined, echo(), "untagged"],
    ["the right tag", Uint8Array.of(7, 7), echo(), "accepted"],
    ["a wrong tag", Uint8Array.of(7, 6), echo(), "unauthenticated"],
    ["a tag of another length", Uint8Array.of(7, 7, 7), echo(), "unauthenticated"],
  ] as const)("%s: %s", (_name, tag, authenticator, verdict) => {
    expect(verifyTag({ tag, tagBytes: tag?.length ?? 0, signed }, authenticator)).toBe(verdict);
  });

  it("does not ask the authenticator about a tag whose length it does not use", () => {
    const authenticator: Authenticator = { ...echo(), verify: () => true };
    expect(verifyTag({ tag: Uint8Array.of(1), tagBytes: 1, signed }, authenticator)).toBe("unauthenticated");
  });
});

describe("checkAuthenticator", () => {
  it("accepts none, and tag lengths from 1 to 255", () => {
    expect(() => checkAuthenticator(undefined, "a")).not.toThrow();
    expect(() => checkAuthenticator(echo(255), "a")).not.toThrow();
    expect(() => checkAuthenticator(echo(0), "options.authenticator")).toThrow("options.authenticator.tagBytes");
    expect(() => checkAuthenticator(echo(256), "a")).toThrow(RangeError);
  });
});
