// @ts-check
import eslint from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/bin/**",
      "dist/**",
      "worker/dist/**",
      "**/.wrangler/**",
      "coverage/**",
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // The Pulumi program: an Output in a template literal renders as a warning string, not its value.
    // Typed linting builds a TypeScript program, so it is limited to where Outputs are handled:
    // index.ts and the components (lib/ is pure logic on plain values).
    files: ["index.ts", "components/**/*.ts"],
    plugins: { "@pulumi": pulumi },
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
    },
  },
  {
    // The program never depends on the tools; the tools may read the program's pure logic.
    files: ["index.ts", "components/**/*.ts", "lib/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/tools/**"],
              message: "The program must not import the tools (tools/ reads the program, never the reverse).",
            },
          ],
        },
      ],
    },
  },
  {
    // The tools (offline plan, verifier, sweeper, benchmarks): command-line programs run with tsx.
    files: ["tools/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/components/**"],
              message: "Tools use the program through index.ts and lib/, not its components.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.mjs", "**/*.cjs", "**/*.js"],
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        require: "readonly",
        module: "writable",
        __dirname: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
