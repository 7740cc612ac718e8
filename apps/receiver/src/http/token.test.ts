import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { tokenCheck } from "./token.js";

function request(authorization?: string): IncomingMessage {
  return { headers: authorization === undefined ? {} : { authorization } } as IncomingMessage;
}
const url = (query = "") => new URL(`http://x/api/streams${query}`);

describe("token check", () => {
  const check = tokenCheck("correct horse");

  it("passes everything when no token is set", () => {
    expect(tokenCheck(undefined)(request(), url())).toBe(true);
  });

  it.each([
    { name: "a bearer token", req: request("Bearer correct horse"), query: "", ok: true },
    { name: "a bearer token, any case", req: request("bearer correct horse"), query: "", ok: true },
    { name: "?token=", req: request(), query: "?token=correct%20horse", ok: true },
    { name: "nothing", req: request(), query: "", ok: false },
    { name: "a wrong bearer token", req: request("Bearer correct horsE"), query: "", ok: false },
    { name: "a prefix of the token", req: request(), query: "?token=correct", ok: false },
    { name: "a longer token", req: request(), query: "?token=correct%20horse%20battery", ok: false },
    { name: "basic auth", req: request("Basic Y29ycmVjdCBob3JzZQ=="), query: "", ok: false },
  ])("$name: $ok", ({ req, query, ok }) => {
    expect(check(req, url(query))).toBe(ok);
  });
});
