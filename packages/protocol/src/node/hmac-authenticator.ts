import { createHmac, timingSafeEqual } from "node:crypto";
import type { Authenticator } from "../auth.js";

/** Bytes of HMAC-SHA-256 kept on each datagram: 128 bits, as in SRTP's strongest profiles. */
export const TAG_BYTES = 16;

/**
 * The udpcam apps' authenticator: HMAC-SHA-256 (node:crypto) over a datagram's header and
 * payload, keyed with the UTF-8 bytes of `key`, truncated to TAG_BYTES; tags compared in constant time.
 */
export function createHmacAuthenticator(key: string): Authenticator {
  const secret = new TextEncoder().encode(key);
  const sign = (bytes: Uint8Array): Uint8Array =>
    createHmac("sha256", secret).update(bytes).digest().subarray(0, TAG_BYTES);
  return {
    tagBytes: TAG_BYTES,
    sign,
    verify: (bytes, tag) => tag.length === TAG_BYTES && timingSafeEqual(sign(bytes), tag),
  };
}
