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
    // vitest's default on a 2-core machine is one worker (cores - 1), which leaves a core idle while a
    // test waits on wrangler, workerd or a child process; four keep both cores busy.
    maxWorkers: 4,
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
