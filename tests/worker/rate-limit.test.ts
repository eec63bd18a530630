import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createWorker } from "../../worker/src/app";
import { UNKNOWN_CLIENT, clientKey } from "../../worker/src/client-key";
import {
  ALLOWED_ORIGIN,
  HELLO,
  callWorker,
  captureLogs,
  chatRequest,
  completion,
  countingKv,
  errorBody,
  fakeProvider,
  freshIp,
  freshV6Prefix,
  inspect,
  providerJson,
  testEnv,
  type Seen,
} from "./helpers";

/**
 * Runs `burst` again (at most twice more) if a minute boundary passed while it ran: the binding's
 * windows (60 s in the test config) restart there, and a burst split over two windows is served twice.
 */
async function inOneWindow<T>(burst: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    const window = Math.floor(Date.now() / 60_000);
    const result = await burst();
    if (Math.floor(Date.now() / 60_000) === window || attempt === 2) return result;
  }
}

function tally(seen: readonly Seen[]): { served: number; limited: number; failed: number } {
  return {
    served: seen.filter((s) => s.status === 200).length,
    limited: seen.filter((s) => s.status === 429).length,
    failed: seen.filter((s) => s.status >= 500).length,
  };
}

describe("clientKey (the rate-limit bucket of an address)", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    ["203.0.113.007", "203.0.113.7"],
    [" 203.0.113.7 ", "203.0.113.7"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["2001:db8:0:0:1::1", "2001:db8:0:0::/64"],
    ["[2001:db8:1:2::9]", "2001:db8:1:2::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::ffff:203.0.113.7", "203.0.113.7"],
    ["::FFFF:cb00:7107", "203.0.113.7"],
    ["0:0:0:0:0:ffff:203.0.113.7", "203.0.113.7"],
    ["2001:db8:1:2:3:4:203.0.113.7", "2001:db8:1:2::/64"],
  ])("%s → %s", (address, key) => {
    expect(clientKey(address)).toBe(key);
  });

  it.each([
    null,
    "",
    "unknown",
    "256.1.1.1",
    "1.2.3",
    "2001:db8::1::2",
    "1:2:3:4:5:6:7:8:9",
    "12345::",
    ":1:2",
  ])("puts %j in the shared unknown bucket", (address) => {
    expect(clientKey(address)).toBe(UNKNOWN_CLIENT);
  });
});

