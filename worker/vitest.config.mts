import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineProject } from "vitest/config";

/** The provider key the tests give the Worker; the tests assert it never leaves the Worker. */
const TEST_PROVIDER_KEY = "gsk_TEST_c0ffee_never_leak_this_7f3a91d2";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));

export default defineProject({
  root: repoRoot,
  plugins: [
    cloudflareTest({
      main: fileURLToPath(new URL("src/index.ts", import.meta.url)),
      wrangler: { configPath: fileURLToPath(new URL("wrangler.jsonc", import.meta.url)) },
      miniflare: {
        bindings: {
          PROVIDER_KEY: TEST_PROVIDER_KEY,
          PROVIDER_BASE_URL: "https://provider.test/openai/v1",
          ALLOWED_ORIGINS: "https://app.example.com,http://localhost:5173",
          VERSION: "test-1.2.3",
        },
      },
    }),
  ],
  test: {
    name: "worker",
    dir: repoRoot,
    include: ["tests/worker/**/*.test.ts"],
    testTimeout: 15_000,
  },
});
