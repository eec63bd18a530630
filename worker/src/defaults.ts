/**
 * The Worker's bindings and plain-text vars, with their defaults. Pure data: imported by the Worker
 * itself and, from Node, by lib/worker-bundle.ts (which the Edge Worker component uses to deploy it).
 */

/** Bindings the Worker expects (not plain vars). */
export const WORKER_BINDINGS = {
  /** KV namespace holding the per-client fixed-window rate-limit counters. */
  kv: "RATE_LIMIT_KV",
  /** Secret text binding: the LLM provider key. Never leaves the Worker. */
  providerKey: "PROVIDER_KEY",
} as const;

/** Names of the plain-text vars the Worker reads. */
export type WorkerVarName =
  | "PROVIDER_BASE_URL"
  | "DEFAULT_MODEL"
  | "ALLOWED_MODELS"
  | "ALLOWED_ORIGINS"
  | "RATE_LIMIT_REQUESTS"
  | "RATE_LIMIT_WINDOW_SECONDS"
  | "MAX_BODY_BYTES"
  | "MAX_MESSAGES"
  | "MAX_MESSAGE_CHARS"
  | "VERSION";

/**
 * Defaults of the plain-text vars. A var that is missing or empty in the Worker's environment takes
 * its default here, except ALLOWED_ORIGINS whose default (empty) means "no browser origin allowed".
 *
 * - PROVIDER_BASE_URL: OpenAI-compatible API base; `/chat/completions` is appended. Must be https
 *   (plain http only for localhost / 127.0.0.1, for local development and benchmarks).
 * - DEFAULT_MODEL: used when the request names no model; always allowed.
 * - ALLOWED_MODELS: comma-separated model ids a request may name (besides DEFAULT_MODEL).
 * - ALLOWED_ORIGINS: comma-separated exact origins (`https://app.example.com`) allowed by CORS.
 * - RATE_LIMIT_REQUESTS / RATE_LIMIT_WINDOW_SECONDS: fixed window per client IP.
 * - MAX_BODY_BYTES: request body limit. MAX_MESSAGES / MAX_MESSAGE_CHARS: shape limits.
 * - VERSION: reported by GET /health.
 */
export const WORKER_VAR_DEFAULTS: Readonly<Record<WorkerVarName, string>> = {
  PROVIDER_BASE_URL: "https://api.groq.com/openai/v1",
  DEFAULT_MODEL: "llama-3.3-70b-versatile",
  ALLOWED_MODELS: "llama-3.3-70b-versatile,llama-3.1-8b-instant",
  ALLOWED_ORIGINS: "",
  RATE_LIMIT_REQUESTS: "20",
  RATE_LIMIT_WINDOW_SECONDS: "60",
  MAX_BODY_BYTES: "65536",
  MAX_MESSAGES: "64",
  MAX_MESSAGE_CHARS: "16000",
  VERSION: "dev",
};

export const WORKER_VAR_NAMES = Object.keys(WORKER_VAR_DEFAULTS) as readonly WorkerVarName[];
