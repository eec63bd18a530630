/**
 * Bounded calls to the Cloudflare API. The SDK's own retries are turned off (maxRetries: 0): it
 * would honour any Retry-After, however long. Here every call gets at most `attempts` tries, each
 * under a hard deadline that also covers reading the body; 429 waits for Retry-After (up to
 * `maxDelayMs`, and a longer ask is reported rather than obeyed), 408/409/5xx and timeouts or
 * connection errors back off exponentially. No call can hang.
 */
import { APIConnectionTimeoutError, APIError, APIUserAbortError } from "cloudflare";

import { NotAnApiAnswer, RedirectRefused, type CallOptions } from "./endpoints";

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
  /**
   * The whole run's deadline (epoch ms, Date.now clock): no try starts after it and no try or wait
   * runs past it, whatever timeoutMs, attempts and Retry-After add up to.
   */
  readonly deadline?: number;
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
  /** The run's overall deadline passed before or during this call. */
  | { readonly ok: false; readonly kind: "deadline"; readonly attempts: number }
  /** The API host's name did not resolve. */
  | { readonly ok: false; readonly kind: "dns"; readonly message: string; readonly attempts: number }
  /** Nothing listens at the API address. */
  | { readonly ok: false; readonly kind: "refused"; readonly message: string; readonly attempts: number }
  /** The answer was a redirect; never followed. */
  | {
      readonly ok: false;
      readonly kind: "redirect";
      readonly status: number;
      readonly targetOrigin: string | undefined;
      readonly sameOrigin: boolean;
      readonly attempts: number;
    }
  /** The answer was not Cloudflare's JSON envelope, or not shaped as documented. */
  | {
      readonly ok: false;
      readonly kind: "not-api";
      readonly status: number;
      readonly problem: string;
      readonly attempts: number;
    }
  | { readonly ok: false; readonly kind: "connection"; readonly message: string; readonly attempts: number };

export type CallFailure = Exclude<CallOutcome<unknown>, { ok: true }>;

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

/** Every error in a cause chain, outermost first. */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NODATA", "EAI_NONAME", "EAI_FAIL"]);

/** A failure that is not an HTTP status: what kind, from the whole cause chain. */
function classifyThrown(error: unknown, attempt: number): CallFailure | undefined {
  const chain = causeChain(error);
  for (const link of chain) {
    if (link instanceof RedirectRefused) {
      return {
        ok: false,
        kind: "redirect",
        status: link.status,
        targetOrigin: link.targetOrigin,
        sameOrigin: link.sameOrigin,
        attempts: attempt,
      };
    }
    if (link instanceof NotAnApiAnswer) {
      return { ok: false, kind: "not-api", status: link.status, problem: link.problem, attempts: attempt };
    }
  }
  const codes = chain.map((link) => (link as { code?: unknown }).code).filter((c) => typeof c === "string");
  const message = error instanceof Error ? rootCause(error) : String(error);
  if (codes.some((code) => DNS_CODES.has(code as string)))
    return { ok: false, kind: "dns", message, attempts: attempt };
  if (codes.includes("ECONNREFUSED")) return { ok: false, kind: "refused", message, attempts: attempt };
  return undefined;
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
  const remaining = () => (policy.deadline === undefined ? Infinity : policy.deadline - Date.now());
  let last: CallOutcome<T> = { ok: false, kind: "deadline", attempts: 0 };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const left = remaining();
    if (left <= 0) return attempt === 1 ? last : { ok: false, kind: "deadline", attempts: attempt - 1 };
    const cappedByDeadline = left < policy.timeoutMs;
    const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
    let wait = backoff;
    try {
      const tryTimeout = Math.max(1, Math.min(policy.timeoutMs, Math.ceil(left)));
      return { ok: true, value: await withDeadline(call, tryTimeout), attempts: attempt };
    } catch (error) {
      if (
        error instanceof DeadlineExceeded ||
        error instanceof APIConnectionTimeoutError ||
        error instanceof APIUserAbortError
      ) {
        if (cappedByDeadline) return { ok: false, kind: "deadline", attempts: attempt };
        last = { ok: false, kind: "timeout", attempts: attempt, timeoutMs: policy.timeoutMs };
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
        const known = classifyThrown(error, attempt);
        // A redirect or an answer that is not the API's is not worth retrying; neither is a name
        // that does not resolve. A refused or reset connection may be a restart: retried.
        if (known !== undefined && known.kind !== "refused") return known;
        last = known ?? {
          ok: false,
          kind: "connection",
          message: error instanceof Error ? rootCause(error) : String(error),
          attempts: attempt,
        };
      }
    }
    if (attempt < attempts) {
      if (wait >= remaining()) return { ok: false, kind: "deadline", attempts: attempt };
      await sleep(wait);
    }
  }
  return last;
}

