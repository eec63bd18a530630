import type { WorkerEnv } from "../../worker/src/env";

declare global {
  namespace Cloudflare {
    /** `env` from "cloudflare:workers": the Worker's environment as bound by worker/vitest.config.mts. */
    interface Env extends WorkerEnv {
      CONFIG_KV: KVNamespace;
      RATE_LIMITER: RateLimit;
      /** A second limiter with a small limit, for tests that exhaust one. */
      TEST_LIMITER_3: RateLimit;
    }
    interface GlobalProps {
      mainModule: typeof import("../../worker/src/index");
    }
  }
}
