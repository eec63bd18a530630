import { describe, expect, it } from "vitest";
import { createWorker } from "../../worker/src/app";
import {
  ALLOWED_ORIGIN,
  CHAT_URL,
  HEALTH_URL,
  HELLO,
  callWorker,
  captureLogs,
  chatRequest,
  completion,
  errorBody,
  fakeProvider,
  inspect,
  providerJson,
  testEnv,
} from "./helpers";

describe("GET /health", () => {
  const logs = captureLogs();

  it("answers ok with the deployed version and no secret", async () => {
    const seen = await inspect(await callWorker(new Request(HEALTH_URL)));
    expect(seen.status).toBe(200);
    expect(seen.json).toEqual({ status: "ok", version: "test-1.2.3" });
    expect(seen.headers.get("Content-Type")).toBe("application/json; charset=utf-8");
    expect(seen.headers.get("Cache-Control")).toBe("no-store");
    expect(seen.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(seen.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(seen.headers.get("Vary")).toBe("Origin");
  });

  it("writes one JSON log line per request with LOG_REQUESTS all (as the tests run)", async () => {
    const response = await callWorker(new Request(HEALTH_URL));
    const requestId = response.headers.get("X-Request-Id");
    await inspect(response);
    expect(logs.lines).toHaveLength(1);
    expect(JSON.parse(logs.lines[0] ?? "")).toEqual({
      level: "info",
      message: "request",
      requestId,
      method: "GET",
      path: "/health",
      status: 200,
      msToHeaders: expect.any(Number),
    });
  });

  it("answers with CORS headers for an allowed origin", async () => {
    const seen = await inspect(
      await callWorker(new Request(HEALTH_URL, { headers: { Origin: ALLOWED_ORIGIN } })),
    );
    expect(seen.status).toBe(200);
    expect(seen.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED_ORIGIN);
  });

  it("refuses POST with 405 and an Allow header", async () => {
    const seen = await inspect(await callWorker(new Request(HEALTH_URL, { method: "POST", body: "{}" })));
    expect(seen.status).toBe(405);
    expect(seen.headers.get("Allow")).toBe("GET, OPTIONS");
    expect(seen.json).toEqual(errorBody("method_not_allowed", "Method POST is not allowed on /health"));
  });
});

describe("routing", () => {
  captureLogs();

  it("answers 404 for an unknown path", async () => {
    const seen = await inspect(
      await callWorker(new Request("https://proxy.test/v1/embeddings", { method: "POST" })),
    );
    expect(seen.status).toBe(404);
    expect(seen.json).toEqual(errorBody("not_found", "No route for /v1/embeddings"));
  });

  it("refuses GET on the chat endpoint with 405", async () => {
    const seen = await inspect(await callWorker(new Request(CHAT_URL)));
    expect(seen.status).toBe(405);
    expect(seen.headers.get("Allow")).toBe("POST, OPTIONS");
    expect(seen.json).toEqual(
      errorBody("method_not_allowed", "Method GET is not allowed on /v1/chat/completions"),
    );
  });

  it("answers a plain OPTIONS (no Origin) with 204 and Allow", async () => {
    const seen = await inspect(await callWorker(new Request(CHAT_URL, { method: "OPTIONS" })));
    expect(seen.status).toBe(204);
    expect(seen.text).toBe("");
    expect(seen.headers.get("Allow")).toBe("POST, OPTIONS");
  });
});

describe("configuration errors", () => {
  captureLogs();
  const worker = createWorker();

  it.each([
    [{ MAX_N: "ten" }, 'MAX_N must be a positive integer, got "ten"'],
    [{ LOG_REQUESTS: "verbose" }, 'LOG_REQUESTS must be "all" or "failures", got "verbose"'],
    [{ MAX_BODY_BYTES: "0" }, 'MAX_BODY_BYTES must be a positive integer, got "0"'],
    [{ MAX_OUTPUT_TOKENS: "-5" }, 'MAX_OUTPUT_TOKENS must be a positive integer, got "-5"'],
    [{ PROVIDER_TIMEOUT_MS: "30s" }, 'PROVIDER_TIMEOUT_MS must be a positive integer, got "30s"'],
    [{ STREAM_IDLE_TIMEOUT_MS: "1.5" }, 'STREAM_IDLE_TIMEOUT_MS must be a positive integer, got "1.5"'],
    [
      { ALLOWED_BODY_FIELDS: "messages,Logit-Bias" },
      'ALLOWED_BODY_FIELDS entry "Logit-Bias" is not a body field name',
    ],
    [
      { PROVIDER_BASE_URL: "https://user:pw@api.groq.com/openai/v1" },
      "PROVIDER_BASE_URL must not carry credentials, a query or a fragment",
    ],
    [
      { PROVIDER_BASE_URL: "http://api.groq.com/openai/v1" },
      "PROVIDER_BASE_URL must use https (http only for localhost)",
    ],
    [{ PROVIDER_BASE_URL: "not a url" }, 'PROVIDER_BASE_URL is not a URL: "not a url"'],
    [
      { ALLOWED_ORIGINS: "https://app.example.com/path" },
      'ALLOWED_ORIGINS entry "https://app.example.com/path" is not an exact origin like https://app.example.com',
    ],
    [
      { ALLOWED_ORIGINS: "*" },
      'ALLOWED_ORIGINS entry "*" is not an exact origin like https://app.example.com',
    ],
    [
      { ALLOWED_ORIGINS: "https://app.example.com,null" },
      'ALLOWED_ORIGINS entry "null" is not an exact origin like https://app.example.com',
    ],
  ])("answers 500 naming the bad var for %j", async (overrides, problem) => {
    const seen = await inspect(await worker.fetch(new Request(HEALTH_URL), testEnv(overrides)));
    expect(seen.status).toBe(500);
    expect(seen.json).toEqual(errorBody("server_misconfigured", problem, "server_error"));
  });

  it("answers 500 without calling the provider when PROVIDER_KEY is not set", async () => {
    const provider = fakeProvider(() => new Response("unreachable"));
    const seen = await inspect(await worker.fetch(chatRequest(HELLO), testEnv({ PROVIDER_KEY: "" })));
    expect(seen.status).toBe(500);
    expect(seen.json).toEqual(
      errorBody("server_misconfigured", "The PROVIDER_KEY secret is not set", "server_error"),
    );
    expect(provider.calls).toHaveLength(0);
  });

  it("takes defaults for vars that are missing", async () => {
    const env = testEnv();
    const bare = { CONFIG_KV: env.CONFIG_KV, RATE_LIMITER: env.RATE_LIMITER, PROVIDER_KEY: env.PROVIDER_KEY };
    const seen = await inspect(await worker.fetch(new Request(HEALTH_URL), bare));
    expect(seen.status).toBe(200);
    expect(seen.json).toEqual({ status: "ok", version: "dev" });
  });
});

describe("LOG_REQUESTS failures (the default)", () => {
  const logs = captureLogs();
  const worker = createWorker();
  const env = testEnv({ LOG_REQUESTS: "failures" });

  it("logs nothing for a successful request, one line for each failed one", async () => {
    fakeProvider(() => providerJson(200, completion("ok")));
    expect((await inspect(await worker.fetch(new Request(HEALTH_URL), env))).status).toBe(200);
    expect((await inspect(await worker.fetch(chatRequest(HELLO), env))).status).toBe(200);
    expect(logs.lines).toEqual([]);
    expect((await inspect(await worker.fetch(chatRequest({ messages: [] }), env))).status).toBe(400);
    fakeProvider(() => providerJson(503, {}));
    expect((await inspect(await worker.fetch(chatRequest(HELLO), env))).status).toBe(502);
    expect(logs.lines.map((line) => JSON.parse(line) as unknown)).toEqual([
      expect.objectContaining({ level: "info", message: "request", status: 400 }),
      expect.objectContaining({ level: "error", message: "request", status: 502, upstreamStatus: 503 }),
    ]);
  });
});
