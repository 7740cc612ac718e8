// The end-to-end suites start real processes and sockets: longer timeouts, one file at a time.
import { defineConfig, mergeConfig } from "vitest/config";
import base from "../../vitest.config.js";

export default mergeConfig(
  base,
  defineConfig({
    test: {
      testTimeout: 180_000,
      hookTimeout: 60_000,
      fileParallelism: false,
    },
  }),
);
