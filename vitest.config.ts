// One vitest configuration for every package. A package's `vitest run` finds this file by looking
// upward from its directory; the root stays that package's directory, so it runs only its own tests.
// A package that needs more (tools/e2e) has its own vitest.config.ts that merges this one.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 60_000,
    // Naming any reporter replaces vitest's default, so "default" is named too.
    reporters: ["default", "json"],
    // Each package's results, which scripts/test-summary.mjs sums by this name (gitignored).
    outputFile: { json: ".test-report.json" },
  },
});
