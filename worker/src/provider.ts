import type { ApiError } from "./http";

/** Response headers of the provider that are passed on to the client (allow-list). */
const PASSED_HEADERS = ["content-type", "cache-control", "x-request-id"] as const;

export interface ProviderCall {
  readonly url: string;
  readonly key: string;
  readonly body: unknown;
  readonly stream: boolean;
}

/** Sends the chat request to the provider with the key; only this function ever sees the key. */
export function callProvider(call: ProviderCall, fetchImpl: typeof fetch): Promise<Response> {
  return fetchImpl(call.url, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${call.key}`,
      "Content-Type": "application/json",
      Accept: call.stream ? "text/event-stream" : "application/json",
    },
    body: JSON.stringify(call.body),
    // Never follow a redirect: it would carry the request (and the key) somewhere else.
    redirect: "manual",
  });
}

/** A successful provider response, passed through as a stream (never buffered). */
export function passThrough(upstream: Response, extraHeaders: Record<string, string>): Response {
  const headers = new Headers(extraHeaders);
  for (const name of PASSED_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return new Response(upstream.body, { status: upstream.status, headers });
}

function redact(text: string, secret: string): string {
  return secret === "" ? text : text.split(secret).join("[redacted]");
}

/** The provider's own message from an OpenAI-style error body, with the key redacted, if any. */
async function providerMessage(upstream: Response, key: string): Promise<string | undefined> {
  try {
    const body: unknown = await upstream.json();
    if (typeof body === "object" && body !== null && "error" in body) {
      const error = (body as { error: unknown }).error;
      const message =
        typeof error === "string"
          ? error
          : typeof error === "object" && error !== null && "message" in error
            ? (error as { message: unknown }).message
            : undefined;
      if (typeof message === "string" && message !== "") return redact(message, key).slice(0, 500);
    }
  } catch {
    // Not JSON: say nothing about the body.
  }
  return undefined;
}

/**
 * Maps a provider error status to the client-facing error. The provider's body is never passed
 * through verbatim: for 401/403/429/5xx it is dropped; for other 4xx its message (key redacted)
 * is quoted so the client can fix its request.
 */
export async function mapProviderError(upstream: Response, key: string): Promise<ApiError> {
  const status = upstream.status;
  if (status === 401 || status === 403) {
    await upstream.body?.cancel();
    return {
      status: 502,
      type: "upstream_error",
      code: "provider_auth_failed",
      message: "The LLM provider rejected this service's credentials; the operator must check PROVIDER_KEY",
    };
  }
  if (status === 429) {
    await upstream.body?.cancel();
    const retryAfter = upstream.headers.get("Retry-After");
    const seconds = retryAfter !== null && /^[0-9]{1,6}$/.test(retryAfter.trim()) ? retryAfter.trim() : "1";
    return {
      status: 429,
      type: "rate_limit_error",
      code: "provider_rate_limited",
      message: "The LLM provider is rate limiting this service; retry later",
      headers: { "Retry-After": seconds },
    };
  }
  if (status >= 500 || status < 400) {
    await upstream.body?.cancel();
    return {
      status: status === 504 ? 504 : 502,
      type: "upstream_error",
      code: status === 504 ? "provider_timeout" : "provider_error",
      message: `The LLM provider failed (HTTP ${status}); retry later`,
    };
  }
  const quoted = await providerMessage(upstream, key);
  return {
    status: 400,
    type: "invalid_request_error",
    code: "provider_rejected_request",
    message:
      quoted === undefined
        ? `The LLM provider rejected the request (HTTP ${status})`
        : `The LLM provider rejected the request (HTTP ${status}): ${quoted}`,
  };
}

export const PROVIDER_UNREACHABLE: ApiError = {
  status: 502,
  type: "upstream_error",
  code: "provider_unreachable",
  message: "The LLM provider could not be reached; retry later",
};
