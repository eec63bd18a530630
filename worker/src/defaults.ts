/**
 * The Worker's bindings, vars and platform settings, with their defaults. Pure data: imported by the
 * Worker itself and, from Node, by the Pulumi program (lib/worker-bundle.ts, lib/config.ts), the
 * tests and the benchmark. No Worker-only globals here.
 */

/**
 * The Workers compatibility date the Worker is tested at and deployed with: the newest date the
 * pinned workerd (miniflare 4.20260426.0, the last release that runs on Node 20) accepts. The worker
 * tests (worker/vitest.config.mts), worker/wrangler.jsonc and the stacks' default all use this one
 * value, so what ships is what was tested.
 */
export const COMPATIBILITY_DATE = "2026-04-26";

/**
 * Compatibility flags the Worker needs on top of the date. `enable_request_signal` makes the incoming
 * request's `signal` abort when the client disconnects, which the Worker forwards to the provider
 * call (https://developers.cloudflare.com/workers/configuration/compatibility-flags/).
 */
export const COMPATIBILITY_FLAGS: readonly string[] = ["enable_request_signal"];

/** Bindings the Worker expects (not plain vars). */
export const WORKER_BINDINGS = {
  /**
   * KV namespace holding read-mostly runtime config under RUNTIME_CONFIG_KEY (models, cost caps),
   * read with `cacheTtl` and cached per isolate. The Worker never writes to it.
   */
  kv: "CONFIG_KV",
  /** Rate Limiting binding (`ratelimit` type, `simple: {limit, period}`): per-client request budget. */
  rateLimiter: "RATE_LIMITER",
  /** Secret text binding: the LLM provider key. Never leaves the Worker. */
  providerKey: "PROVIDER_KEY",
} as const;

/**
 * Defaults of the RATE_LIMITER binding's `simple` config, which the program declares from the stack
 * config keys `rateLimitRequests` (limit) and `rateLimitPeriodSeconds` (period). Cloudflare accepts
 * only periods of 10 or 60 s, and counts per Cloudflare location
 * (https://developers.cloudflare.com/workers/runtime-apis/bindings/rate-limit/).
 */
export const RATE_LIMIT_DEFAULTS = { limit: 20, periodSeconds: 60 } as const;
export const RATE_LIMIT_PERIODS: readonly number[] = [10, 60];

/** The CONFIG_KV key of the runtime config document (a JSON object, see RUNTIME_CONFIG_VARS). */
export const RUNTIME_CONFIG_KEY = "config";

/** Names of the plain-text vars the Worker reads. */
export type WorkerVarName =
  | "PROVIDER_BASE_URL"
  | "DEFAULT_MODEL"
  | "ALLOWED_MODELS"
  | "ALLOWED_ORIGINS"
  | "MAX_BODY_BYTES"
  | "MAX_MESSAGES"
  | "MAX_MESSAGE_CHARS"
  | "MAX_OUTPUT_TOKENS"
  | "MAX_N"
  | "ALLOWED_BODY_FIELDS"
  | "PROVIDER_TIMEOUT_MS"
  | "STREAM_IDLE_TIMEOUT_MS"
  | "LOG_REQUESTS"
  | "VERSION";

/**
 * Defaults of the plain-text vars. A var that is missing or empty in the Worker's environment takes
 * its default here, except ALLOWED_ORIGINS whose default (empty) means "no browser origin allowed".
 *
 * - PROVIDER_BASE_URL: OpenAI-compatible API base; `/chat/completions` is appended. Must be https
 *   (plain http only for localhost / 127.0.0.1, for local development and benchmarks).
 * - DEFAULT_MODEL: used when the request names no model; always allowed.
 * - ALLOWED_MODELS: comma-separated model ids a request may name (besides DEFAULT_MODEL).
 * - ALLOWED_ORIGINS: comma-separated exact origins (`https://app.example.com`) allowed by CORS;
 *   `*` and `null` are refused.
 * - MAX_BODY_BYTES: request body limit. MAX_MESSAGES / MAX_MESSAGE_CHARS: shape limits.
 * - MAX_OUTPUT_TOKENS: `max_tokens` / `max_completion_tokens` are clamped to it; a request naming
 *   neither is sent with `max_tokens` set to it, so every call has a bounded cost.
 * - MAX_N: the largest `n` (choices per request) accepted; more is refused with 400.
 * - ALLOWED_BODY_FIELDS: comma-separated request body fields forwarded to the provider (`model` and
 *   `messages` always); a request with any other field is refused with 400 `unsupported_parameter`
 *   (refused rather than dropped, so a client never silently gets a different request than it sent).
 * - PROVIDER_TIMEOUT_MS: time the provider has for a whole non-streamed answer, or for the headers
 *   of a streamed one → 504 `provider_timeout`.
 * - STREAM_IDLE_TIMEOUT_MS: longest silence between two chunks of a streamed answer; the stream then
 *   ends with an SSE error event.
 * - LOG_REQUESTS: "failures" logs one JSON line for every request answered 4xx or 5xx, plus any
 *   warning (a stream cut, a limiter or KV failure); "all" adds a line for every successful request.
 *   Successes are off by default: Cloudflare's invocation logs record every request already, and a
 *   log line is the largest part of the Worker's own time per request.
 * - VERSION: reported by GET /health.
 */
export const WORKER_VAR_DEFAULTS: Readonly<Record<WorkerVarName, string>> = {
  PROVIDER_BASE_URL: "https://api.groq.com/openai/v1",
  DEFAULT_MODEL: "llama-3.3-70b-versatile",
  ALLOWED_MODELS: "llama-3.3-70b-versatile,llama-3.1-8b-instant",
  ALLOWED_ORIGINS: "",
  MAX_BODY_BYTES: "65536",
  MAX_MESSAGES: "64",
  MAX_MESSAGE_CHARS: "16000",
  MAX_OUTPUT_TOKENS: "2048",
  MAX_N: "1",
  ALLOWED_BODY_FIELDS:
    "model,messages,stream,stream_options,max_tokens,max_completion_tokens,n,temperature,top_p,stop," +
    "presence_penalty,frequency_penalty,seed,user,response_format,tools,tool_choice,parallel_tool_calls",
  PROVIDER_TIMEOUT_MS: "30000",
  STREAM_IDLE_TIMEOUT_MS: "15000",
  LOG_REQUESTS: "failures",
  VERSION: "dev",
};

export const WORKER_VAR_NAMES = /* @__PURE__ */ Object.keys(WORKER_VAR_DEFAULTS) as readonly WorkerVarName[];

/**
 * Vars the runtime config document in CONFIG_KV may override (the models and cost caps operators
 * change without a deploy). Never the provider URL (where the key is sent), the origins or the
 * timeouts. Values: strings as in the vars, numbers for the limits, arrays of strings for lists.
 */
export const RUNTIME_CONFIG_VARS: readonly WorkerVarName[] = [
  "DEFAULT_MODEL",
  "ALLOWED_MODELS",
  "MAX_MESSAGES",
  "MAX_MESSAGE_CHARS",
  "MAX_OUTPUT_TOKENS",
  "MAX_N",
  "ALLOWED_BODY_FIELDS",
];

/** How long an isolate uses the runtime config it read before reading CONFIG_KV again (seconds). */
export const RUNTIME_CONFIG_REFRESH_SECONDS = 60;
