/**
 * The verifier cannot be fooled: redirects are never followed (so answers from a host that never saw
 * the token never count), the whole run has a deadline, DNS failure / refusal / timeout / non-API
 * answers each get their own message and fix, and a server echoing the token in disguise is redacted.
 */
import { afterEach, describe, expect, it } from "vitest";

import { base64Cores } from "../../tools/verify/redact";
import {
  startFakeCloudflare,
  type FakeCloudflare,
  type FakeOptions,
  type FakeToken,
} from "./fake-cloudflare";
import {
  ACCOUNT_DEV,
  ACCOUNTS,
  FAST_RETRY,
  NOW,
  repoStack,
  runCli,
  stackToken,
  TOKEN,
  ZONES,
} from "./fixtures";

const servers: FakeCloudflare[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(tokens: FakeToken[], extra: Partial<FakeOptions> = {}): Promise<FakeCloudflare> {
  const server = await startFakeCloudflare({
    tokens,
    zones: ZONES,
    accounts: ACCOUNTS,
    now: () => NOW,
    ...extra,
  });
  servers.push(server);
  return server;
}

function expectNoToken(text: string): void {
  expect(text).not.toContain(TOKEN);
  expect(text.toLowerCase()).not.toContain(TOKEN.toLowerCase().slice(0, 8));
  for (let start = 0; start + 8 <= TOKEN.length; start++) {
    expect(text.toLowerCase()).not.toContain(TOKEN.slice(start, start + 8).toLowerCase());
  }
  for (const core of base64Cores(TOKEN)) expect(text).not.toContain(core.slice(0, 12));
}

async function verify(server: FakeCloudflare, args: string[], options: Parameters<typeof runCli>[1] = {}) {
  const run = await runCli(["--api-base-url", server.url, ...args], options);
  expectNoToken(run.stdout + run.stderr);
  return run;
}

const failing = (lines: string[]) => lines.filter((line) => line.startsWith("FAIL"));

describe("redirects", () => {
  it("never follows a redirect to another origin: a failed check that names it, nothing sent there", async () => {
    const dev = repoStack("dev");
    // The other host would say yes to everything, for any token.
    const elsewhere = await serve([stackToken(dev, { value: "unused-token-value-0000" })], {
      fault: () => ({ kind: "status", status: 200 }),
    });
    const origin = new URL(elsewhere.url).origin;
    const api = await serve([stackToken(dev)], {
      fault: ({ path }) =>
        path.endsWith("/workers/scripts")
          ? { kind: "redirect", status: 307, location: `${elsewhere.url}${path}` }
          : undefined,
    });
    const run = await verify(api, ["--stack", "dev"]);
    expect(run.code).toBe(1);
    const [line, ...others] = failing(run.lines);
    expect(others).toEqual([]);
    expect(line).toContain(`got 307 redirect to another origin, ${origin} (not followed)`);
    expect(line).toContain("following it would report answers from a host that never saw the token");
    expect(line).toContain("fix: point --api-base-url at Cloudflare's API itself");
    expect(elsewhere.requests).toEqual([]);
  });

  it("refuses a redirect on the verify endpoint too, and a same-origin one with its own message", async () => {
    const dev = repoStack("dev");
    const api = await serve([stackToken(dev)], {
      fault: ({ path }) =>
        path.endsWith("/tokens/verify")
          ? { kind: "redirect", status: 302, location: "https://evil.example/client/v4/x" }
          : path.endsWith("/storage/kv/namespaces")
            ? { kind: "redirect", status: 301, location: "/client/v4/elsewhere" }
            : undefined,
    });
    const run = await verify(api, ["--stack", "dev"]);
    expect(run.lines[0]).toContain("got 302 redirect to another origin, https://evil.example (not followed)");
    expect(run.lines.at(-1)).toBe("0 passed, 2 failed");

    const sameOrigin = await serve([stackToken(dev)], {
      fault: ({ path }) =>
        path.endsWith("/storage/kv/namespaces")
          ? { kind: "redirect", status: 301, location: "/client/v4/elsewhere" }
          : undefined,
    });
    const same = await verify(sameOrigin, ["--stack", "dev"]);
    const [line] = failing(same.lines);
    expect(line).toContain("got 301 redirect within the API origin (not followed)");
    expect(line).toContain("Cloudflare's v4 API does not redirect API calls");
    expect(sameOrigin.requests.map((request) => request.path)).not.toContain("/elsewhere");
  });
});

describe("the overall deadline", () => {
  it("ends a run where every call hangs in time, with the deadline named", async () => {
    const api = await serve([], { fault: () => ({ kind: "hang" }) });
    const run = await verify(api, ["--stack", "dev", "--deadline-ms", "400"], {
      // Per-try timeout and attempts that alone would take 3 x 5 s.
      retry: { ...FAST_RETRY, timeoutMs: 5_000, attempts: 3 },
    });
    expect(run.code).toBe(1);
    expect(run.lines[0]).toContain("got cut off by the overall deadline (1 attempt)");
    expect(run.lines[0]).toContain("fix: re-run with a larger --deadline-ms");
    expect(run.ms).toBeLessThan(2_000);
  });

  it("marks every probe the deadline left unrun", async () => {
    const dev = repoStack("dev");
    const api = await serve([stackToken(dev)], {
      fault: ({ path }) => (path.endsWith("/tokens/verify") ? undefined : { kind: "hang" }),
    });
    const run = await verify(api, ["--stack", "dev", "--deadline-ms", "500"], {
      retry: { ...FAST_RETRY, timeoutMs: 5_000, attempts: 3 },
    });
    const lines = failing(run.lines);
    expect(lines).toHaveLength(8); // every probe of the dev stack
    expect(lines[0]).toContain("got cut off by the overall deadline");
    for (const line of lines.slice(1)) expect(line).toContain("got not run: the overall deadline had passed");
    expect(run.ms).toBeLessThan(2_500);
  });
});

describe("each transport failure has its own message and fix", () => {
  it("a DNS failure names DNS and never advises a longer timeout", async () => {
    const run = await runCli([
      "--stack",
      "dev",
      "--api-base-url",
      "https://api.cloudflare.invalid/client/v4",
    ]);
    expect(run.lines[0]).toContain("got the API host name did not resolve");
    expect(run.lines[0]).toContain("the API's host name does not resolve, so nothing reached Cloudflare");
    expect(run.lines[0]).toContain("fix: check the host in --api-base-url");
    expect(run.lines[0]).not.toContain("raise --timeout-ms");
    expect(run.lines[1]).toContain("Cloudflare's API could not be reached");
    expect(run.code).toBe(1);
  });

  it("a non-JSON 200 is 'not Cloudflare's API', never a crash", async () => {
    const dev = repoStack("dev");
    const html = await serve([stackToken(dev)], {
      fault: ({ path }) => (path.endsWith("/tokens/verify") ? { kind: "html" } : undefined),
    });
    const run = await verify(html, ["--stack", "dev"]);
    expect(run.stderr).toBe("");
    expect(run.lines[0]).toContain("got 200 answer that is not JSON (text/html)");
    expect(run.lines[0]).toContain("something other than Cloudflare's API answered");
    expect(run.stdout).not.toContain("Cannot read properties");

    const bare = await serve([stackToken(dev)], {
      fault: ({ path }) =>
        path.endsWith("/workers/scripts") || path === "/zones" ? { kind: "bare-json" } : undefined,
    });
    const probes = await verify(bare, ["--stack", "dev"]);
    expect(probes.stderr).toBe("");
    const lines = failing(probes.lines);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toContain("got 200 JSON answer without Cloudflare's envelope");
  });

  it("a refused connection names the address, not the timeout", async () => {
    const closed = await serve([]);
    await closed.close();
    servers.splice(servers.indexOf(closed), 1);
    const run = await runCli(["--stack", "dev", "--api-base-url", closed.url]);
    expect(run.lines[0]).toContain("nothing accepts connections at the API address");
    expect(run.lines[0]).not.toContain("--timeout-ms");
  });
});

describe("server text is redacted however the token comes back", () => {
  it.each(["upper", "base64", "base64url", "split"] as const)("echoed %s", async (how) => {
    const dev = repoStack("dev");
    const api = await serve([stackToken(dev)], {
      fault: ({ path }) => (path.endsWith("/workers/scripts") ? { kind: "echo-disguised", how } : undefined),
    });
    const run = await verify(api, ["--stack", "dev"]);
    const json = await verify(api, ["--stack", "dev", "--json"]);
    expect(failing(run.lines)[0]).toContain("Authentication error for ");
    expect(run.stdout).toContain("[redacted]");
    expect(json.stdout).toContain("[redacted]");
  });

  it("escapes control characters a server sends, so they cannot forge a line", async () => {
    const dev = repoStack("dev");
    const api = await serve([stackToken(dev)], {
      fault: ({ path }) =>
        path.endsWith("/workers/scripts")
          ? { kind: "status", status: 403, message: "denied\nPASS everything: forged\u001b[8m" }
          : undefined,
    });
    const run = await verify(api, ["--stack", "dev"]);
    expect(run.lines.filter((line) => line.startsWith("PASS everything"))).toEqual([]);
    expect(run.stdout).toContain("denied\\x0aPASS everything: forged\\x1b[8m");
    expect(run.stdout).not.toContain("\u001b");
  });
});

describe("requests stay on the stack's account", () => {
  it("sends the token only to the API origin it was given", async () => {
    const dev = repoStack("dev");
    const api = await serve([stackToken(dev)]);
    await verify(api, ["--stack", "dev"]);
    expect(api.requests[0]!.path).toBe(`/accounts/${ACCOUNT_DEV}/tokens/verify`);
    expect(api.requests.every((request) => request.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });
});
