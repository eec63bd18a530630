/** The deploy contract (lib/deploy-contract.ts) and its offline printer (npm run wrangler-config). */
import path from "node:path";

import { describe, expect, it } from "vitest";

import type { StackConfig } from "../../lib/config";
import { DeployContractError, wranglerConfigFor } from "../../lib/deploy-contract";
import { footprintOf } from "../../lib/footprint";
import { deriveGrants } from "../../policies/lib/derive";
import { KV_NAMESPACE_ID_PLACEHOLDER, main } from "../../tools/wrangler-config/cli";
import { loadStackConfig } from "../../tools/verify/stack";
import { spawnScript } from "../helpers/spawn-script";

const ROOT = path.resolve(__dirname, "../..");
const PROD = loadStackConfig(ROOT, "prod");
const KV = "0123456789abcdef0123456789abcdef";

describe("wranglerConfigFor", () => {
  it("gives the app's wrangler everything but main: name, account, bindings, vars, keep_vars, no workers.dev", () => {
    expect(wranglerConfigFor(PROD, { kvNamespaceId: KV })).toEqual({
      name: "edge-chat",
      account_id: "0000000000000000000000000000a002",
      compatibility_date: PROD.worker.compatibilityDate,
      compatibility_flags: ["enable_request_signal"],
      workers_dev: false,
      preview_urls: false,
      keep_vars: true,
      kv_namespaces: [{ binding: "CONFIG_KV", id: KV }],
      ratelimits: [
        {
          name: "RATE_LIMITER",
          namespace_id: PROD.worker.rateLimit.namespaceId,
          simple: { limit: PROD.worker.rateLimit.limit, period: PROD.worker.rateLimit.periodSeconds },
        },
      ],
      vars: { ALLOWED_ORIGINS: "https://www.example.com,https://www.example.net" },
    });
  });

  it("carries the routes, each with its zone_id, only when routesDeployedBy is ci", () => {
    const contract = wranglerConfigFor({ ...PROD, routesDeployedBy: "ci" }, { kvNamespaceId: KV });
    expect(contract.routes).toEqual([
      { pattern: "api.example.com/*", zone_id: "0000000000000000000000000000d003" },
      { pattern: "example.com/v1/*", zone_id: "0000000000000000000000000000d003" },
      { pattern: "api.example.net/*", zone_id: "0000000000000000000000000000d004" },
    ]);
  });

  it("binds the R2 bucket when the stack has one", () => {
    const contract = wranglerConfigFor({ ...PROD, r2Bucket: "edge-assets" }, { kvNamespaceId: KV });
    expect(contract.r2_buckets).toEqual([{ binding: "ASSETS_BUCKET", bucket_name: "edge-assets" }]);
  });

  it("has no contract when Pulumi deploys the code, and refuses an empty KV id", () => {
    const pulumiDeploys: StackConfig = { ...PROD, codeDeployedBy: "pulumi" };
    expect(() => wranglerConfigFor(pulumiDeploys, { kvNamespaceId: KV })).toThrow(DeployContractError);
    expect(() => wranglerConfigFor(pulumiDeploys, { kvNamespaceId: KV })).toThrow("codeDeployedBy: pulumi");
    expect(() => wranglerConfigFor(PROD, { kvNamespaceId: "" })).toThrow("kvNamespaceId is empty");
  });
});

describe("the derived grant set of each committed stack", () => {
  const grants = (config: StackConfig) =>
    deriveGrants(footprintOf(config)).map((grant) => `${grant.permission} @ ${grant.resource}`);
  const account = (id: string) => `com.cloudflare.api.account.0000000000000000000000000000${id}`;
  const zone = (id: string) => `com.cloudflare.api.account.zone.0000000000000000000000000000${id}`;

  it.each([
    ["dev", [`Workers Scripts Write @ ${account("a001")}`]],
    ["staging", [`Workers Scripts Write @ ${account("a001")}`]],
    ["prod", [`Workers Scripts Write @ ${account("a002")}`]],
  ])("%s: Workers Scripts Write on its account only", (stack, expected) => {
    expect(grants(loadStackConfig(ROOT, stack))).toEqual(expected);
  });

  it("prod with routesDeployedBy: ci adds Workers Routes Write on its two route zones; codeDeployedBy: pulumi has none", () => {
    expect(grants({ ...PROD, routesDeployedBy: "ci" })).toEqual([
      `Workers Scripts Write @ ${account("a002")}`,
      `Workers Routes Write @ ${zone("d003")}`,
      `Workers Routes Write @ ${zone("d004")}`,
    ]);
    expect(grants({ ...PROD, codeDeployedBy: "pulumi", routesDeployedBy: "ci" })).toEqual([]);
  });
});

function runCli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(args, { stdout: (t) => out.push(t), stderr: (t) => err.push(t), root: ROOT });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

describe("npm run wrangler-config", () => {
  it("prints the stack's contract as JSON, with the given KV id", () => {
    const run = runCli(["--stack", "prod", "--kv-namespace-id", KV]);
    expect(run).toEqual({
      code: 0,
      stdout: `${JSON.stringify(wranglerConfigFor(PROD, { kvNamespaceId: KV }), null, 2)}\n`,
      stderr: "",
    });
  });

  it("says on stderr that the KV id is a placeholder when none is given", () => {
    const run = runCli(["--stack", "dev"]);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { kv_namespaces: { id: string }[] }).kv_namespaces[0]!.id).toBe(
      KV_NAMESPACE_ID_PLACEHOLDER,
    );
    expect(run.stderr).toContain(`kv_namespaces[0].id is the placeholder ${KV_NAMESPACE_ID_PLACEHOLDER}`);
  });

  it.each([
    [["--stack"], 2, "wrangler-config: Option '--stack <value>' argument missing"],
    [[], 2, "wrangler-config: --stack is required (e.g. --stack dev)"],
    [["--stack", "dev", "--kv"], 2, "wrangler-config: Unknown option '--kv'"],
    [
      ["--stack", "dev", "--kv-namespace-id", "x\u001b[2J"],
      2,
      'wrangler-config: --kv-namespace-id "x\\u001b[2J" is not a KV namespace id (32 lowercase hex characters)',
    ],
    [["--stack", "qa"], 1, "wrangler-config: no stack file Pulumi.qa.yaml"],
  ])("refuses %j (exit %i), naming the problem", (args, code, message) => {
    const run = runCli(args);
    expect(run.code).toBe(code);
    expect(run.stdout).toBe("");
    expect(run.stderr.startsWith(message)).toBe(true);
    expect(run.stderr).not.toContain("\u001b");
  });

  it("runs as the npm script's entry point", async () => {
    const run = await spawnScript("tools/wrangler-config/main.ts", [
      "--stack",
      "staging",
      "--kv-namespace-id",
      KV,
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ name: "edge-chat-staging", kv_namespaces: [{ id: KV }] });
  }, 60_000);
});
