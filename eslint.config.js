// @ts-check
import js from "@eslint/js";
import vitest from "@vitest/eslint-plugin";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import { importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/.turbo/**", "**/*.cjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  { linterOptions: { reportUnusedDisableDirectives: "error" } },
  {
    // Plain JavaScript is not type-checked for globals: name the Node ones the root scripts use.
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
  {
    // Only the cycle rule: TypeScript already checks that imports resolve and names exist.
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": importX.flatConfigs.typescript.settings["import-x/extensions"],
      "import-x/parsers": importX.flatConfigs.typescript.settings["import-x/parsers"],
      "import-x/resolver-next": [
        createTypeScriptImportResolver({
          noWarnOnMultipleProjects: true,
          project: ["apps", "packages", "tools"].map((folder) => `${import.meta.dirname}/${folder}/*/tsconfig.json`),
        }),
      ],
    },
    rules: { "import-x/no-cycle": "error" },
  },
  {
    files: ["**/*.test.ts"],
    ...vitest.configs.recommended,
    rules: {
      ...vitest.configs.recommended.rules,
      "vitest/expect-expect": ["error", { assertFunctionNames: ["expect", "expect*", "fc.assert"] }],
      // vitest's expect takes a message as its second argument.
      "vitest/valid-expect": ["error", { maxArgs: 2 }],
      // The tests assert a union's kind and then narrow it with `if`, and table rows pick their matcher;
      // the rule reports exactly those, so it stays off.
      "vitest/no-conditional-expect": "off",
    },
  },
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ["*.js", "*.mjs", "scripts/*.mjs", "vitest.config.ts", "tools/e2e/vitest.config.ts"],
          defaultProject: "tsconfig.base.json",
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-syntax": [
        "error",
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: "Read the environment only in an app's config module (src/config.ts).",
        },
      ],
      "no-restricted-imports": [
        "error",
        { paths: [{ name: "@u4/opencv4nodejs", message: "Only packages/video may use OpenCV." }] },
      ],
    },
  },
  {
    files: ["packages/video/**"],
    rules: { "no-restricted-imports": "off" },
  },
  {
    files: [
      "apps/*/src/config.ts",
      "packages/appkit/src/run.ts",
      "apps/*/src/**/*.test.ts",
      "**/bench/**",
      "scripts/**",
      "tools/**",
      "**/*.config.*",
      "packages/video/src/opencv.ts",
      "packages/video/src/**/*.test.ts",
    ],
    rules: { "no-restricted-syntax": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
);
