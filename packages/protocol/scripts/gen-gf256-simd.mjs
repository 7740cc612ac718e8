// Compiles src/gf256-simd.wat into src/gf256-simd-wasm.ts (the bytes as a Uint8Array literal) with
// wabt's wat2wasm (the `wabt` dev dependency), through src/testing/wasm-module.ts. Run
// `pnpm --filter @udpcam/protocol gen:wasm`, which builds first: this imports that module from
// dist/. gf256-simd.test.ts fails when the committed .ts and the .wat differ.
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { URL } from "node:url";
import { compileWat, renderWasmModule } from "../dist/testing/wasm-module.js";

const src = new URL("../src/", import.meta.url);
const wasm = await compileWat(readFileSync(new URL("gf256-simd.wat", src), "utf8"), "gf256-simd.wat");
writeFileSync(new URL("gf256-simd-wasm.ts", src), renderWasmModule(wasm, "gf256-simd.wat", "GF256_SIMD_WASM"));
process.stderr.write(`gen-gf256-simd: src/gf256-simd-wasm.ts, ${wasm.length} bytes\n`);
