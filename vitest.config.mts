import { availableParallelism } from "node:os";

import { defineConfig } from "vitest/config";

/** Files that replace a module with vi.mock: they need a module registry of their own. */
const MODULE_MOCKING = ["tests/plan/internal-error.test.ts", "tests/plan/wildcard.test.ts"];

const nodeTest = {
  environment: "node" as const,
  testTimeout: 30_000,
  hookTimeout: 60_000,
  setupFiles: ["tests/setup/restore-env.ts"],
};

export default defineConfig({
  test: {
    // One worker per core. vitest's default (cores - 1) is a single worker on a 2-core machine, which
    // leaves a core idle while a test waits on wrangler, workerd or a child process; more workers than
    // cores measured slower (each loads the SDKs again, and the lint, format and type-check jobs of
    // `npm test` run beside them).
    maxWorkers: Math.max(2, availableParallelism()),
    projects: [
      {
        test: {
          ...nodeTest,
          name: "node",
          include: ["tests/**/*.test.ts"],
          exclude: ["tests/worker/**", "node_modules/**", ...MODULE_MOCKING],
          // Each worker loads @pulumi/pulumi, the providers and the policy pack once for all its
          // files instead of once per file (most of the suite's time went to those imports).
          isolate: false,
        },
      },
      {
        test: { ...nodeTest, name: "node-module-mocks", include: MODULE_MOCKING, isolate: true },
      },
      "worker/vitest.config.mts",
    ],
  },
});
