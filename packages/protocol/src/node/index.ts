// `@udpcam/protocol/node`: what needs Node's built-ins (node:crypto only). The package root stays runtime-neutral.
export type { Authenticator, PayloadCipher } from "../auth.js";
export { createHmacAuthenticator, TAG_BYTES } from "./hmac-authenticator.js";
export {
  createKeyring,
  keyFromPassphrase,
  keyFromSecret,
  keyMaterial,
  sameKey,
  AEAD_TAG_BYTES,
  DEFAULT_AEAD,
  MIN_PASSPHRASE_LENGTH,
  PASSPHRASE_SALT,
  PASSPHRASE_SCRYPT,
  REPAIR_INFO,
  SUBKEY_CACHE_SIZE,
  type AeadAlgorithm,
  type Keyring,
  type KeyringOptions,
} from "./keyring.js";
