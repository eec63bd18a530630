import { WORKER_VAR_DEFAULTS, type WorkerVarName } from "./defaults";

/** The Worker's environment: bindings plus plain-text vars (all vars optional, defaults apply). */
export type WorkerEnv = {
  RATE_LIMIT_KV: KVNamespace;
  PROVIDER_KEY?: string;
} & Partial<Record<WorkerVarName, string>>;

export interface WorkerConfig {
  /** Chat-completions endpoint, e.g. https://api.groq.com/openai/v1/chat/completions. */
  readonly chatCompletionsUrl: string;
  readonly defaultModel: string;
  readonly allowedModels: ReadonlySet<string>;
  readonly allowedOrigins: ReadonlySet<string>;
  readonly rateLimitRequests: number;
  readonly rateLimitWindowSeconds: number;
  readonly maxBodyBytes: number;
  readonly maxMessages: number;
  readonly maxMessageChars: number;
  readonly version: string;
}

export type ConfigResult = { ok: true; config: WorkerConfig } | { ok: false; problem: string };

function raw(env: WorkerEnv, name: WorkerVarName): string {
  const value = env[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : WORKER_VAR_DEFAULTS[name];
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function positiveInt(env: WorkerEnv, name: WorkerVarName): number | string {
  const value = raw(env, name);
  if (!/^[1-9][0-9]{0,8}$/.test(value)) return `${name} must be a positive integer, got "${value}"`;
  return Number(value);
}

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Reads and checks the vars. Problems name the var, never a secret. */
export function readConfig(env: WorkerEnv): ConfigResult {
  const baseRaw = raw(env, "PROVIDER_BASE_URL");
  let base: URL;
  try {
    base = new URL(baseRaw);
  } catch {
    return { ok: false, problem: `PROVIDER_BASE_URL is not a URL: "${baseRaw}"` };
  }
  if (base.protocol !== "https:" && !(base.protocol === "http:" && LOCAL_HOSTS.has(base.hostname))) {
    return { ok: false, problem: "PROVIDER_BASE_URL must use https (http only for localhost)" };
  }
  if (base.username !== "" || base.password !== "" || base.search !== "" || base.hash !== "") {
    return { ok: false, problem: "PROVIDER_BASE_URL must not carry credentials, a query or a fragment" };
  }

  const origins = list(raw(env, "ALLOWED_ORIGINS"));
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || parsed.origin !== origin) {
      return {
        ok: false,
        problem: `ALLOWED_ORIGINS entry "${origin}" is not an exact origin like https://app.example.com`,
      };
    }
  }

  const numbers = {
    rateLimitRequests: positiveInt(env, "RATE_LIMIT_REQUESTS"),
    rateLimitWindowSeconds: positiveInt(env, "RATE_LIMIT_WINDOW_SECONDS"),
    maxBodyBytes: positiveInt(env, "MAX_BODY_BYTES"),
    maxMessages: positiveInt(env, "MAX_MESSAGES"),
    maxMessageChars: positiveInt(env, "MAX_MESSAGE_CHARS"),
  };
  for (const value of Object.values(numbers)) {
    if (typeof value === "string") return { ok: false, problem: value };
  }

  const defaultModel = raw(env, "DEFAULT_MODEL");
  return {
    ok: true,
    config: {
      chatCompletionsUrl: `${base.href.replace(/\/+$/, "")}/chat/completions`,
      defaultModel,
      allowedModels: new Set([defaultModel, ...list(raw(env, "ALLOWED_MODELS"))]),
      allowedOrigins: new Set(origins),
      rateLimitRequests: numbers.rateLimitRequests as number,
      rateLimitWindowSeconds: numbers.rateLimitWindowSeconds as number,
      maxBodyBytes: numbers.maxBodyBytes as number,
      maxMessages: numbers.maxMessages as number,
      maxMessageChars: numbers.maxMessageChars as number,
      version: raw(env, "VERSION"),
    },
  };
}
