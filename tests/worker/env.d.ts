import type { WorkerEnv } from "../../worker/src/config";

declare global {
  namespace Cloudflare {
    /** `env` from "cloudflare:workers": the Worker's environment as bound by worker/vitest.config.mts. */
    interface Env extends WorkerEnv {
      RATE_LIMIT_KV: KVNamespace;
    }
    interface GlobalProps {
      mainModule: typeof import("../../worker/src/index");
    }
  }
}
