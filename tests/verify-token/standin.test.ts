/**
 * verify-token against the Cloudflare API stand-in (tests/standin): the Workers routes wrangler calls
 * (workers.ts), the token routes (tokens.ts) and the verifier's other read-only calls (probes.ts),
 * each enforcing its published accepted groups. The probe cases run here; transport faults
 * (hangs, stalled bodies, redirects, non-API answers, echoes, 429/5xx) and token states the stand-in
 * refuses before any route (disabled, expired) run against the fault-injecting fake in
 * verify.test.ts and hostile.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";

import type { StackConfig } from "../../lib/config";
import { loadStackConfig } from "../../tools/verify/stack";
import { probeRoutes } from "../standin/routes/probes";
import { tokenRoutes } from "../standin/routes/tokens";
import { newWorkersState, workersRoutes } from "../standin/routes/workers";
import { startStandin, type Standin, type StandinGrant } from "../standin/server";
import {
  ACCOUNT_DEV,
  ACCOUNT_OTHER,
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

const servers: Standin[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(config: StackConfig, grants: readonly StandinGrant[] = rightSizedGrants(config)) {
  const server = await startStandin({
    routes: [...workersRoutes(), ...tokenRoutes({ now: () => NOW }), ...probeRoutes()],
    state: newWorkersState(ZONES),
  });
  const token = stackToken(config);
  server.addToken({
    value: token.value,
    id: token.id,
    name: `scoped-edge-${config.stack}-deploy-0a1b2c3d`,
    grants,
    ...(token.expiresOn === undefined ? {} : { expiresOn: token.expiresOn }),
    owner:
      config.token.owner === "account" ? { kind: "account", accountId: config.accountId } : { kind: "user" },
  });
  servers.push(server);
  return server;
}

async function verify(server: Standin, args: string[], root?: string) {
  const run = await runCli(["--api-base-url", server.baseUrl, ...args], root === undefined ? {} : { root });
  expect(run.stdout + run.stderr).not.toContain(TOKEN);
  expect(server.requests.every((request) => request.method === "GET")).toBe(true);
  return run;
}

const failing = (lines: string[]) => lines.filter((line) => line.startsWith("FAIL"));

describe("verify-token against the stand-in", () => {
  it("passes the dev stack's derived token, calling each operation once", async () => {
    const dev = repoStack("dev");
    const server = await serve(dev);
    const run = await verify(server, ["--stack", "dev"]);
    expect(failing(run.lines)).toEqual([]);
    expect(run.code).toBe(0);
    expect(server.requests.map((request) => `${request.status} ${request.operationId}`)).toEqual([
      "200 account-api-tokens-verify-token",
      "200 worker-script-list-workers",
      "403 workers-kv-namespace-list-namespaces",
      "403 r2-list-buckets",
      "403 account-api-tokens-list-tokens",
      "403 worker-routes-list-routes",
      "403 dns-records-for-a-zone-list-dns-records",
      "403 custom-hostname-for-a-zone-list-custom-hostnames",
      "200 zones-get",
    ]);
  });

  it("passes a user-owned stack whose CI deploys routes, with foreign ids refused", async () => {
    const root = stackDir({ saas: SAAS_STACK });
    const saas = loadStackConfig(root, "saas");
    const server = await serve(saas);
    const run = await verify(
      server,
      ["--stack", "saas", "--foreign-zone", ZONE_OTHER, "--foreign-account", ACCOUNT_OTHER],
      root,
    );
    expect(failing(run.lines)).toEqual([]);
    expect(run.code).toBe(0);
    expect(server.requests.filter((r) => r.status === 200).map((r) => r.path)).toEqual([
      "/user/tokens/verify",
      `/accounts/${ACCOUNT_DEV}/workers/scripts`,
      `/zones/${ZONE_DEV}/dns_records`,
      `/zones/${ZONE_DEV}/workers/routes`,
    ]);
  });

  it("names the missing grant when Workers Scripts Write is absent", async () => {
    const dev = repoStack("dev");
    const server = await serve(
      dev,
      rightSizedGrants(dev).filter((grant) => grant.permission !== "Workers Scripts Write"),
    );
    const run = await verify(server, ["--stack", "dev"]);
    const [line, ...others] = failing(run.lines);
    expect(others).toEqual([]);
    expect(line).toContain(
      "FAIL list Worker scripts on the account: expected 200; got 403 (code 10000: Authentication error)",
    );
    expect(line).toContain(`missing: Workers Scripts Write on com.cloudflare.api.account.${ACCOUNT_DEV}`);
    expect(run.code).toBe(1);
  });

  it("names every excess grant of an over-privileged token", async () => {
    const dev = repoStack("dev");
    const server = await serve(dev, [
      ...rightSizedGrants(dev),
      { permission: "Workers KV Storage Write", resource: `com.cloudflare.api.account.${ACCOUNT_DEV}` },
      { permission: "Account API Tokens Read", resource: `com.cloudflare.api.account.${ACCOUNT_DEV}` },
      { permission: "Workers Routes Write", resource: `com.cloudflare.api.account.zone.${ZONE_DEV}` },
      { permission: "Zone Read", resource: "com.cloudflare.api.account.zone.*" },
    ]);
    const run = await verify(server, ["--stack", "dev"]);
    expect(failing(run.lines).map((line) => line.slice(0, line.indexOf(":")))).toEqual([
      "FAIL list KV namespaces on the account",
      "FAIL list account API tokens",
      "FAIL list Worker routes on zone example.dev",
      "FAIL list zones",
    ]);
    expect(run.stdout).toContain(
      `excess: Workers Routes Write or Workers Routes Read on com.cloudflare.api.account.zone.${ZONE_DEV}`,
    );
    expect(run.stdout).toContain("got 6 zone(s) outside the stack visible");
    expect(run.code).toBe(1);
  });
});
