import { describe, expect, it } from "vitest";
import {
  HELLO,
  KEY,
  callWorker,
  captureLogs,
  chatRequest,
  errorBody,
  fakeProvider,
  inspect,
  providerJson,
} from "./helpers";

describe("provider errors are mapped to clear JSON errors", () => {
  const logs = captureLogs();

  it.each<[string, number, Record<string, string>, number, ReturnType<typeof errorBody>]>([
    [
      "401 (bad key)",
      401,
      {},
      502,
      errorBody(
        "provider_auth_failed",
        "The LLM provider rejected this service's credentials; the operator must check PROVIDER_KEY",
        "upstream_error",
      ),
    ],
    [
      "403",
      403,
      {},
      502,
      errorBody(
        "provider_auth_failed",
        "The LLM provider rejected this service's credentials; the operator must check PROVIDER_KEY",
        "upstream_error",
      ),
    ],
    [
      "500",
      500,
      {},
      502,
      errorBody("provider_error", "The LLM provider failed (HTTP 500); retry later", "upstream_error"),
    ],
    [
      "503",
      503,
      {},
      502,
      errorBody("provider_error", "The LLM provider failed (HTTP 503); retry later", "upstream_error"),
    ],
    [
      "504",
      504,
      {},
      504,
      errorBody("provider_timeout", "The LLM provider failed (HTTP 504); retry later", "upstream_error"),
    ],
    [
      "a redirect (not followed)",
      307,
      { Location: "https://elsewhere.example/steal" },
      502,
      errorBody("provider_error", "The LLM provider failed (HTTP 307); retry later", "upstream_error"),
    ],
  ])("maps a provider %s to %s", async (_name, status, headers, expected, body) => {
    fakeProvider(() =>
      providerJson(
        status,
        { error: { message: `Invalid API Key ${KEY}`, type: "invalid_request_error" } },
        headers,
      ),
    );
    const seen = await inspect(await callWorker(chatRequest(HELLO)));
    expect(seen.status).toBe(expected);
    expect(seen.json).toEqual(body);
    expect(seen.headers.get("Location")).toBeNull();
    expect(JSON.parse(logs.lines.at(-1) ?? "")).toMatchObject({
      level: "error",
      status: expected,
      upstreamStatus: status,
    });
  });

  it("maps a provider 429 to 429 keeping the provider's Retry-After", async () => {
    fakeProvider(() =>
      providerJson(
        429,
        { error: { message: "Rate limit reached for model", type: "tokens" } },
        { "Retry-After": "7" },
      ),
    );
    const seen = await inspect(await callWorker(chatRequest(HELLO)));
    expect(seen.status).toBe(429);
    expect(seen.headers.get("Retry-After")).toBe("7");
    expect(seen.json).toEqual(
      errorBody(
        "provider_rate_limited",
        "The LLM provider is rate limiting this service; retry later",
        "rate_limit_error",
      ),
    );
  });

  it("answers Retry-After 1 when the provider's 429 gives none (or an HTTP date)", async () => {
    fakeProvider(() => providerJson(429, {}, { "Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT" }));
    const seen = await inspect(await callWorker(chatRequest(HELLO)));
    expect(seen.status).toBe(429);
    expect(seen.headers.get("Retry-After")).toBe("1");
  });

  it("never quotes a provider 4xx's message; names the field it objected to when the Worker forwards it", async () => {
    fakeProvider(() =>
      providerJson(400, {
        error: {
          message: `max_tokens too large for key ${KEY.slice(0, 12)}…${KEY.slice(12)} (limit 8192)`,
          type: "invalid_request_error",
          param: "max_tokens",
        },
      }),
    );
    const seen = await inspect(await callWorker(chatRequest(HELLO)));
    expect(seen.status).toBe(400);
    expect(seen.json).toEqual(
      errorBody(
        "provider_rejected_request",
        "The LLM provider rejected the request (HTTP 400); check max_tokens",
        "invalid_request_error",
        "max_tokens",
      ),
    );
    expect(seen.text).not.toContain(KEY.slice(0, 12));
    expect(seen.text).not.toContain("8192");
  });

  it("names no field the Worker does not forward itself", async () => {
    fakeProvider(() =>
      providerJson(422, { error: { message: "bad", param: `${KEY}`, type: "invalid_request_error" } }),
    );
    const seen = await inspect(await callWorker(chatRequest(HELLO)));
    expect(seen.status).toBe(400);
    expect(seen.json).toEqual(
      errorBody("provider_rejected_request", "The LLM provider rejected the request (HTTP 422)"),
    );
  });

  it("does not quote a provider 4xx body that is not an OpenAI error", async () => {
    fakeProvider(
      () =>
        new Response(`<html>Bearer ${KEY}</html>`, { status: 404, headers: { "Content-Type": "text/html" } }),
    );
    const seen = await inspect(await callWorker(chatRequest(HELLO)));
    expect(seen.status).toBe(400);
    expect(seen.json).toEqual(
      errorBody("provider_rejected_request", "The LLM provider rejected the request (HTTP 404)"),
    );
  });

  it("answers 502 when the provider cannot be reached, without logging the error text", async () => {
    fakeProvider(() => {
      throw new TypeError(`connect ECONNREFUSED while sending Authorization: Bearer ${KEY}`);
    });
    const seen = await inspect(await callWorker(chatRequest(HELLO)));
    expect(seen.status).toBe(502);
    expect(seen.json).toEqual(
      errorBody(
        "provider_unreachable",
        "The LLM provider could not be reached; retry later",
        "upstream_error",
      ),
    );
    expect(logs.lines).toHaveLength(1);
  });
});
