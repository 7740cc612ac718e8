import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  scryptSync,
  timingSafeEqual,
} from "node:crypto";
import type { Authenticator, PayloadCipher } from "../auth.js";
import { createSaltSchedule, MAX_FRAMES_PER_SALT, SALT_BYTES } from "../encryption.js";
import { TAG_BYTES } from "./hmac-authenticator.js";

/**
 * The udpcam apps' keys, as both ends must derive them (docs/protocol.md 1.5):
 * - key material: the UTF-8 bytes of `--key` as they are (`keyFromSecret`), or 32 bytes stretched from
 *   a passphrase with scrypt (`keyFromPassphrase`), once per process start (and per reload);
 * - flag A alone: HMAC-SHA-256 keyed with the material, truncated to 16 bytes (as `createHmacAuthenticator`);
 * - flag E: ChaCha20-Poly1305 (RFC 8439), 16-byte tag, under the subkey
 *   HKDF-SHA-256(ikm = material, salt = the datagram's salt, info = "udpcam v1 payload chacha20-poly1305", 32 bytes);
 * - window FEC repairs of an encrypted stream: HMAC-SHA-256 truncated to 16 bytes, keyed with
 *   HKDF-SHA-256(ikm = material, salt = the repair's salt, info = REPAIR_INFO, 32 bytes): another key than the
 *   AEAD's for the same salt (HKDF's info separates them), and no nonce at all.
 * A keyring holds one key (a sender) or a few (a receiver in a rotation's grace period: the new key first).
 */

export type AeadAlgorithm = "chacha20-poly1305" | "aes-256-gcm";
export const DEFAULT_AEAD: AeadAlgorithm = "chacha20-poly1305";
export const AEAD_TAG_BYTES = 16;

/** scrypt's cost for passphrases: N = 2^15, r = 8, p = 1 (32 MiB, about 0.1-0.2 s here), a fixed salt. */
export const PASSPHRASE_SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
export const PASSPHRASE_SALT = "udpcam v1 passphrase";
/** The shortest passphrase accepted (SRT's minimum). */
export const MIN_PASSPHRASE_LENGTH = 10;
/** Salts whose subkey opened a datagram, kept so that a run's datagrams pay no HKDF. */
export const SUBKEY_CACHE_SIZE = 64;
/** HKDF's info for the repair MAC key: distinct from every payload AEAD's info. */
export const REPAIR_INFO = "udpcam v1 window repair hmac-sha-256";

/** A raw shared key (`--key`): its UTF-8 bytes, as the HMAC has always used them. */
export function keyFromSecret(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/** A passphrase stretched to 32 bytes: scrypt(NFC UTF-8 of the passphrase, PASSPHRASE_SALT). */
export function keyFromPassphrase(passphrase: string): Uint8Array {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH)
    throw new RangeError(`passphrase: at least ${MIN_PASSPHRASE_LENGTH} characters, got ${passphrase.length}`);
  return new Uint8Array(scryptSync(passphrase.normalize("NFC"), PASSPHRASE_SALT, 32, PASSPHRASE_SCRYPT));
}

/** The key material of a configured secret: a raw key as it is, a passphrase stretched. */
export function keyMaterial(spec: { readonly kind: "key" | "passphrase"; readonly secret: string }): Uint8Array {
  return spec.kind === "passphrase" ? keyFromPassphrase(spec.secret) : keyFromSecret(spec.secret);
}

/** Whether two keys are the same bytes (for "the file did not change"). */
export function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return equal(a, b);
}

export interface KeyringOptions {
  /** The AEAD of flag E. Default ChaCha20-Poly1305 (what the apps use; measured faster here than AES-256-GCM). */
  readonly algorithm?: AeadAlgorithm;
  /** Frames one salt seals before the sender takes a new one. Default 2^32 (tests make it small). */
  readonly maxFramesPerSalt?: number;
  /** Where salts come from. Default node:crypto's randomBytes. */
  readonly randomSalt?: () => Uint8Array;
}

export interface Keyring {
  /** Flag A alone: HMAC-SHA-256 with the first key; verifies with any key held. */
  readonly authenticator: Authenticator;
  /** Flag E: seals with the first key; opens with any key held. */
  readonly cipher: PayloadCipher;
  /** Replaces the keys (the first seals and signs); salts opened with a key no longer held are forgotten. */
  setKeys(keys: readonly Uint8Array[]): void;
  /** HKDF derivations so far (one per new salt and key tried): what forged salts cost a receiver. */
  readonly derivations: number;
}

interface Subkey {
  readonly salt: Uint8Array;
  readonly material: Uint8Array;
  readonly key: Buffer;
}

