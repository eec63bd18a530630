import { availableParallelism } from "node:os";

import { defineConfig } from "vitest/config";

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
          name: "node",
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 60_000,
          setupFiles: ["tests/setup/restore-env.ts"],
          include: ["tests/**/*.test.ts"],
          exclude: ["tests/worker/**", "node_modules/**"],
          // Each worker loads @pulumi/pulumi, the providers and the policy pack once for all its
          // files instead of once per file (most of the suite's time went to those imports). A file
          // that replaces a module (vi.doMock) resets the registry before it imports and after it
          // ends, so the replacement reaches only that file.
          isolate: false,
        },
      },
      "worker/vitest.config.mts",
    ],
  },
});
