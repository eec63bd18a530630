import { afterEach, describe, expect, it } from "vitest";

import { loadStackConfig } from "../../tools/verify/stack";
import { DAY_MS, toRfc3339 } from "../../policies/lib/rotation";
import {
  startFakeCloudflare,
  type FakeCloudflare,
  type FakeOptions,
  type FakeToken,
} from "./fake-cloudflare";
import {
  ACCOUNT_DEV,
  ACCOUNT_OTHER,
  ACCOUNTS,
  FAST_RETRY,
  NOW,
  repoStack,
  rightSizedGrants,
  runCli,
  SAAS_STACK,
  stackDir,
  stackToken,
  TOKEN,
  ZONE_DEV,
  ZONE_OTHER,
  ZONES,
} from "./fixtures";

let fake: FakeCloudflare | undefined;
const outputs: string[] = [];

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function serve(tokens: FakeToken[], extra: Partial<FakeOptions> = {}): Promise<FakeCloudflare> {
  fake = await startFakeCloudflare({ tokens, zones: ZONES, accounts: ACCOUNTS, now: () => NOW, ...extra });
  return fake;
}

/** Runs the CLI against the fake API and remembers everything it printed for the no-leak check. */
async function verify(args: string[], options: Parameters<typeof runCli>[1] = {}) {
  const run = await runCli(["--api-base-url", fake!.url, ...args], options);
  outputs.push(run.stdout, run.stderr);
  expect(run.stdout + run.stderr).not.toContain(TOKEN);
  return run;
}

const failing = (lines: string[]) => lines.filter((line) => line.startsWith("FAIL"));

