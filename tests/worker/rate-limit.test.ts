import { describe, expect, it } from "vitest";
import { createWorker } from "../../worker/src/app";
import { rateLimitKey } from "../../worker/src/rate-limit";
import {
  ALLOWED_ORIGIN,
  HELLO,
  callWorker,
  captureLogs,
  chatRequest,
  completion,
  errorBody,
  fakeProvider,
  freshIp,
  inspect,
  providerJson,
  testEnv,
} from "./helpers";

describe("rate limit (fixed window per client IP, in KV)", () => {
  const logs = captureLogs();

  it("answers 429 with Retry-After once the limit is used up, and resets in the next window", async () => {
    let now = Date.UTC(2026, 10, 22, 12, 0, 10); // 10 s into a 60 s window
    const worker = createWorker({ now: () => now });
    const env = testEnv({ RATE_LIMIT_REQUESTS: "2", RATE_LIMIT_WINDOW_SECONDS: "60" });
    const provider = fakeProvider(() => providerJson(200, completion("ok")));
    const ip = freshIp();
    const windowEnd = Date.UTC(2026, 10, 22, 12, 1, 0) / 1000;

    const first = await inspect(await worker.fetch(chatRequest(HELLO, { ip }), env));
    expect(first.status).toBe(200);
    expect(first.headers.get("X-RateLimit-Limit")).toBe("2");
    expect(first.headers.get("X-RateLimit-Remaining")).toBe("1");
    expect(first.headers.get("X-RateLimit-Reset")).toBe(String(windowEnd));

    now += 5_000;
    const second = await inspect(await worker.fetch(chatRequest(HELLO, { ip }), env));
    expect(second.status).toBe(200);
    expect(second.headers.get("X-RateLimit-Remaining")).toBe("0");

    now += 2_500; // 17.5 s into the window: 42.5 s left, rounded up
    const third = await inspect(await worker.fetch(chatRequest(HELLO, { ip, origin: ALLOWED_ORIGIN }), env));
    expect(third.status).toBe(429);
    expect(third.headers.get("Retry-After")).toBe("43");
    expect(third.headers.get("X-RateLimit-Remaining")).toBe("0");
    expect(third.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED_ORIGIN);
    expect(third.json).toEqual(
      errorBody(
        "rate_limited",
        "Rate limit of 2 requests per 60 s exceeded; retry in 43 s",
        "rate_limit_error",
      ),
    );
    expect(provider.calls).toHaveLength(2);
    expect(JSON.parse(logs.lines.at(-1) ?? "")).toMatchObject({ status: 429, rateLimited: true });

    // Another client is counted separately.
    const other = await inspect(await worker.fetch(chatRequest(HELLO, { ip: freshIp() }), env));
    expect(other.status).toBe(200);

    // The last second of the window is still limited...
    now = windowEnd * 1000 - 1;
    const edge = await inspect(await worker.fetch(chatRequest(HELLO, { ip }), env));
    expect(edge.status).toBe(429);
    expect(edge.headers.get("Retry-After")).toBe("1");

    // ...and the next window starts afresh.
    now = windowEnd * 1000;
    const reset = await inspect(await worker.fetch(chatRequest(HELLO, { ip }), env));
    expect(reset.status).toBe(200);
    expect(reset.headers.get("X-RateLimit-Remaining")).toBe("1");
    expect(reset.headers.get("X-RateLimit-Reset")).toBe(String(windowEnd + 60));
    expect(provider.calls).toHaveLength(4);
  });

  it("stores the counter in RATE_LIMIT_KV under the client's window key", async () => {
    const now = 1_790_000_000_000;
    const worker = createWorker({ now: () => now });
    const env = testEnv({ RATE_LIMIT_WINDOW_SECONDS: "60" });
    fakeProvider(() => providerJson(200, completion("ok")));
    const ip = freshIp();
    await inspect(await worker.fetch(chatRequest(HELLO, { ip }), env));
    await inspect(await worker.fetch(chatRequest(HELLO, { ip }), env));
    expect(await env.RATE_LIMIT_KV.get(rateLimitKey(ip, Math.floor(now / 60_000)))).toBe("2");
  });

  it("counts refused requests too, before reading the body", async () => {
    const worker = createWorker({ now: () => 1_790_000_000_000 });
    const env = testEnv({ RATE_LIMIT_REQUESTS: "1" });
    const ip = freshIp();
    const bad = await inspect(await worker.fetch(chatRequest("not json", { ip }), env));
    expect(bad.status).toBe(400);
    const limited = await inspect(await worker.fetch(chatRequest("not json", { ip }), env));
    expect(limited.status).toBe(429);
  });

  it("applies the configured limit through the deployed entry point (20 per 60 s by default)", async () => {
    const provider = fakeProvider(() => providerJson(200, completion("ok")));
    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 21; i += 1) {
      statuses.push((await inspect(await callWorker(chatRequest(HELLO, { ip })))).status);
    }
    expect(statuses).toEqual([...Array.from({ length: 20 }, () => 200), 429]);
    expect(provider.calls).toHaveLength(20);
  });
});