/**
 * The API refused the token itself (unknown, revoked, or the other owner's verify form): 401/403, or
 * 400 with code 1000 "Invalid API Token" (the form Cloudflare also uses for an unknown token).
 */
export function isTokenRejection(outcome: CallFailure): boolean {
  return (
    outcome.kind === "http" &&
    (outcome.status === 401 ||
      outcome.status === 403 ||
      (outcome.status === 400 && outcome.errors.some((error) => error.code === 1000)))
  );
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
    case "deadline":
      return outcome.attempts === 0
        ? "not run: the overall deadline had passed"
        : `cut off by the overall deadline (${tries})`;
    case "dns":
      return `the API host name did not resolve (${outcome.message})`;
    case "refused":
      return `connection refused (${tries}): ${outcome.message}`;
    case "redirect":
      return outcome.sameOrigin
        ? `${outcome.status} redirect within the API origin (not followed)`
        : `${outcome.status} redirect to another origin, ${outcome.targetOrigin ?? "unreadable Location"} (not followed)`;
    case "not-api":
      return `${outcome.status} ${outcome.problem}`;
    case "connection":
      return `connection failed (${tries}): ${outcome.message}`;
  }
}

/**
 * Why a call failed for reasons other than the token's permissions, and what to do: one message
 * and fix per kind, so a DNS failure never advises a longer timeout.
 */
export function transportAdvice(outcome: CallFailure): { why: string; fix: string } {
  switch (outcome.kind) {
    case "deadline":
      return {
        why: "the run's overall deadline passed before this check could finish, so it is unproven",
        fix: "re-run with a larger --deadline-ms, or find out why the API is slow (earlier checks show the waits)",
      };
    case "timeout":
      return {
        why: "the API did not answer in time, so the check is unproven",
        fix: "check the network path to the API, or raise --timeout-ms; then re-run",
      };
    case "dns":
      return {
        why: "the API's host name does not resolve, so nothing reached Cloudflare",
        fix: "check the host in --api-base-url for typos and that DNS works here (a timeout change will not help)",
      };
    case "refused":
      return {
        why: "nothing accepts connections at the API address, so nothing reached Cloudflare",
        fix: "check the host and port in --api-base-url (and any proxy); the API is not listening there",
      };
    case "redirect":
      return outcome.sameOrigin
        ? {
            why: "the API answered with a redirect; Cloudflare's v4 API does not redirect API calls, so the answer is not trusted",
            fix: "check --api-base-url (the exact path, e.g. https://api.cloudflare.com/client/v4) and any proxy in between",
          }
        : {
            why: `the answer redirects to another origin (${outcome.targetOrigin ?? "unreadable"}); following it would report answers from a host that never saw the token`,
            fix: "point --api-base-url at Cloudflare's API itself (https://api.cloudflare.com/client/v4); remove whatever proxy or captive portal redirects",
          };
    case "not-api":
      return {
        why: "something other than Cloudflare's API answered (not its JSON envelope), so the answer proves nothing",
        fix: "check --api-base-url and any proxy or captive portal between here and the API",
      };
    case "connection":
      return {
        why: "the connection to the API failed, so the check is unproven",
        fix: "check the network path to the API; then re-run",
      };
    case "http":
      return outcome.status === 429 || outcome.status >= 500
        ? { why: "the API is rate limiting or failing", fix: "re-run the verifier later" }
        : { why: `the API answered ${outcome.status}`, fix: "re-run the verifier later" };
  }
}
