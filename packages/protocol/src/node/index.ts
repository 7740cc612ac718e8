// `@udpcam/protocol/node`: what needs Node's built-ins (node:crypto only). The package root stays runtime-neutral.
export type { Authenticator } from "../auth.js";
export { createHmacAuthenticator, TAG_BYTES } from "./hmac-authenticator.js";
