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
      // The compatibility date and flags, bindings (CONFIG_KV; RATE_LIMITER at 20 per 60 s) and vars
      // come from wrangler.jsonc, which tests/worker-bundle.test.ts holds equal to COMPATIBILITY_DATE,
      // COMPATIBILITY_FLAGS and the rest of worker/src/defaults.ts: the tests run at the date the
      // Worker deploys with. (Importing defaults.ts here would make Vite warn on every run.)
      wrangler: { configPath: fileURLToPath(new URL("wrangler.jsonc", import.meta.url)) },
      miniflare: {
        compatibilityFlags: [
          // Added to wrangler.jsonc's flags, for the tests only. From 2026-04-07 workerd answers a
          // WebSocket close frame by itself (web_socket_auto_reply_to_close). The pool drives its test
          // runner over a WebSocket and, at the end of each test file, closes it and disposes of
          // workerd without waiting for the close handshake; the automatic reply then meets a peer
          // that is gone, and workerd logs "WebSocket peer disconnected" (once per file). The Worker
          // uses no WebSocket, so the manual reply changes nothing it does and keeps a green run quiet.
          "web_socket_manual_reply_to_close",
        ],
        bindings: {
          PROVIDER_KEY: TEST_PROVIDER_KEY,
          PROVIDER_BASE_URL: "https://provider.test/openai/v1",
          ALLOWED_ORIGINS: "https://app.example.com,http://localhost:5173",
          // Every request logged, so the tests can check each line for the key.
          LOG_REQUESTS: "all",
          VERSION: "test-1.2.3",
        },
        ratelimits: { TEST_LIMITER_3: { simple: { limit: 3, period: 60 } } },
      },
    }),
  ],
  test: {
    name: "worker",
    dir: repoRoot,
    include: ["tests/worker/**/*.test.ts"],
    testTimeout: 15_000,
    // One workerd for all the files instead of one started and disposed of per file (10.1 -> 6.4 s
    // for the project). The files share its KV and rate limiters: each test uses keys of its own
    // (fresh client addresses, the config document deleted in a finally), and the files pass in any
    // order (--sequence.shuffle).
    isolate: false,
  },
});