describe("verify-token against a fake Cloudflare API", () => {
  it("passes a right-sized account-owned token for the dev stack and only ever reads", async () => {
    const dev = repoStack("dev");
    const server = await serve([stackToken(dev)]);
    const run = await verify(["--stack", "dev"]);
    expect(run.stderr).toBe("");
    expect(failing(run.lines)).toEqual([]);
    expect(run.lines.at(-1)).toBe("13 passed, 0 failed");
    expect(run.code).toBe(0);
    expect(server.requests.every((request) => request.method === "GET")).toBe(true);
    expect(server.requests.every((request) => request.headers["x-auth-key"] === undefined)).toBe(true);
    expect(server.requests.map((request) => request.path)).toEqual([
      `/accounts/${ACCOUNT_DEV}/tokens/verify`,
      `/accounts/${ACCOUNT_DEV}/workers/scripts`,
      `/accounts/${ACCOUNT_DEV}/storage/kv/namespaces`,
      `/accounts/${ACCOUNT_DEV}/r2/buckets`,
      `/accounts/${ACCOUNT_DEV}/tokens`,
      `/zones/${ZONE_DEV}/workers/routes`,
      `/zones/${ZONE_DEV}/dns_records`,
      `/zones/${ZONE_DEV}/custom_hostnames`,
      "/zones",
    ]);
  });

  it("passes the prod stack (two zones) and a user-owned stack with CI routes and extras", async () => {
    const prod = repoStack("prod");
    await serve([stackToken(prod)]);
    const prodRun = await verify(["--stack", "prod"]);
    expect(failing(prodRun.lines)).toEqual([]);
    expect(prodRun.code).toBe(0);
    await fake!.close();

    const root = stackDir({ saas: SAAS_STACK });
    const saas = loadStackConfig(root, "saas");
    const server = await serve([stackToken(saas)]);
    const run = await verify(
      ["--stack", "saas", "--foreign-zone", ZONE_OTHER, "--foreign-account", ACCOUNT_OTHER],
      {
        root,
      },
    );
    expect(failing(run.lines)).toEqual([]);
    expect(run.code).toBe(0);
    const paths = server.requests.map((request) => request.path);
    expect(paths).toContain("/user/tokens/verify");
    expect(paths).toContain(`/zones/${ZONE_DEV}/workers/routes`);
    expect(paths).toContain(`/zones/${ZONE_DEV}/dns_records`);
    expect(paths).toContain("/zones/0000000000000000000000000000d005/custom_hostnames");
    expect(paths).toContain("/user/tokens");
    expect(paths).toContain(`/zones/${ZONE_OTHER}`);
    expect(paths).toContain(`/accounts/${ACCOUNT_OTHER}`);
    expect(paths).not.toContain("/zones"); // --foreign-zone replaces the zone listing
  });

  it("fails a token missing Workers Scripts Write and names it with the fix", async () => {
    const dev = repoStack("dev");
    const grants = rightSizedGrants(dev).filter((grant) => grant.permission !== "Workers Scripts Write");
    await serve([stackToken(dev, { grants })]);
    const run = await verify(["--stack", "dev"]);
    expect(run.code).toBe(1);
    const [line, ...others] = failing(run.lines);
    expect(others).toEqual([]);
    expect(line).toContain("list Worker scripts on the account");
    expect(line).toContain("got 403 (code 10000: Authentication error)");
    expect(line).toContain(`missing: Workers Scripts Write on com.cloudflare.api.account.${ACCOUNT_DEV}`);
    expect(line).toContain("fix: add Workers Scripts Write");
    expect(run.lines.at(-1)).toBe("12 passed, 1 failed");
  });

  it("fails an over-privileged token on the negative probes, naming the excess", async () => {
    const dev = repoStack("dev");
    const grants = [
      ...rightSizedGrants(dev),
      { permission: "DNS Read", resource: `com.cloudflare.api.account.zone.${ZONE_DEV}` },
      { permission: "Account API Tokens Read", resource: `com.cloudflare.api.account.${ACCOUNT_DEV}` },
      // What the old derivation granted and the deploy never needs (the namespace is Pulumi's).
      { permission: "Workers KV Storage Write", resource: `com.cloudflare.api.account.${ACCOUNT_DEV}` },
    ];
    await serve([stackToken(dev, { grants })]);
    const run = await verify(["--stack", "dev"]);
    expect(run.code).toBe(1);
    const [kv, ...lines] = failing(run.lines);
    expect(lines).toHaveLength(3);
    expect(kv).toMatch(
      /^FAIL list KV namespaces on the account: expected refused \(401\/403\); got 200 \(allowed\)/,
    );
    expect(kv).toContain(
      `excess: Workers KV Storage Write or Workers KV Storage Read on com.cloudflare.api.account.${ACCOUNT_DEV}`,
    );
    expect(lines[0]).toMatch(
      /^FAIL list account API tokens: expected refused \(401\/403\); got 200 \(allowed\)/,
    );
    expect(lines[0]).toContain("excess: Account API Tokens Write or Account API Tokens Read");
    expect(lines[1]).toMatch(/^FAIL list DNS records on zone example.dev: .*got 200 \(allowed\)/);
    expect(lines[1]).toContain(
      `excess: DNS Read or DNS Write on com.cloudflare.api.account.zone.${ZONE_DEV}`,
    );
    expect(lines[1]).toContain("fix: remove DNS Read or DNS Write");
    // The dev stack's token reaches no zone at all, so the one DNS Read makes example.dev visible too.
    expect(lines[2]).toContain("got 1 zone(s) outside the stack visible: example.dev");
    expect(run.lines.at(-1)).toBe("9 passed, 4 failed");
  });

  it("catches the 'all zones' / 'all accounts' over-grant by listing zones and with --foreign-*", async () => {
    const dev = repoStack("dev");
    const grants = [
      { permission: "Zone Read", resource: "com.cloudflare.api.account.zone.*" },
      { permission: "Workers Scripts Write", resource: "com.cloudflare.api.account.*" },
    ];
    await serve([stackToken(dev, { grants })]);
    const listed = await verify(["--stack", "dev"]);
    const [zonesLine, ...rest] = failing(listed.lines);
    expect(rest).toEqual([]);
    expect(zonesLine).toContain("list zones: only the stack's zones are visible");
    expect(zonesLine).toContain("got 6 zone(s) outside the stack visible: example.dev");
    expect(zonesLine).toContain("and 1 more");
    expect(zonesLine).toContain("excess: zone permissions on 6 zone(s) outside the stack");

    const named = await verify([
      "--stack",
      "dev",
      "--foreign-zone",
      ZONE_OTHER,
      "--foreign-account",
      ACCOUNT_OTHER,
    ]);
    const names = failing(named.lines).map((line) => line.split(":")[0]);
    expect(names).toEqual([
      `FAIL read zone ${ZONE_OTHER} (outside the stack)`,
      `FAIL read settings of account ${ACCOUNT_OTHER} (not the stack's)`,
      `FAIL list Worker scripts on account ${ACCOUNT_OTHER} (not the stack's)`,
    ]);
    expect(named.code).toBe(1);
  });

  it.each([
    [
      "expired",
      { status: "expired", expiresOn: toRfc3339(new Date(NOW.getTime() - DAY_MS)) },
      ["token status", "token expiry"],
    ],
    ["disabled", { status: "disabled" }, ["token status"]],
    ["not yet valid", { notBefore: toRfc3339(new Date(NOW.getTime() + 2 * DAY_MS)) }, ["token not before"]],
  ] as const)("fails a %s token and does not probe with it", async (_label, overrides, failed) => {
    const dev = repoStack("dev");
    const server = await serve([stackToken(dev, overrides as Partial<FakeToken>)]);
    const run = await verify(["--stack", "dev"]);
    expect(run.code).toBe(1);
    const names = failing(run.lines).map((line) => line.slice(5, line.indexOf(":")));
    expect(names).toEqual([...failed, "permission probes (8)"]);
    expect(server.requests).toHaveLength(1);
  });

  it("checks days left against the rotation schedule", async () => {
    const dev = repoStack("dev");
    const soon = toRfc3339(new Date(NOW.getTime() + 3 * DAY_MS));
    await serve([stackToken(dev, { expiresOn: soon })]);
    const short = await verify(["--stack", "dev"]);
    const [line] = failing(short.lines);
    expect(line).toMatch(
      /^FAIL days left against the rotation schedule: expected expires between .* got 3\.0 days left/,
    );
    expect(line).toContain(
      "fix: rotate the deploy token: pulumi config set scoped-edge:rotationGeneration 1 --stack dev",
    );
    await fake!.close();

    await serve([stackToken(dev, { expiresOn: toRfc3339(new Date(NOW.getTime() + 80 * DAY_MS)) })]);
    const long = await verify(["--stack", "dev"]);
    expect(failing(long.lines)[0]).toContain("lives longer than the stack's 45-day TTL");
    await fake!.close();

    const { expiresOn: _omit, ...forever } = stackToken(dev);
    await serve([forever]);
    const never = await verify(["--stack", "dev"]);
    expect(failing(never.lines)[0]).toMatch(
      /^FAIL token expiry: expected an expires_on date; got never expires/,
    );
    expect(never.code).toBe(1);
  });

  it("tells a user-owned token apart from the account-owned one the stack expects", async () => {
    const dev = repoStack("dev");
    const { accountId: _a, ...token } = stackToken(dev, { owner: "user" });
    await serve([token]);
    const run = await verify(["--stack", "dev"]);
    expect(failing(run.lines)[0]).toContain("the token is user-owned, but the stack's tokenOwner is account");
    expect(run.code).toBe(1);
  });

  it("fails clearly on an unknown token", async () => {
    await serve([]);
    const run = await verify(["--stack", "dev"]);
    expect(failing(run.lines)[0]).toContain("got 401 (code 1000: Invalid API Token)");
    expect(failing(run.lines)[0]).toContain("Cloudflare does not know this token");
  });

  it("honours Retry-After on 429, then succeeds", async () => {
    const dev = repoStack("dev");
    const server = await serve([stackToken(dev)], {
      fault: ({ path, seen }) =>
        path.endsWith("/storage/kv/namespaces") && seen === 0
          ? { kind: "status", status: 429, headers: { "retry-after": "1" }, message: "Rate limited" }
          : undefined,
    });
    const run = await verify(["--stack", "dev"]);
    expect(failing(run.lines)).toEqual([]);
    expect(run.code).toBe(0);
    expect(server.requests.filter((request) => request.path.endsWith("/kv/namespaces"))).toHaveLength(2);
    expect(run.ms).toBeGreaterThanOrEqual(950); // the 1 s Retry-After, not the 5 ms test backoff
  });

  it("gives up on 429 after the bounded attempts, and refuses to wait for a huge Retry-After", async () => {
    const dev = repoStack("dev");
    const server = await serve([stackToken(dev)], {
      fault: ({ path }) =>
        path.endsWith("/workers/scripts")
          ? { kind: "status", status: 429, message: "Rate limited" }
          : path.endsWith("/workers/routes")
            ? { kind: "status", status: 429, headers: { "retry-after": "3600" }, message: "Rate limited" }
            : undefined,
    });
    const run = await verify(["--stack", "dev"]);
    const lines = failing(run.lines);
    expect(lines[0]).toContain("got 429 (code 971: Rate limited) after 3 attempts");
    expect(lines[1]).toContain("Retry-After 3600 s is longer than the verifier waits");
    expect(server.requests.filter((request) => request.path.endsWith("/workers/scripts"))).toHaveLength(3);
    expect(server.requests.filter((request) => request.path.endsWith("/workers/routes"))).toHaveLength(1);
    expect(run.ms).toBeLessThan(2_000);
  });

  it("retries a 5xx and then succeeds", async () => {
    const dev = repoStack("dev");
    await serve([stackToken(dev)], {
      fault: ({ path, seen }) =>
        path === `/zones/${ZONE_DEV}/workers/routes` && seen < 2
          ? { kind: "status", status: 502, message: "Bad gateway" }
          : undefined,
    });
    const run = await verify(["--stack", "dev"]);
    expect(failing(run.lines)).toEqual([]);
  });

  it("does not hang on a server that never answers, or stalls mid-body", async () => {
    await serve([], { fault: () => ({ kind: "hang" }) });
    const run = await verify(["--stack", "dev", "--timeout-ms", "150"], {
      retry: { ...FAST_RETRY, timeoutMs: 150, attempts: 2 },
    });
    expect(run.code).toBe(1);
    expect(run.lines[0]).toMatch(
      /^FAIL verify endpoint \(account-owned token\): .*got no answer within 150 ms \(2 attempts\)/,
    );
    expect(run.lines[0]).toContain("fix: check the network path to the API, or raise --timeout-ms");
    expect(run.lines.at(-1)).toBe("0 passed, 2 failed");
    expect(run.ms).toBeLessThan(3_000);
    await fake!.close();

    const dev = repoStack("dev");
    await serve([stackToken(dev)], {
      fault: ({ path }) => (path.endsWith("/workers/scripts") ? { kind: "stall-body" } : undefined),
    });
    const stalled = await verify(["--stack", "dev"], {
      retry: { ...FAST_RETRY, timeoutMs: 150, attempts: 2 },
    });
    expect(failing(stalled.lines)[0]).toContain("got no answer within 150 ms (2 attempts)");
    expect(stalled.ms).toBeLessThan(3_000);
  });

  it("reports a refused connection clearly", async () => {
    const closed = await serve([]);
    await closed.close();
    const run = await verify(["--stack", "dev"]);
    expect(run.lines[0]).toMatch(
      /got connection refused \(3 attempts\): connect ECONNREFUSED 127\.0\.0\.1:\d+/,
    );
    expect(run.lines[0]).toContain("nothing accepts connections at the API address");
    expect(run.lines[0]).toContain("fix: check the host and port in --api-base-url");
    expect(run.lines[0]).not.toContain("--timeout-ms");
    expect(run.code).toBe(1);
  });

  it("prints one JSON document with --json", async () => {
    const dev = repoStack("dev");
    const grants = rightSizedGrants(dev).filter((grant) => grant.permission !== "Workers Scripts Write");
    await serve([stackToken(dev, { grants })]);
    const run = await verify(["--stack", "dev", "--json"]);
    const doc = JSON.parse(run.stdout) as {
      ok: boolean;
      summary: string;
      passed: number;
      failed: number;
      checks: { name: string; passed: boolean; missing?: string[] }[];
    };
    expect(doc.ok).toBe(false);
    expect(doc.summary).toBe("12 passed, 1 failed");
    expect(doc.checks.filter((check) => !check.passed).map((check) => check.missing)).toEqual([
      [`Workers Scripts Write on com.cloudflare.api.account.${ACCOUNT_DEV}`],
    ]);
    expect(run.code).toBe(1);
  });

  it("never prints the token, even when the API echoes it back", async () => {
    const dev = repoStack("dev");
    await serve([stackToken(dev)], {
      fault: ({ path }) => (path.endsWith("/workers/scripts") ? { kind: "echo-authorization" } : undefined),
    });
    const run = await verify(["--stack", "dev"]);
    expect(failing(run.lines)[0]).toContain("Authentication error for header Bearer [redacted]");
    const json = await verify(["--stack", "dev", "--json"]);
    expect(json.stdout).toContain("[redacted]");
    // Every scenario in this file went through verify(), which asserts the same on each run.
    expect(outputs.length).toBeGreaterThan(20);
    for (const text of outputs) {
      expect(text).not.toContain(TOKEN);
      for (let start = 0; start + 8 <= TOKEN.length; start++)
        expect(text).not.toContain(TOKEN.slice(start, start + 8));
    }
  });
});
