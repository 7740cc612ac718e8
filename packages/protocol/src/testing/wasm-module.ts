import wabt from "wabt";

/**
 * WebAssembly text to bytes with wabt's wat2wasm (the `wabt` dev dependency), as
 * scripts/gen-gf256-simd.mjs and the test that keeps src/gf256-simd-wasm.ts in step use it.
 * No name section: the embedded module carries only what runs. Not part of the published package.
 */
export async function compileWat(text: string, filename: string): Promise<Uint8Array> {
  const module = (await wabt()).parseWat(filename, text, { simd: true });
  try {
    module.validate();
    return module.toBinary({ write_debug_names: false }).buffer.slice();
  } finally {
    module.destroy();
  }
}

/** The TypeScript module that embeds `wasm`, as scripts/gen-gf256-simd.mjs writes it. */
export function renderWasmModule(wasm: Uint8Array, source: string, exportName: string): string {
  const rows: string[] = [];
  for (let i = 0; i < wasm.length; i += 16) {
    rows.push(`  ${Array.from(wasm.subarray(i, i + 16), (b) => `0x${b.toString(16).padStart(2, "0")}`).join(", ")},`);
  }
  return [
    `// Generated from ${source} by scripts/gen-gf256-simd.mjs (\`pnpm --filter @udpcam/protocol gen:wasm\`, with wabt): do not edit.`,
    "// gf256-simd.test.ts fails when this file and the .wat differ.",
    "",
    `/** The WebAssembly module compiled from ${source}, ${wasm.length} bytes. */`,
    `export const ${exportName} = new Uint8Array([`,
    ...rows,
    "]);",
    "",
  ].join("\n");
}
