import { describe, expect, it } from "vitest";

import { adminTokenFromEnv, parseCliArgs, tokenFromEnv } from "../../tools/verify/cli";
import { redact, REDACTED, redactDeep } from "../../tools/verify/report";
import { retryAfterMs } from "../../tools/verify/retry";
import { TOKEN } from "./fixtures";

describe("retryAfterMs", () => {
  const headers = (entries: Record<string, string>) => new Headers(entries);
  it.each([
    [{ "retry-after": "2" }, 2_000],
    [{ "retry-after": "0.5" }, 500],
    [{ "retry-after-ms": "250", "retry-after": "9" }, 250],
    [{ "retry-after": "Sun, 22 Nov 2026 12:00:03 GMT" }, 3_000],
    [{ "retry-after": "soon" }, undefined],
    [{}, undefined],
  ])("%j -> %s", (entries, expected) => {
    expect(retryAfterMs(headers(entries), Date.parse("2026-11-22T12:00:00Z"))).toBe(expected);
  });
});

describe("redact", () => {
  it("removes the token and any 8+ character run of it", () => {
    expect(redact(`a ${TOKEN} b`, TOKEN)).toBe(`a ${REDACTED} b`);
    const partial = `prefix ${TOKEN.slice(3, 20)} suffix`;
    const out = redact(partial, TOKEN);
    for (let start = 0; start + 8 <= TOKEN.length; start++)
      expect(out).not.toContain(TOKEN.slice(start, start + 8));
    expect(out).toContain("prefix");
    expect(redact("nothing secret here", TOKEN)).toBe("nothing secret here");
  });

  it("redacts inside structures before JSON escaping could hide a token with quotes", () => {
    const odd = 'ab"cd\\ef"gh12345678';
    const doc = JSON.stringify(redactDeep({ checks: [{ got: `echo ${odd}` }], n: 1 }, odd));
    expect(doc).toBe(`{"checks":[{"got":"echo ${REDACTED}"}],"n":1}`);
  });
});

describe("parseCliArgs", () => {
  it("parses every option", () => {
    expect(
      parseCliArgs([
        "--stack",
        "prod",
        "--json",
        "--api-base-url",
        "http://127.0.0.1:9/client/v4/",
        "--timeout-ms",
        "2500",
        "--deadline-ms",
        "9000",
        "--foreign-zone",
        "0000000000000000000000000000d0ff",
        "--foreign-account=0000000000000000000000000000a0ff",
      ]),
    ).toEqual({
      stack: "prod",
      json: true,
      apiBaseUrl: "http://127.0.0.1:9/client/v4",
      timeoutMs: 2500,
      deadlineMs: 9000,
      admin: false,
      foreignZoneId: "0000000000000000000000000000d0ff",
      foreignAccountId: "0000000000000000000000000000a0ff",
    });
    expect(parseCliArgs(["--stack", "dev"])).toMatchObject({
      apiBaseUrl: "https://api.cloudflare.com/client/v4",
      timeoutMs: 15_000,
      deadlineMs: 60_000,
      admin: false,
      json: false,
    });
    expect(parseCliArgs(["--stack", "dev", "--admin"])).toMatchObject({ admin: true });
  });

  it.each([
    [["--stack", "dev", "--token", TOKEN], /--token is not accepted.*CLOUDFLARE_API_TOKEN/],
    [["--stack", "dev", `--token=${TOKEN}`], /--token is not accepted/],
    [["--stack", "dev", TOKEN], /unexpected argument \(not shown/],
    [["--stack", "dev", `--${TOKEN}`], /^unknown option$/],
    [["--stack", "dev", "--verbose"], /^unknown option --verbose$/],
    [[], /--stack <name> is required/],
    [["--stack"], /missing its value/],
    [["--stack", "dev", "--timeout-ms", "0"], /--timeout-ms must be/],
    [["--stack", "dev", "--timeout-ms", "abc"], /--timeout-ms must be/],
    [["--stack", "dev", "--deadline-ms", "0"], /--deadline-ms must be/],
    [
      ["--stack", "dev", "--admin", "--foreign-zone", "0000000000000000000000000000d0ff"],
      /do not apply with --admin/,
    ],
    [["--stack", "dev", "--foreign-zone", "example.com"], /--foreign-zone must be a 32-character/],
    [["--stack", "dev", "--api-base-url", "http://api.example.com"], /must use https/],
    [["--stack", "dev", "--api-base-url", "not a url"], /absolute http\(s\) URL/],
  ])("%j is a usage error", (argv, message) => {
    let caught: unknown;
    try {
      parseCliArgs(argv);
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toContain(TOKEN.slice(0, 8));
  });
});

describe("tokenFromEnv", () => {
  it("trims a trailing newline and refuses inner whitespace without quoting the value", () => {
    expect(tokenFromEnv({ CLOUDFLARE_API_TOKEN: `${TOKEN}\n` })).toBe(TOKEN);
    expect(() => tokenFromEnv({})).toThrow(/CLOUDFLARE_API_TOKEN is not set/);
    expect(() => tokenFromEnv({ CLOUDFLARE_API_TOKEN: "  " })).toThrow(/is not set/);
    expect(() => tokenFromEnv({ CLOUDFLARE_API_TOKEN: `${TOKEN} x` })).toThrow(/value not shown/);
  });

  it("reads the admin credential from CLOUDFLARE_ADMIN_API_TOKEN, else CLOUDFLARE_API_TOKEN", () => {
    expect(
      adminTokenFromEnv({ CLOUDFLARE_ADMIN_API_TOKEN: "admin-1234567890", CLOUDFLARE_API_TOKEN: "x" }),
    ).toBe("admin-1234567890");
    expect(adminTokenFromEnv({ CLOUDFLARE_API_TOKEN: "pulumi-step-token" })).toBe("pulumi-step-token");
    expect(() => adminTokenFromEnv({})).toThrow(
      /CLOUDFLARE_ADMIN_API_TOKEN or CLOUDFLARE_API_TOKEN is not set/,
    );
  });
});
