/**
 * The viewers' token: `Authorization: Bearer TOKEN` or `?token=TOKEN`. Compared
 * in constant time (over SHA-256 digests, so that the length does not leak either).
 * The token is never logged: nothing here returns or prints it.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export type TokenCheck = (request: IncomingMessage, url: URL) => boolean;

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

/** Without a token configured every request passes. */
export function tokenCheck(token: string | undefined): TokenCheck {
  if (token === undefined) return () => true;
  const expected = digest(token);
  return (request, url) => {
    const header = request.headers.authorization;
    const bearer = header !== undefined && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, "") : undefined;
    const given = bearer ?? url.searchParams.get("token");
    return given !== null && timingSafeEqual(digest(given), expected);
  };
}