export function createKeyring(keys: readonly Uint8Array[], options: KeyringOptions = {}): Keyring {
  const algorithm = options.algorithm ?? DEFAULT_AEAD;
  const info = `udpcam v1 payload ${algorithm}`;
  const schedule = createSaltSchedule(
    options.randomSalt ?? (() => new Uint8Array(randomBytes(SALT_BYTES))),
    options.maxFramesPerSalt ?? MAX_FRAMES_PER_SALT,
  );
  let held: readonly Uint8Array[] = [];
  /** Most recently used first. */
  let cache: Subkey[] = [];
  /** Repair MAC keys, as `cache` for the AEAD's subkeys: most recently used first, cached once one verified. */
  let repairCache: Subkey[] = [];
  let derivations = 0;

  const setKeys = (next: readonly Uint8Array[]): void => {
    if (next.length === 0) throw new RangeError("keys: at least one key");
    for (const key of next) if (key.length === 0) throw new RangeError("keys: a key must not be empty");
    held = next.map((k) => new Uint8Array(k));
    cache = cache.filter((s) => held.some((k) => equal(k, s.material)));
    repairCache = repairCache.filter((s) => held.some((k) => equal(k, s.material)));
  };
  setKeys(keys);

  const derive = (material: Uint8Array, salt: Uint8Array, what = info): Buffer => {
    derivations++;
    return Buffer.from(hkdfSync("sha256", material, salt, what, 32));
  };
  const rememberRepair = (subkey: Subkey): void => {
    repairCache = [subkey, ...repairCache.filter((s) => s !== subkey)].slice(0, SUBKEY_CACHE_SIZE);
  };
  const repairMac = (key: Buffer, bytes: Uint8Array): Buffer =>
    createHmac("sha256", key).update(bytes).digest().subarray(0, AEAD_TAG_BYTES);
  const sealingKey = (salt: Uint8Array): Buffer => {
    const first = cache[0];
    if (first !== undefined && first.material === held[0] && equal(first.salt, salt)) return first.key;
    const subkey: Subkey = { salt: new Uint8Array(salt), material: held[0]!, key: derive(held[0]!, salt) };
    remember(subkey);
    return subkey.key;
  };
  const remember = (subkey: Subkey): void => {
    cache = [subkey, ...cache.filter((s) => s !== subkey)].slice(0, SUBKEY_CACHE_SIZE);
  };
  const tryOpen = (key: Buffer, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array) => {
    const decipher = createDecipheriv(
      // Both AEADs share these calls; the type of the one names them.
      algorithm as "chacha20-poly1305",
      key,
      nonce,
      { authTagLength: AEAD_TAG_BYTES },
    );
    decipher.setAAD(aad, { plaintextLength: ciphertext.length });
    decipher.setAuthTag(tag);
    const plaintext = decipher.update(ciphertext);
    try {
      decipher.final();
    } catch {
      return undefined;
    }
    return plaintext;
  };

  const cipher: PayloadCipher = {
    tagBytes: AEAD_TAG_BYTES,
    saltFor: (streamId, frameNumber) => schedule.saltFor(streamId, frameNumber),
    seal(salt, nonce, aad, plaintext) {
      const c = createCipheriv(algorithm as "chacha20-poly1305", sealingKey(salt), nonce, {
        authTagLength: AEAD_TAG_BYTES,
      });
      c.setAAD(aad, { plaintextLength: plaintext.length });
      const ciphertext = c.update(plaintext);
      c.final();
      return { ciphertext, tag: c.getAuthTag() };
    },
    open(salt, nonce, aad, ciphertext, tag) {
      if (tag.length !== AEAD_TAG_BYTES) return undefined;
      for (const subkey of cache) {
        if (!equal(subkey.salt, salt)) continue;
        const plaintext = tryOpen(subkey.key, nonce, aad, ciphertext, tag);
        if (plaintext !== undefined) {
          if (subkey !== cache[0]) remember(subkey);
          return plaintext;
        }
      }
      // A salt not seen yet (or not with this key): one HKDF per key held, cached only once it opens, so
      // forged salts cost a derivation each but never push a real run's subkey out.
      for (const material of held) {
        if (cache.some((s) => s.material === material && equal(s.salt, salt))) continue;
        const key = derive(material, salt);
        const plaintext = tryOpen(key, nonce, aad, ciphertext, tag);
        if (plaintext !== undefined) {
          remember({ salt: new Uint8Array(salt), material, key });
          return plaintext;
        }
      }
      return undefined;
    },
    signRepair(salt, bytes) {
      const first = repairCache[0];
      if (first !== undefined && first.material === held[0] && equal(first.salt, salt))
        return repairMac(first.key, bytes);
      const subkey: Subkey = {
        salt: new Uint8Array(salt),
        material: held[0]!,
        key: derive(held[0]!, salt, REPAIR_INFO),
      };
      rememberRepair(subkey);
      return repairMac(subkey.key, bytes);
    },
    verifyRepair(salt, bytes, tag) {
      if (tag.length !== AEAD_TAG_BYTES) return false;
      for (const subkey of repairCache) {
        if (!equal(subkey.salt, salt)) continue;
        if (timingSafeEqual(repairMac(subkey.key, bytes), tag)) {
          if (subkey !== repairCache[0]) rememberRepair(subkey);
          return true;
        }
      }
      // As `open`: one HKDF per key held for a salt not seen with it, cached only once a repair verified.
      for (const material of held) {
        if (repairCache.some((s) => s.material === material && equal(s.salt, salt))) continue;
        const key = derive(material, salt, REPAIR_INFO);
        if (timingSafeEqual(repairMac(key, bytes), tag)) {
          rememberRepair({ salt: new Uint8Array(salt), material, key });
          return true;
        }
      }
      return false;
    },
  };

  const sign = (material: Uint8Array, bytes: Uint8Array): Uint8Array =>
    createHmac("sha256", material).update(bytes).digest().subarray(0, TAG_BYTES);
  const authenticator: Authenticator = {
    tagBytes: TAG_BYTES,
    sign: (bytes) => sign(held[0]!, bytes),
    verify: (bytes, tag) => tag.length === TAG_BYTES && held.some((k) => timingSafeEqual(sign(k, bytes), tag)),
  };

  return {
    authenticator,
    cipher,
    setKeys,
    get derivations() {
      return derivations;
    },
  };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
