/**
 * Bounded calls to the Cloudflare API. The SDK's own retries are turned off (maxRetries: 0): it
 * would honour any Retry-After, however long. Here every call gets at most `attempts` tries, each
 * under a hard deadline that also covers reading the body; 429 waits for Retry-After (up to
 * `maxDelayMs`, and a longer ask is reported rather than obeyed), 408/409/5xx and timeouts or
 * connection errors back off exponentially. No call can hang.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "cloudflare";

import type { CallOptions } from "./endpoints";

export interface RetryPolicy {
  /** Total tries per call, at least 1. */
  readonly attempts: number;
  /** Deadline for one try (connect, headers and body). */
  readonly timeoutMs: number;
  /** First backoff delay; doubles each retry. */
  readonly baseDelayMs: number;
  /** Longest single wait, Retry-After included. */
  readonly maxDelayMs: number;
  /** Injected in tests; defaults to setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 3,
  timeoutMs: 15_000,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
};

export interface ApiErrorDetail {
  readonly code: number | undefined;
  readonly message: string;
}

export type CallOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly attempts: number }
  | {
      readonly ok: false;
      readonly kind: "http";
      readonly status: number;
      readonly errors: readonly ApiErrorDetail[];
      readonly attempts: number;
      /** Set when the server asked to wait longer than the policy allows. */
      readonly retryAfterMs?: number;
    }
  | { readonly ok: false; readonly kind: "timeout"; readonly attempts: number; readonly timeoutMs: number }
  | { readonly ok: false; readonly kind: "connection"; readonly message: string; readonly attempts: number };

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retry-After in ms (seconds or an HTTP date; `retry-after-ms` too), or undefined. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "" && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get("retry-after");
  if (value === null || value.trim() === "") return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.max(0, Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function errorDetails(error: APIError): ApiErrorDetail[] {
  const list = Array.isArray(error.errors) ? error.errors : [];
  return list.map((entry) => ({
    code: typeof entry.code === "number" ? entry.code : undefined,
    message: typeof entry.message === "string" ? entry.message : "",
  }));
}

class DeadlineExceeded extends Error {}

/** The innermost message of an error chain: "connect ECONNREFUSED 127.0.0.1:1", not "fetch failed". */
function rootCause(error: Error): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth++) {
    const cause = (current as { cause?: unknown }).cause;
    if (!(cause instanceof Error)) break;
    current = cause;
  }
  return (current as Error).message || error.message;
}

/** Runs one try under a hard deadline that covers the whole call, body included. */
async function withDeadline<T>(call: (options: CallOptions) => Promise<T>, timeoutMs: number): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new DeadlineExceeded());
    }, timeoutMs);
  });
  try {
    return await Promise.race([
      call({ maxRetries: 0, timeout: timeoutMs, signal: controller.signal }),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function callWithRetry<T>(
  call: (options: CallOptions) => Promise<T>,
  policy: RetryPolicy,
): Promise<CallOutcome<T>> {
  const attempts = Math.max(1, Math.floor(policy.attempts));
  const sleep = policy.sleep ?? sleepFor;
  let last: CallOutcome<T> = { ok: false, kind: "connection", message: "not attempted", attempts: 0 };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
    let wait = backoff;
    try {
      return { ok: true, value: await withDeadline(call, policy.timeoutMs), attempts: attempt };
    } catch (error) {
      if (
        error instanceof DeadlineExceeded ||
        error instanceof APIConnectionTimeoutError ||
        error instanceof APIUserAbortError
      ) {
        last = { ok: false, kind: "timeout", attempts: attempt, timeoutMs: policy.timeoutMs };
      } else if (error instanceof APIConnectionError) {
        last = { ok: false, kind: "connection", message: rootCause(error), attempts: attempt };
      } else if (error instanceof APIError && typeof error.status === "number") {
        const status = error.status;
        last = { ok: false, kind: "http", status, errors: errorDetails(error), attempts: attempt };
        const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
        if (!retryable) return last;
        const asked = retryAfterMs(error.headers);
        if (asked !== undefined) {
          if (asked > policy.maxDelayMs) return { ...last, retryAfterMs: asked };
          wait = asked;
        }
      } else {
        // Not an HTTP answer the SDK understood (e.g. a body that is not JSON): not worth retrying.
        const message = error instanceof Error ? error.message : String(error);
        return { ok: false, kind: "connection", message, attempts: attempt };
      }
    }
    if (attempt < attempts) await sleep(wait);
  }
  return last;
}

/** "403 (code 10000: Authentication error)" / "no answer within 2000 ms (3 attempts)". */
export function describeFailure(outcome: Exclude<CallOutcome<unknown>, { ok: true }>): string {
  const tries = outcome.attempts === 1 ? "1 attempt" : `${outcome.attempts} attempts`;
  switch (outcome.kind) {
    case "http": {
      const details = outcome.errors
        .map((e) => (e.code === undefined ? e.message : `code ${e.code}: ${e.message}`))
        .filter((text) => text !== "")
        .join("; ");
      const base = details === "" ? `${outcome.status}` : `${outcome.status} (${details})`;
      if (outcome.retryAfterMs !== undefined) {
        return `${base}, Retry-After ${Math.ceil(outcome.retryAfterMs / 1000)} s is longer than the verifier waits`;
      }
      const retried = outcome.status === 429 || outcome.status >= 500 || outcome.status === 408;
      return retried && outcome.attempts > 1 ? `${base} after ${tries}` : base;
    }
    case "timeout":
      return `no answer within ${outcome.timeoutMs} ms (${tries})`;
    case "connection":
      return `connection failed (${tries}): ${outcome.message}`;
  }
}
