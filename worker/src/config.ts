/**
 * Validation of the Worker's vars and of the runtime config document. Pure: no Worker-only globals,
 * so the Pulumi program can call `readConfig` to refuse vars the Worker would refuse at run time.
 */
import { RUNTIME_CONFIG_KEY, RUNTIME_CONFIG_VARS, WORKER_VAR_DEFAULTS, type WorkerVarName } from "./defaults";

/** The plain-text vars as the Worker receives them (all optional: defaults apply). */
export type WorkerVars = Partial<Record<WorkerVarName, string>>;

export interface WorkerConfig {
  /** Chat-completions endpoint, e.g. https://api.groq.com/openai/v1/chat/completions. */
  readonly chatCompletionsUrl: string;
  readonly defaultModel: string;
  readonly allowedModels: ReadonlySet<string>;
  readonly allowedOrigins: ReadonlySet<string>;
  readonly maxBodyBytes: number;
  readonly maxMessages: number;
  readonly maxMessageChars: number;
  readonly maxOutputTokens: number;
  readonly maxN: number;
  /** Request body fields forwarded to the provider; anything else is refused. */
  readonly allowedBodyFields: ReadonlySet<string>;
  readonly providerTimeoutMs: number;
  readonly streamIdleTimeoutMs: number;
  /** Log successful requests too (LOG_REQUESTS "all"), not only failures and warnings. */
  readonly logAllRequests: boolean;
  readonly version: string;
}

export type ConfigResult = { ok: true; config: WorkerConfig } | { ok: false; problem: string };

function raw(vars: WorkerVars, name: WorkerVarName): string {
  const value = vars[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : WORKER_VAR_DEFAULTS[name];
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function positiveInt(vars: WorkerVars, name: WorkerVarName): number | string {
  const value = raw(vars, name);
  if (!/^[1-9][0-9]{0,8}$/.test(value)) return `${name} must be a positive integer, got "${value}"`;
  return Number(value);
}

/** The numeric config fields and the vars they come from (each a positive integer). */
const NUMBER_VARS = [
  ["maxBodyBytes", "MAX_BODY_BYTES"],
  ["maxMessages", "MAX_MESSAGES"],
  ["maxMessageChars", "MAX_MESSAGE_CHARS"],
  ["maxOutputTokens", "MAX_OUTPUT_TOKENS"],
  ["maxN", "MAX_N"],
  ["providerTimeoutMs", "PROVIDER_TIMEOUT_MS"],
  ["streamIdleTimeoutMs", "STREAM_IDLE_TIMEOUT_MS"],
] as const satisfies readonly (readonly [keyof WorkerConfig, WorkerVarName])[];

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
/** A JSON body field name as the OpenAI chat API spells them. */
const FIELD_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** Reads and checks the vars. Problems name the var, never a secret. */
export function readConfig(vars: WorkerVars): ConfigResult {
  const baseRaw = raw(vars, "PROVIDER_BASE_URL");
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

  // Only exact origins: "*" and "null" fail `new URL` or the origin round trip, so both are refused.
  const origins = list(raw(vars, "ALLOWED_ORIGINS"));
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

  const numbers: Partial<Record<(typeof NUMBER_VARS)[number][0], number>> = {};
  for (const [field, name] of NUMBER_VARS) {
    const value = positiveInt(vars, name);
    if (typeof value === "string") return { ok: false, problem: value };
    numbers[field] = value;
  }

  const fields = list(raw(vars, "ALLOWED_BODY_FIELDS"));
  const badField = fields.find((field) => !FIELD_NAME.test(field));
  if (badField !== undefined) {
    return { ok: false, problem: `ALLOWED_BODY_FIELDS entry "${badField}" is not a body field name` };
  }

  const logRequests = raw(vars, "LOG_REQUESTS");
  if (logRequests !== "all" && logRequests !== "failures") {
    return { ok: false, problem: `LOG_REQUESTS must be "all" or "failures", got "${logRequests}"` };
  }

  const defaultModel = raw(vars, "DEFAULT_MODEL");
  return {
    ok: true,
    config: {
      chatCompletionsUrl: `${base.href.replace(/\/+$/, "")}/chat/completions`,
      defaultModel,
      allowedModels: new Set([defaultModel, ...list(raw(vars, "ALLOWED_MODELS"))]),
      allowedOrigins: new Set(origins),
      ...(numbers as Record<(typeof NUMBER_VARS)[number][0], number>),
      allowedBodyFields: new Set(["model", "messages", ...fields]),
      logAllRequests: logRequests === "all",
      version: raw(vars, "VERSION"),
    },
  };
}

export type RuntimeOverlay = { ok: true; vars: WorkerVars } | { ok: false; problem: string };

/**
 * The vars with the runtime config document (CONFIG_KV `config`) laid over them. The document is a
 * JSON object whose keys are among RUNTIME_CONFIG_VARS; values are strings (as the vars), numbers, or
 * arrays of strings for the comma-separated lists. Anything else makes the whole document invalid.
 * Run `readConfig` on the result to check the values themselves.
 */
export function overlayRuntimeConfig(vars: WorkerVars, document: unknown): RuntimeOverlay {
  const where = `CONFIG_KV "${RUNTIME_CONFIG_KEY}"`;
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    return { ok: false, problem: `${where} must be a JSON object` };
  }
  const merged: WorkerVars = { ...vars };
  for (const [name, value] of Object.entries(document)) {
    if (!(RUNTIME_CONFIG_VARS as readonly string[]).includes(name)) {
      return {
        ok: false,
        problem: `${where} key "${name}" is not one of ${RUNTIME_CONFIG_VARS.join(", ")}`,
      };
    }
    let text: string | undefined;
    if (typeof value === "string") text = value;
    else if (typeof value === "number" && Number.isSafeInteger(value)) text = String(value);
    else if (Array.isArray(value) && value.every((item) => typeof item === "string" && !item.includes(","))) {
      text = value.join(",");
    }
    if (text === undefined || text.trim() === "") {
      return {
        ok: false,
        problem: `${where} key "${name}" must be a non-empty string, an integer or a string list`,
      };
    }
    merged[name as WorkerVarName] = text;
  }
  return { ok: true, vars: merged };
}
