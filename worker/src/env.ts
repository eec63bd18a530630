import type { WorkerVars } from "./config";

/**
 * The Worker's environment: the bindings named in WORKER_BINDINGS (defaults.ts) plus the plain-text
 * vars (all optional: defaults apply). Worker-only types, kept out of config.ts so that the program
 * can import the validator from Node.
 */
export type WorkerEnv = WorkerVars & {
  /** Runtime config (read-only for the Worker). Optional: without it the vars alone apply. */
  CONFIG_KV?: KVNamespace;
  /** The per-client rate limit. Required: without it every chat request is refused with 500. */
  RATE_LIMITER?: RateLimit;
  PROVIDER_KEY?: string;
};
