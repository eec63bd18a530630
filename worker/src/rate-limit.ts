/**
 * Fixed-window rate limit per client, counted in KV under `rl:<client>:<window index>`.
 *
 * Window index = floor(now / window), so windows are anchored at the Unix epoch and every client's
 * window resets at the same instants. KV is eventually consistent and has no atomic increment, so
 * the limit is approximate under concurrency (a burst across colos can exceed it slightly); that is
 * the documented trade-off of a KV limiter versus a Durable Object.
 */
export interface RateLimitDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Unix seconds when the current window ends. */
  readonly resetAt: number;
  /** Whole seconds until the window ends (at least 1). */
  readonly retryAfter: number;
}

/** KV's minimum expirationTtl. */
const KV_MIN_TTL_SECONDS = 60;

export function rateLimitKey(client: string, windowIndex: number): string {
  return `rl:${client}:${windowIndex}`;
}

export async function checkRateLimit(
  kv: KVNamespace,
  client: string,
  limit: number,
  windowSeconds: number,
  nowMs: number,
): Promise<RateLimitDecision> {
  const windowMs = windowSeconds * 1000;
  const index = Math.floor(nowMs / windowMs);
  const resetAtMs = (index + 1) * windowMs;
  const retryAfter = Math.max(1, Math.ceil((resetAtMs - nowMs) / 1000));
  const key = rateLimitKey(client, index);
  const stored = await kv.get(key);
  const count = stored === null ? 0 : Number.parseInt(stored, 10) || 0;
  const base = { limit, resetAt: resetAtMs / 1000, retryAfter };
  if (count >= limit) return { ...base, allowed: false, remaining: 0 };
  await kv.put(key, String(count + 1), { expirationTtl: Math.max(KV_MIN_TTL_SECONDS, retryAfter + 1) });
  return { ...base, allowed: true, remaining: limit - count - 1 };
}

export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  return {
    "X-RateLimit-Limit": String(decision.limit),
    "X-RateLimit-Remaining": String(decision.remaining),
    "X-RateLimit-Reset": String(Math.ceil(decision.resetAt)),
  };
}
