import { describe, expect, it } from "vitest";
import {
  ALLOWED_ORIGIN,
  CHAT_URL,
  HELLO,
  callWorker,
  captureLogs,
  chatRequest,
  completion,
  errorBody,
  fakeProvider,
  inspect,
  providerJson,
} from "./helpers";

function preflight(origin: string, method = "POST", headers = "content-type"): Request {
  return new Request(CHAT_URL, {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": method,
      "Access-Control-Request-Headers": headers,
    },
  });
}

describe("CORS", () => {
  captureLogs();

  it("answers a preflight from an allowed origin with 204 and the allowed method and headers", async () => {
    const seen = await inspect(await callWorker(preflight(ALLOWED_ORIGIN)));
    expect(seen.status).toBe(204);
    expect(seen.text).toBe("");
    expect(seen.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED_ORIGIN);
    expect(seen.headers.get("Access-Control-Allow-Methods")).toBe("POST, OPTIONS");
    expect(seen.headers.get("Access-Control-Allow-Headers")).toBe("content-type");
    expect(seen.headers.get("Access-Control-Max-Age")).toBe("600");
    expect(seen.headers.get("Vary")).toBe("Origin");
    expect(seen.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });

  it("accepts every origin in the list (second entry, http localhost)", async () => {
    const seen = await inspect(await callWorker(preflight("http://localhost:5173")));
    expect(seen.status).toBe(204);
    expect(seen.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:5173");
  });

  it.each(["https://evil.example", "https://app.example.com.evil.example", "http://app.example.com", "null"])(
    "refuses a preflight from %s with 403 and no CORS grant",
    async (origin) => {
      const seen = await inspect(await callWorker(preflight(origin)));
      expect(seen.status).toBe(403);
      expect(seen.headers.get("Access-Control-Allow-Origin")).toBeNull();
      expect(seen.json).toEqual(errorBody("origin_not_allowed", `Origin ${origin} is not allowed`));
    },
  );

  it("refuses a preflight for a method the path does not accept", async () => {
    const seen = await inspect(await callWorker(preflight(ALLOWED_ORIGIN, "DELETE")));
    expect(seen.status).toBe(403);
    expect(seen.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(seen.json).toEqual(errorBody("cors_method_not_allowed", "Method DELETE is not allowed here"));
  });

  it("refuses a preflight asking for headers beyond Content-Type", async () => {
    const seen = await inspect(
      await callWorker(preflight(ALLOWED_ORIGIN, "POST", "Content-Type, Authorization, X-Api-Key")),
    );
    expect(seen.status).toBe(403);
    expect(seen.json).toEqual(
      errorBody("cors_header_not_allowed", "Header(s) not allowed: authorization, x-api-key"),
    );
  });

  it("refuses an OPTIONS from an allowed origin without Access-Control-Request-Method", async () => {
    const request = new Request(CHAT_URL, { method: "OPTIONS", headers: { Origin: ALLOWED_ORIGIN } });
    const seen = await inspect(await callWorker(request));
    expect(seen.status).toBe(400);
    expect(seen.json).toEqual(
      errorBody("invalid_preflight", "Preflight without Access-Control-Request-Method"),
    );
  });

  it("grants an actual request from an allowed origin and exposes Retry-After and X-Request-Id", async () => {
    fakeProvider(() => providerJson(200, completion("ok")));
    const seen = await inspect(await callWorker(chatRequest(HELLO, { origin: ALLOWED_ORIGIN })));
    expect(seen.status).toBe(200);
    expect(seen.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED_ORIGIN);
    expect(seen.headers.get("Vary")).toBe("Origin");
    expect(seen.headers.get("Access-Control-Expose-Headers")).toBe("retry-after, x-request-id");
  });

  it("refuses an actual request from another origin with 403 without calling the provider", async () => {
    const provider = fakeProvider(() => providerJson(200, completion("never")));
    const seen = await inspect(await callWorker(chatRequest(HELLO, { origin: "https://evil.example" })));
    expect(seen.status).toBe(403);
    expect(seen.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(seen.headers.get("Vary")).toBe("Origin");
    expect(seen.json).toEqual(errorBody("origin_not_allowed", "Origin https://evil.example is not allowed"));
    expect(provider.calls).toHaveLength(0);
  });

  it("serves a request without Origin (not a browser) with no CORS grant", async () => {
    fakeProvider(() => providerJson(200, completion("ok")));
    const seen = await inspect(await callWorker(chatRequest(HELLO)));
    expect(seen.status).toBe(200);
    expect(seen.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(seen.headers.get("Vary")).toBe("Origin");
  });
});