describe("rate limit (RATE_LIMITER binding, per client)", () => {
  const logs = captureLogs();

  it("serves exactly the limit of 60 concurrent requests from one client, refuses the rest with 429 and Retry-After, no 5xx", async () => {
    const provider = fakeProvider(() => providerJson(200, completion("ok")));
    // The deployed entry point with the binding wrangler.jsonc declares: 20 per 60 s.
    const seen = await inOneWindow(async () => {
      provider.calls.length = 0;
      const ip = freshIp();
      return Promise.all(
        Array.from({ length: 60 }, async () => inspect(await callWorker(chatRequest(HELLO, { ip })))),
      );
    });
    expect(tally(seen)).toEqual({ served: 20, limited: 40, failed: 0 });
    expect(provider.calls).toHaveLength(20);
    for (const refused of seen.filter((s) => s.status === 429)) {
      const retryAfter = Number(refused.headers.get("Retry-After"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refused.json).toEqual(
        errorBody(
          "rate_limited",
          `Too many requests from this client; retry in ${retryAfter} s`,
          "rate_limit_error",
        ),
      );
    }
  });

  it("counts every address of one IPv6 /64 against one budget, however it is spelled", async () => {
    fakeProvider(() => providerJson(200, completion("ok")));
    const seen = await inOneWindow(async () => {
      const prefix = freshV6Prefix();
      const [a, b, c, d] = prefix.split(":");
      const spellings = (i: number): string =>
        [
          `${prefix}:${i.toString(16)}:0:0:1`,
          `${prefix}:${((i * 2579) % 0xffff).toString(16)}::`,
          `${a}:0${b}:${c!.toUpperCase()}:${d}::${i.toString(16)}:7`,
          `[${prefix}:ffff:${i.toString(16)}:0:${i.toString(16)}]`,
          `${prefix}:0:0:0:${i.toString(16)}%eth0`,
        ][i % 5]!;
      return Promise.all(
        Array.from({ length: 25 }, async (_, i) =>
          inspect(await callWorker(chatRequest(HELLO, { ip: spellings(i + 1) }))),
        ),
      );
    });
    expect(tally(seen)).toEqual({ served: 20, limited: 5, failed: 0 });
  });

  it("counts an IPv4-mapped IPv6 address as its IPv4 client", async () => {
    fakeProvider(() => providerJson(200, completion("ok")));
    const worker = createWorker();
    const limited = testEnv({ RATE_LIMITER: env.TEST_LIMITER_3 });
    const statuses = await inOneWindow(async () => {
      const ip = freshIp();
      const out: number[] = [];
      for (const address of [ip, `::ffff:${ip}`, `::FFFF:${ip}`, `0:0:0:0:0:ffff:${ip}`]) {
        out.push((await inspect(await worker.fetch(chatRequest(HELLO, { ip: address }), limited))).status);
      }
      return out;
    });
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it("keeps clients apart: another IPv4 address and another /64 still get served", async () => {
    fakeProvider(() => providerJson(200, completion("ok")));
    const worker = createWorker();
    const limited = testEnv({ RATE_LIMITER: env.TEST_LIMITER_3 });
    const statuses = await inOneWindow(async () => {
      const ip = freshIp();
      const prefix = freshV6Prefix();
      const out: number[] = [];
      for (let i = 0; i < 4; i += 1) {
        out.push((await inspect(await worker.fetch(chatRequest(HELLO, { ip }), limited))).status);
      }
      out.push((await inspect(await worker.fetch(chatRequest(HELLO, { ip: freshIp() }), limited))).status);
      out.push(
        (await inspect(await worker.fetch(chatRequest(HELLO, { ip: `${prefix}::1` }), limited))).status,
      );
      const next = `${prefix.split(":").slice(0, 3).join(":")}:ffff::1`; // the neighbouring /64
      out.push((await inspect(await worker.fetch(chatRequest(HELLO, { ip: next }), limited))).status);
      return out;
    });
    expect(statuses).toEqual([200, 200, 200, 429, 200, 200, 200]);
  });

  it("tells a refused client to retry at the next minute boundary, with CORS headers for its origin", async () => {
    fakeProvider(() => providerJson(200, completion("ok")));
    const now = Date.UTC(2026, 10, 22, 12, 0, 17, 500); // 42.5 s before the minute ends
    const worker = createWorker({ now: () => now });
    const limited = testEnv({ RATE_LIMITER: env.TEST_LIMITER_3 });
    const last = await inOneWindow(async () => {
      const ip = freshIp();
      for (let i = 0; i < 3; i += 1) await inspect(await worker.fetch(chatRequest(HELLO, { ip }), limited));
      return inspect(await worker.fetch(chatRequest(HELLO, { ip, origin: ALLOWED_ORIGIN }), limited));
    });
    expect(last.status).toBe(429);
    expect(last.headers.get("Retry-After")).toBe("43");
    expect(last.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED_ORIGIN);
    expect(last.json).toEqual(
      errorBody("rate_limited", "Too many requests from this client; retry in 43 s", "rate_limit_error"),
    );
    expect(JSON.parse(logs.lines.at(-1) ?? "")).toMatchObject({ status: 429, rateLimited: true });
  });

  it("counts refused requests too, before reading the body", async () => {
    const provider = fakeProvider(() => providerJson(200, completion("never")));
    const worker = createWorker();
    const limited = testEnv({ RATE_LIMITER: env.TEST_LIMITER_3 });
    const statuses = await inOneWindow(async () => {
      const ip = freshIp();
      const out: number[] = [];
      for (let i = 0; i < 4; i += 1) {
        out.push((await inspect(await worker.fetch(chatRequest("not json", { ip }), limited))).status);
      }
      return out;
    });
    expect(statuses).toEqual([400, 400, 400, 429]);
    expect(provider.calls).toHaveLength(0);
  });

  it("writes nothing to KV on the request path, and reads it once per isolate", async () => {
    fakeProvider(() => providerJson(200, completion("ok")));
    const { kv, gets, puts } = countingKv();
    const worker = createWorker();
    const withKv = testEnv({ CONFIG_KV: kv, RATE_LIMITER: env.TEST_LIMITER_3 });
    const seen = await inOneWindow(async () => {
      const ip = freshIp();
      return Promise.all(
        Array.from({ length: 10 }, async () =>
          inspect(await worker.fetch(chatRequest(HELLO, { ip }), withKv)),
        ),
      );
    });
    expect(tally(seen)).toEqual({ served: 3, limited: 7, failed: 0 });
    expect(puts).toEqual([]);
    // Concurrent first requests of a fresh isolate may each read the config once; later ones never.
    const firstReads = gets.length;
    expect(firstReads).toBeGreaterThanOrEqual(1);
    await inspect(await worker.fetch(chatRequest(HELLO), withKv));
    expect(gets).toHaveLength(firstReads);
  });

  it("serves the request and logs a warning when the binding fails (fail open, never a 5xx)", async () => {
    fakeProvider(() => providerJson(200, completion("ok")));
    const worker = createWorker();
    const broken = {
      limit: () => Promise.reject(new Error("rate limiter unavailable")),
    } as unknown as RateLimit;
    const seen = await inspect(await worker.fetch(chatRequest(HELLO), testEnv({ RATE_LIMITER: broken })));
    expect(seen.status).toBe(200);
    expect(JSON.parse(logs.lines[0] ?? "")).toMatchObject({
      level: "warn",
      message: "rate limiter failed; request served",
      error: "Error: rate limiter unavailable",
    });
  });

  it("refuses chat requests with 500 when the binding is missing (a deploy error), without calling the provider", async () => {
    const provider = fakeProvider(() => providerJson(200, completion("never")));
    const worker = createWorker();
    const seen = await inspect(
      await worker.fetch(chatRequest(HELLO), testEnv({ RATE_LIMITER: undefined as unknown as RateLimit })),
    );
    expect(seen.status).toBe(500);
    expect(seen.json).toEqual(
      errorBody("server_misconfigured", "The RATE_LIMITER binding is missing", "server_error"),
    );
    expect(provider.calls).toHaveLength(0);
  });
});
