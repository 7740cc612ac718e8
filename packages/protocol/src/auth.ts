import { NONCE_BYTES, writeNonce } from "./encryption.js";
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

/**
 * Encryption (flag E) is injected like authentication: an AEAD whose associated data is the header and
 * the salt. The apps pass ChaCha20-Poly1305 with a subkey per salt (`createKeyring` from
 * `@udpcam/protocol/node`). All calls are synchronous.
 */
export interface PayloadCipher {
  /** Length of every AEAD tag, 1..255 bytes (16 for the apps' cipher). */
  readonly tagBytes: number;
  /** Sender: the salt to seal this frame with (see `createSaltSchedule`: a salt never seals a frame twice). */
  saltFor(streamId: number, frameNumber: number): Uint8Array;
  /** The ciphertext of `plaintext` (same length) and its tag (`tagBytes`), under the subkey of `salt`. */
  seal(
    salt: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
  ): { readonly ciphertext: Uint8Array; readonly tag: Uint8Array };
  /** The plaintext, or undefined when `tag` does not verify for `salt`, `nonce` and `aad` under any key held. */
  open(
    salt: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
    tag: Uint8Array,
  ): Uint8Array | undefined;
  /**
   * Window FEC repairs of an encrypted stream (docs/protocol.md 1.8): a MAC of `bytes` (`tagBytes` long) under a
   * key derived for `salt` apart from the AEAD's subkey, so a repair spends no AEAD nonce. Signs with the first key.
   */
  signRepair(salt: Uint8Array, bytes: Uint8Array): Uint8Array;
  /** True when `tag` is the repair MAC of `bytes` for `salt` under any key held; compare in constant time. */
  verifyRepair(salt: Uint8Array, bytes: Uint8Array, tag: Uint8Array): boolean;
}

export function checkCipher(cipher: PayloadCipher | undefined, name: string): void {
  if (cipher === undefined) return;
  const n = cipher.tagBytes;
  if (!Number.isInteger(n) || n < 1 || n > MAX_TAG_BYTES)
    throw new RangeError(`${name}.tagBytes: must be an integer from 1 to ${MAX_TAG_BYTES}, got ${String(n)}`);
}

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
 * tag; `unauthenticated`: the tag is wrong, or of the wrong length, for the key (or the datagram is
 * encrypted and the receiver has no cipher); `unencrypted`: the datagram is authenticated only (flag A
 * without E) and the receiver has a cipher and no authenticator, so it accepts only encrypted ones.
 */
export type TagVerdict = "accepted" | "auth-required" | "untagged" | "unauthenticated" | "unencrypted";

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

/** What a receiver checks datagrams with: an authenticator (flag A alone), a cipher (flag E), or both. */
export interface Protection {
  readonly authenticator: Authenticator | undefined;
  readonly cipher: PayloadCipher | undefined;
}

const nonce = new Uint8Array(NONCE_BYTES);

/**
 * Checks a decoded datagram's tag and, when it is encrypted, opens it: the payload to use (plaintext),
 * or the reason it is refused. Nothing is changed before the tag verifies.
 */
export function openDatagram(
  d: Pick<
    Datagram,
    "tag" | "tagBytes" | "signed" | "encrypted" | "salt" | "aad" | "payload" | "streamId" | "frameNumber" | "chunkIndex"
  >,
  protection: Protection,
): Uint8Array | Exclude<TagVerdict, "accepted"> {
  const { authenticator, cipher } = protection;
  if (authenticator === undefined && cipher === undefined) return d.tag === undefined ? d.payload : "auth-required";
  if (d.tag === undefined) return "untagged";
  if (!d.encrypted) {
    if (authenticator === undefined) return "unencrypted";
    return verifyTag(d, authenticator) === "accepted" ? d.payload : "unauthenticated";
  }
  if (cipher === undefined || d.tagBytes !== cipher.tagBytes || d.salt === undefined) return "unauthenticated";
  writeNonce(nonce, d.streamId, d.frameNumber, d.chunkIndex);
  return cipher.open(d.salt, nonce, d.aad, d.payload, d.tag) ?? "unauthenticated";
}
