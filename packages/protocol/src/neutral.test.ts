import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/** The library runs in Node and in browsers: its own modules use no Node API. */
describe("runtime neutrality", () => {
  const dir = new URL(".", import.meta.url);
  const library = readdirSync(dir).filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"));

  it.each(library)("%s imports nothing from node: and uses no Buffer or process", (name) => {
    const code = readFileSync(new URL(name, dir), "utf8");
    expect(code).not.toMatch(/from\s+["']node:|require\(|\bBuffer\.|\bprocess\./);
    // Only relative imports: the package has no dependencies.
    for (const [, target] of code.matchAll(/from\s+["']([^"']+)["']/g)) expect(target).toMatch(/^\.\/[\w-]+\.js$/);
  });

  it("leaves Node to the /node export, which uses node:crypto and this package only", () => {
    const nodeDir = new URL("node/", dir);
    const modules = readdirSync(nodeDir).filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"));
    expect(modules).toEqual(expect.arrayContaining(["index.ts", "hmac-authenticator.ts"]));
    for (const name of modules) {
      const code = readFileSync(new URL(name, nodeDir), "utf8");
      for (const [, target] of code.matchAll(/from\s+["']([^"']+)["']/g))
        expect(target).toMatch(/^(node:crypto|\.\.?\/[\w-]+\.js)$/);
    }
  });

  it("covers the modules", () => {
    expect(library).toEqual(expect.arrayContaining(["index.ts", "header.ts", "reassembler.ts", "fec.ts", "legacy.ts"]));
  });
});
