import { describe, expect, it } from "vitest";
import { createWorker } from "../../worker/src/app";
import {
  CHAT_URL,
  HEALTH_URL,
  HELLO,
  KEY,
  callWorker,
  captureLogs,
  chatRequest,
  fakeProvider,
  inspect,
  providerJson,
  testEnv,
} from "./helpers";

describe("PROVIDER_KEY never leaves the Worker", () => {
  const logs = captureLogs();

  it("is not in any response, header or log line across every kind of answer", async () => {
    const replies = [
      () => providerJson(200, { echo: "ok" }, { "X-Debug-Auth": `Bearer ${KEY}` }),
      () =>
        providerJson(401, { error: { message: `bad key ${KEY}` } }, { "WWW-Authenticate": `Bearer ${KEY}` }),
      () => providerJson(400, { error: `invalid ${KEY}` }),
      () => new Response(`data: ${KEY}\n\n`, { status: 500 }),
    ];
    let next = 0;
    fakeProvider(() => (replies[next++] ?? replies[0]!)());
    const requests = [
      chatRequest(HELLO),
      chatRequest(HELLO),
      chatRequest(HELLO),
      chatRequest(HELLO),
      chatRequest({ messages: [] }),
      chatRequest(HELLO, { origin: "https://evil.example" }),
      new Request(HEALTH_URL),
      new Request(CHAT_URL, {
        method: "OPTIONS",
        headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "POST" },
      }),
    ];
    const statuses: number[] = [];
    for (const request of requests) statuses.push((await inspect(await callWorker(request))).status);
    expect(statuses).toEqual([200, 502, 400, 502, 400, 403, 200, 204]);
    // X-Debug-Auth is not on the allow-list of passed headers.
    expect(logs.lines).toHaveLength(requests.length);
    for (const line of logs.lines) expect(line).not.toContain(KEY);
  });

  it("redacts the key from an unexpected error's log line", async () => {
    const worker = createWorker();
    const failingKv = {
      get: () => Promise.reject(new Error(`KV exploded near ${KEY}`)),
    } as unknown as KVNamespace;
    const seen = await inspect(await worker.fetch(chatRequest(HELLO), testEnv({ RATE_LIMIT_KV: failingKv })));
    expect(seen.status).toBe(500);
    const requestId = seen.headers.get("X-Request-Id");
    expect(seen.json).toEqual({
      error: {
        message: `Internal error (request ${requestId})`,
        type: "server_error",
        code: "internal_error",
        param: null,
      },
    });
    expect(logs.lines).toHaveLength(2);
    expect(JSON.parse(logs.lines[0] ?? "")).toEqual({
      level: "error",
      message: "unhandled error",
      requestId,
      error: "Error: KV exploded near [redacted]",
    });
    expect(JSON.parse(logs.lines[1] ?? "")).toMatchObject({ level: "error", status: 500, requestId });
  });
});
