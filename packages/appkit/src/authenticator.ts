import { createHmac, timingSafeEqual } from "node:crypto";

/** Bytes of HMAC-SHA-256 kept on each datagram: 128 bits, as in SRTP's strongest profiles. */
export const TAG_BYTES = 16;

export interface Authenticator {
  readonly tagBytes: number;
  sign(bytes: Uint8Array): Uint8Array;
  verify(bytes: Uint8Array, tag: Uint8Array): boolean;
}

/** HMAC-SHA-256 over a datagram's header and payload, truncated to 16 bytes. */
export function createAuthenticator(key: string): Authenticator {
  const secret = Buffer.from(key, "utf8");
  const sign = (bytes: Uint8Array): Uint8Array => createHmac("sha256", secret).update(bytes).digest().subarray(0, TAG_BYTES);
  return {
    tagBytes: TAG_BYTES,
    sign,
    verify: (bytes, tag) => tag.length === TAG_BYTES && timingSafeEqual(sign(bytes), tag),
  };
}
