/**
 * Proof with the real client: wrangler 4.86.0 runs the application's deploy (`deploy` first and
 * repeat, `secret put`, `secret bulk`) against the Cloudflare API stand-in, which enforces each
 * endpoint's accepted permission groups (policies/lib/deploy-calls.ts, cited per row), with a token
 * holding exactly the grants derived for the committed dev stack (and the dev stack with
 * routesDeployedBy: ci). All pass; with any one derived grant removed, the flow that needs it fails;
 * a CI deploy keeps every binding, var and secret Pulumi set. Offline: see run-wrangler.ts.
 */
import path from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import type { StackConfig } from "../../lib/config";
import { wranglerConfigFor, type WranglerConfig } from "../../lib/deploy-contract";
import { footprintOf } from "../../lib/footprint";
import { DEPLOY_CALLS } from "../../policies/lib/deploy-calls";
import { deriveGrants, type Grant } from "../../policies/lib/derive";
import { loadStackConfig } from "../../tools/verify/stack";
import { WORKER_BINDINGS } from "../../worker/src/defaults";
import {
  newWorkersState,
  scriptOf,
  seedScript,
  workersRoutes,
  workersState,
} from "../standin/routes/workers";
import { startStandin, type LoggedRequest, type Standin } from "../standin/server";
import { wranglerProject, type WranglerProject } from "./run-wrangler";

const ROOT = path.resolve(__dirname, "../..");
const DEV = loadStackConfig(ROOT, "dev");
const DEV_CI_ROUTES: StackConfig = { ...DEV, routesDeployedBy: "ci" };
const KV_ID = "c0ffee00c0ffee00c0ffee00c0ffee00";
const PROVIDER_KEY_TEXT = "provider-key-set-by-pulumi";
const TOKEN = "deploy-token-value";
const WRANGLER_TIMEOUT = 120_000;

const SCENARIOS = [
  ["dev (routesDeployedBy: pulumi)", DEV],
  ["dev with routesDeployedBy: ci", DEV_CI_ROUTES],
] as const;

// Cleaned up after the file, not after each test: the tests run concurrently.
const open: { standin: Standin; project: WranglerProject }[] = [];
afterAll(async () => {
  for (const { standin, project } of open.splice(0)) {
    project.remove();
    await standin.close();
  }
});

const grantsOf = (config: StackConfig): Grant[] =>
  deriveGrants(footprintOf(config)).map(({ permission, resource }) => ({ permission, resource }));

async function setUp(config: StackConfig, grants: readonly Grant[], contract?: WranglerConfig) {
  const zones = config.zones.map((zone) => ({ id: zone.id, name: zone.name, accountId: config.accountId }));
  const standin = await startStandin({ routes: workersRoutes(), state: newWorkersState(zones) });
  standin.addToken({ value: TOKEN, grants, owner: { kind: "account", accountId: config.accountId } });
  const project = wranglerProject(
    contract ?? wranglerConfigFor(config, { kvNamespaceId: KV_ID }),
    standin.baseUrl,
    config.accountId,
  );
  open.push({ standin, project });
  const run = (args: string[], stdin?: string) =>
    project.run(args, { token: TOKEN, ...(stdin === undefined ? {} : { stdin }) });
  return { standin, project, run };
}

/** The Worker as Pulumi's first upload leaves it (EdgeWorker's bindings), plus a var the contract does not name. */
function seedPulumiScript(standin: Standin, config: StackConfig) {
  return seedScript(standin.state, {
    accountId: config.accountId,
    name: config.worker.name,
    compatibilityDate: config.worker.compatibilityDate,
    bindings: [
      { type: "kv_namespace", name: WORKER_BINDINGS.kv, namespace_id: KV_ID },
      {
        type: "ratelimit",
        name: WORKER_BINDINGS.rateLimiter,
        namespace_id: config.worker.rateLimit.namespaceId,
        simple: { limit: config.worker.rateLimit.limit, period: config.worker.rateLimit.periodSeconds },
      },
      { type: "secret_text", name: WORKER_BINDINGS.providerKey, text: PROVIDER_KEY_TEXT },
      ...Object.entries(config.worker.vars).map(([name, text]) => ({ type: "plain_text", name, text })),
      { type: "plain_text", name: "VERSION", text: "pulumi-1" },
    ],
  });
}

