import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "udpcam-protocol-pack-"));

afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
}

/** What a user's project does: install the tarball, import the package by name, use it. */
const CONSUMER = `
import { createReassembler, packetizeFrame, decodeDatagram, ProtocolError, DEFAULT_MAX_DATAGRAM_BYTES } from "@udpcam/protocol";
import { createHmacAuthenticator, TAG_BYTES } from "@udpcam/protocol/node";
const payload = new Uint8Array(50_000).map((_, i) => (i * 31) & 0xff);
const authenticator = createHmacAuthenticator("a key for the packed package");
const datagrams = packetizeFrame({ streamId: 42, frameNumber: 7, codec: "jpeg", width: 640, height: 480, fps: 25, timestampMs: 1_700_000_000_000, payload }, { authenticator });
const r = createReassembler({ authenticator });
const frames = datagrams.slice(1).reverse().flatMap((d) => r.push(d, 0)).filter((e) => e.type === "frame");
let threw = "";
try { decodeDatagram(Uint8Array.of(0x55, 0x43)); } catch (e) { threw = ProtocolError.isInstance(e) ? e.code : "other"; }
const f = frames[0];
console.log(JSON.stringify({
  datagrams: datagrams.length,
  largest: Math.max(...datagrams.map((d) => d.length)),
  limit: DEFAULT_MAX_DATAGRAM_BYTES,
  frames: frames.length,
  same: f !== undefined && f.payload.length === payload.length && f.payload.every((b, i) => b === payload[i]),
  recovered: f?.recovered,
  threw,
  tagBytes: decodeDatagram(datagrams[0]).tagBytes === TAG_BYTES,
}));
`;

describe("the published package", () => {
  it("packs ESM and .d.ts only, installs with npm into an empty project, and works there (root and /node)", () => {
    run("pnpm", ["run", "build"], PACKAGE_DIR);
    run("pnpm", ["pack", "--pack-destination", work], PACKAGE_DIR);
    const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"));
    expect(tarball).toBeDefined();

    const listing = run("tar", ["-tzf", join(work, tarball!)], work)
      .trim()
      .split("\n")
      .sort();
    expect(listing).toContain("package/dist/index.js");
    expect(listing).toContain("package/dist/index.d.ts");
    expect(listing).toContain("package/dist/node/index.js");
    expect(listing).toContain("package/dist/node/index.d.ts");
    expect(listing).toContain("package/package.json");
    expect(listing.filter((f) => /\.test\.|\/bench\/|\/testing\//.test(f))).toEqual([]);
    expect(
      listing.every((f) =>
        /^package\/(dist\/(node\/)?[\w.-]+\.(js|d\.ts|js\.map|d\.ts\.map)|package\.json|README\.md)$/.test(f),
      ),
    ).toBe(true);

    const project = join(work, "consumer");
    run("mkdir", ["-p", project], work);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    // Offline: the package has no dependencies, so npm needs nothing but the tarball.
    run("npm", ["install", "--offline", "--no-audit", "--no-fund", join(work, tarball!)], project);
    writeFileSync(join(project, "main.mjs"), CONSUMER);
    const out = JSON.parse(run(process.execPath, ["main.mjs"], project)) as Record<string, unknown>;
    expect(out).toEqual({
      datagrams: 40,
      largest: 1472,
      limit: 1472,
      frames: 1,
      same: true,
      recovered: true,
      threw: "TRUNCATED",
      tagBytes: true,
    });
  }, 180_000);
});
