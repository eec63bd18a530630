/**
 * Per-client rate limit on Cloudflare's Rate Limiting binding (RATE_LIMITER), called from app.ts.
 *
 * The limit and period (10 or 60 s) live in the binding's config, which the program declares; the
 * counters live in Cloudflare's rate-limiting infrastructure (that of its rate limiting rules), and
 * the limit applies per Cloudflare location
 * (https://developers.cloudflare.com/workers/runtime-apis/bindings/rate-limit/). Nothing is written
 * to KV: KV allows one write per second to a key (https://developers.cloudflare.com/kv/platform/limits/),
 * so a per-request counter there fails under the very traffic it should limit.
 */

/**
 * Seconds a refused client should wait. The binding reports no reset time; its windows are 10 or 60 s
 * long (aligned to the epoch in Miniflare's simulation), so the next minute boundary is the earliest
 * instant at which a fresh window has certainly begun for either period.
 */
export function retryAfterSeconds(nowMs: number): number {
  return 60 - (Math.floor(nowMs / 1000) % 60);
}