/** "METHOD /path/{template}" of a logged request, from the call table; undefined when no row matches. */
function callOf(request: LoggedRequest): string | undefined {
  const row = DEPLOY_CALLS.find(
    (call) =>
      call.method === request.method &&
      new RegExp(`^${call.path.replace(/\{[a-z_]+\}/g, "[^/]+")}$`).test(request.path),
  );
  return row === undefined ? undefined : `${row.method} ${row.path}`;
}

const calls = (standin: Standin) =>
  standin.requests.map((request) => `${callOf(request)} -> ${request.status}`);

describe("real wrangler 4.86.0 against the stand-in, with exactly the derived grants", () => {
  it("derives Workers Scripts Write on the account for dev, plus Workers Routes Write on its zone with routesDeployedBy: ci", () => {
    const account = `com.cloudflare.api.account.${DEV.accountId}`;
    expect(grantsOf(DEV)).toEqual([{ permission: "Workers Scripts Write", resource: account }]);
    expect(grantsOf(DEV_CI_ROUTES)).toEqual([
      { permission: "Workers Scripts Write", resource: account },
      { permission: "Workers Routes Write", resource: `com.cloudflare.api.account.zone.${DEV.zones[0]!.id}` },
    ]);
  });

  it.concurrent.each(SCENARIOS)(
    "%s: deploy (first and repeat), secret put and secret bulk all pass, using only calls in the table",
    async (_name, config) => {
      const { standin, run } = await setUp(config, grantsOf(config));

      const first = await run(["deploy"]);
      expect(first.stderr).not.toMatch(/ERROR/);
      expect(first.code).toBe(0);
      const repeat = await run(["deploy"]);
      expect(repeat.code).toBe(0);
      const put = await run(["secret", "put", "APP_SECRET"], "app-secret-value\n");
      expect(put.code).toBe(0);
      const bulk = await run(["secret", "bulk"], JSON.stringify({ BULK_ONE: "1", BULK_TWO: "2" }));
      expect(bulk.code).toBe(0);

      // Every call wrangler made is a row of the table; the only refusal is the tolerated all-zones PUT.
      expect(calls(standin).filter((line) => line.startsWith("undefined"))).toEqual([]);
      const refused = standin.requests.filter((request) => request.status === 403);
      const expectedRefusals =
        config.routesDeployedBy === "ci"
          ? [`PUT /accounts/{account_id}/workers/scripts/{script_name}/routes`]
          : [];
      expect([...new Set(refused.map(callOf))]).toEqual(expectedRefusals);
      // First deploy: a new script (PUT); repeat: a version and a deployment.
      const made = new Set(standin.requests.filter((request) => request.status < 400).map(callOf));
      for (const call of [
        "PUT /accounts/{account_id}/workers/scripts/{script_name}",
        "POST /accounts/{account_id}/workers/scripts/{script_name}/versions",
        "POST /accounts/{account_id}/workers/scripts/{script_name}/deployments",
        "PUT /accounts/{account_id}/workers/scripts/{script_name}/secrets",
        "PATCH /accounts/{account_id}/workers/scripts/{script_name}/settings",
      ]) {
        expect(made).toContain(call);
      }
      expect(made.has("GET /zones")).toBe(false); // every contract route names its zone

      const script = scriptOf(standin.state, config.accountId, config.worker.name)!;
      expect(script.current.modules["index.js"]).toContain("app code from CI");
      expect(script.current.bindings.map((binding) => binding.name).sort()).toEqual(
        [
          "ALLOWED_ORIGINS",
          "APP_SECRET",
          "BULK_ONE",
          "BULK_TWO",
          WORKER_BINDINGS.kv,
          WORKER_BINDINGS.rateLimiter,
        ].sort(),
      );
      const routes = [...workersState(standin.state).zoneRoutes.values()].flat();
      expect(routes.map((route) => `${route.pattern} -> ${route.script}`)).toEqual(
        config.routesDeployedBy === "ci" ? [`api.example.dev/* -> ${config.worker.name}`] : [],
      );
    },
    WRANGLER_TIMEOUT,
  );
});

