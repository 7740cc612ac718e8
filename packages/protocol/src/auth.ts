import type { Datagram } from "./header.js";

/**
 * Authentication is injected so the library stays runtime-neutral: the apps pass HMAC-SHA-256
 * truncated to 16 bytes from node:crypto; a browser could pass a precomputed-key HMAC.
 * Both calls must be synchronous. The tag covers the header and payload (everything before it).
 */
export interface Authenticator {
  /** Length of every tag, 1..255 bytes. */
  readonly tagBytes: number;
  /** The tag for `bytes` (exactly `tagBytes` long). */
  sign(bytes: Uint8Array): Uint8Array;
  /** True when `tag` is the right tag for `bytes`; compare in constant time. */
  verify(bytes: Uint8Array, tag: Uint8Array): boolean;
}

export const MAX_TAG_BYTES = 255;

export function checkAuthenticator(authenticator: Authenticator | undefined, name: string): void {
  if (authenticator === undefined) return;
  const n = authenticator.tagBytes;
  if (!Number.isInteger(n) || n < 1 || n > MAX_TAG_BYTES) {
    throw new RangeError(`${name}.tagBytes: must be an integer from 1 to ${MAX_TAG_BYTES}, got ${String(n)}`);
  }
}

/**
 * What a receiver makes of a datagram's tag: accepted, or why not. `auth-required`: no key is
 * configured but the datagram is tagged; `untagged`: a key is configured but the datagram has no
 * tag; `unauthenticated`: the tag is wrong, or of the wrong length, for the key.
 */
export type TagVerdict = "accepted" | "auth-required" | "untagged" | "unauthenticated";

export function verifyTag(
  datagram: Pick<Datagram, "tag" | "tagBytes" | "signed">,
  authenticator: Authenticator | undefined,
): TagVerdict {
  if (authenticator === undefined) return datagram.tag === undefined ? "accepted" : "auth-required";
  if (datagram.tag === undefined) return "untagged";
  if (datagram.tagBytes !== authenticator.tagBytes || !authenticator.verify(datagram.signed, datagram.tag))
    return "unauthenticated";
  return "accepted";
}
