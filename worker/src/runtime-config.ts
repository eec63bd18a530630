/**
 * The Worker's effective config: the vars, parsed once per isolate, with the runtime config document
 * from CONFIG_KV laid over them.
 *
 * KV is eventually consistent and meant for read-mostly data
 * (https://developers.cloudflare.com/kv/concepts/how-kv-works/): the document is read with `cacheTtl`
 * (cached at the Cloudflare location, https://developers.cloudflare.com/kv/api/read-key-value-pairs/)
 * and then kept in the isolate for RUNTIME_CONFIG_REFRESH_SECONDS, refreshed after that in the
 * background (`ctx.waitUntil`) while requests go on with the copy they have. So a request reads KV
 * only when its isolate has no copy yet, and an operator's change is live everywhere within about two
 * refresh periods. A missing, invalid or unreadable document leaves the vars in force (with a warning
 * in the log); it never fails a request.
 */
import { overlayRuntimeConfig, readConfig, type ConfigResult, type WorkerConfig } from "./config";
import { RUNTIME_CONFIG_KEY, RUNTIME_CONFIG_REFRESH_SECONDS } from "./defaults";
import type { WorkerEnv } from "./env";
import { describeError } from "./log";

/** KV's own cache of the document at the location (seconds; at or above KV's minimum for cacheTtl). */
const KV_CACHE_TTL_SECONDS = 60;
const REFRESH_MS = RUNTIME_CONFIG_REFRESH_SECONDS * 1000;
const INVALID = "runtime config invalid; using the vars";

export type Warn = (message: string, fields?: Record<string, string>) => void;

interface Cached {
  /** The vars alone, parsed once. */
  readonly vars: ConfigResult;
  /** The vars with the runtime document, as last read. */
  runtime: { ok: true; config: WorkerConfig } | undefined;
  /** When `runtime` is due for a refresh (ms since the epoch). */
  refreshAt: number;
  refreshing: boolean;
}

// Keyed on the env object: the runtime hands an isolate the same env on every request, and a
// different env (another binding set, a test's overrides) gets its own parse.
const cache = new WeakMap<object, Cached>();

async function load(kv: KVNamespace, env: WorkerEnv, vars: WorkerConfig, warn: Warn): Promise<WorkerConfig> {
  let text: string | null;
  try {
    text = await kv.get(RUNTIME_CONFIG_KEY, { type: "text", cacheTtl: KV_CACHE_TTL_SECONDS });
  } catch (error) {
    warn("runtime config unreadable; using the vars", {
      error: describeError(error),
    });
    return vars;
  }
  if (text === null) return vars;
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    warn(INVALID, {
      problem: `CONFIG_KV "${RUNTIME_CONFIG_KEY}" is not JSON`,
    });
    return vars;
  }
  const overlay = overlayRuntimeConfig(env, document);
  const result = overlay.ok ? readConfig(overlay.vars) : overlay;
  if (!result.ok) {
    warn(INVALID, { problem: result.problem });
    return vars;
  }
  return result.config;
}

/**
 * The config for a request. Synchronous (no promise, no await) on the hot path: the isolate's copy is
 * fresh, or stale with its refresh handed to `waitUntil`; a promise only when there is no copy yet.
 */
export function effectiveConfig(
  env: WorkerEnv,
  nowMs: number,
  waitUntil: ((promise: Promise<unknown>) => void) | undefined,
  warn: Warn,
): ConfigResult | Promise<ConfigResult> {
  let entry = cache.get(env);
  if (entry === undefined) {
    entry = { vars: readConfig(env), runtime: undefined, refreshAt: 0, refreshing: false };
    cache.set(env, entry);
  }
  const kv = env.CONFIG_KV;
  if (!entry.vars.ok || kv === undefined) return entry.vars;
  const current = entry;
  const vars = entry.vars.config;
  const update = (config: WorkerConfig): { ok: true; config: WorkerConfig } => {
    current.runtime = { ok: true, config };
    current.refreshAt = nowMs + REFRESH_MS;
    return current.runtime;
  };
  if (current.runtime === undefined || waitUntil === undefined) {
    if (current.runtime !== undefined && nowMs < current.refreshAt) return current.runtime;
    return load(kv, env, vars, warn).then(update);
  }
  if (nowMs >= current.refreshAt && !current.refreshing) {
    // Stale: refresh in the background; only the value crosses to later requests, never a promise.
    current.refreshing = true;
    waitUntil(
      load(kv, env, vars, warn)
        .then(update)
        .finally(() => {
          current.refreshing = false;
        }),
    );
  }
  return current.runtime;
}