describe("with one derived grant removed, the flow that needs it fails", () => {
  // Each distinct derived grant once, in the scenario that derives it.
  const seen = new Set<string>();
  const cases = SCENARIOS.flatMap(([name, config]) =>
    grantsOf(config)
      .filter((grant) => !seen.has(grant.permission) && seen.add(grant.permission))
      .map((removed) => [removed.permission, removed.resource, name, config, removed] as const),
  );

  it.concurrent.each(cases)(
    "without %s on %s (%s)",
    async (_permission, _resource, _name, config, removed) => {
      const { standin, run } = await setUp(
        config,
        grantsOf(config).filter(
          (grant) => !(grant.permission === removed.permission && grant.resource === removed.resource),
        ),
      );
      seedPulumiScript(standin, config); // after `pulumi up`: the script exists
      const flows: [string, string[], string?][] =
        removed.permission === "Workers Scripts Write"
          ? [
              ["deploy", ["deploy"]],
              ["secret put", ["secret", "put", "APP_SECRET"], "value\n"],
              ["secret bulk", ["secret", "bulk"], JSON.stringify({ BULK_ONE: "1" })],
            ]
          : [["deploy", ["deploy"]]];
      for (const [flow, args, stdin] of flows) {
        const result = await run(args, stdin);
        expect({ flow, code: result.code }).toEqual({ flow, code: 1 });
        expect(result.stderr + result.stdout).toContain("Authentication error [code: 10000]");
      }
      const refused = standin.requests.filter((request) => request.status === 403).map(callOf);
      const needing = DEPLOY_CALLS.filter((call) => call.grant === removed.permission).map(
        (call) => `${call.method} ${call.path}`,
      );
      expect(refused.some((call) => call !== undefined && needing.includes(call))).toBe(true);
    },
    WRANGLER_TIMEOUT,
  );
});

describe("ownership: a CI deploy after `pulumi up` drops nothing Pulumi set", () => {
  it(
    "keeps Pulumi's bindings, vars and PROVIDER_KEY, and replaces only the code",
    async () => {
      const { standin, run } = await setUp(DEV, grantsOf(DEV));
      const before = seedPulumiScript(standin, DEV).current;
      const deploy = await run(["deploy"]);
      expect(deploy.code).toBe(0);

      const after = scriptOf(standin.state, DEV.accountId, DEV.worker.name)!.current;
      expect(after.modules["index.js"]).toContain("app code from CI");
      const sortByName = (bindings: readonly { name: string }[]) =>
        [...bindings].sort((a, b) => a.name.localeCompare(b.name));
      expect(sortByName(after.bindings)).toEqual(sortByName(before.bindings));
      expect(after.bindings.find((binding) => binding.name === WORKER_BINDINGS.providerKey)).toEqual({
        type: "secret_text",
        name: WORKER_BINDINGS.providerKey,
        text: PROVIDER_KEY_TEXT,
      });
    },
    WRANGLER_TIMEOUT,
  );

  it(
    "without the contract's keep_vars, the same deploy drops Pulumi's secret and a var the config does not name",
    async () => {
      const { keep_vars: _keepVars, ...withoutKeepVars } = wranglerConfigFor(DEV, { kvNamespaceId: KV_ID });
      const { standin, run } = await setUp(DEV, grantsOf(DEV), withoutKeepVars as WranglerConfig);
      seedPulumiScript(standin, DEV);
      expect((await run(["deploy"])).code).toBe(0);
      const names = scriptOf(standin.state, DEV.accountId, DEV.worker.name)!.current.bindings.map(
        (b) => b.name,
      );
      expect(names).not.toContain(WORKER_BINDINGS.providerKey);
      expect(names).not.toContain("VERSION");
    },
    WRANGLER_TIMEOUT,
  );
});
