// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/.turbo/**", "**/*.cjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ["*.js", "*.mjs", "scripts/*.mjs"] }, tsconfigRootDir: import.meta.dirname },
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
    files: ["apps/*/src/config.ts", "packages/appkit/src/run.ts", "apps/*/src/**/*.test.ts", "**/bench/**", "scripts/**", "tools/**", "**/*.config.*", "packages/video/src/opencv.ts", "packages/video/src/**/*.test.ts"],
    rules: { "no-restricted-syntax": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
);
