/**
 * One owner per attribute (docs/ARCHITECTURE.md#ownership), under Pulumi's mock runtime: what the
 * program registers for `pulumi up`, a CI deploy in between, and `pulumi up` again.
 *
 * What the mock runtime proves: the exact inputs and resource options the engine receives in both
 * runs, and, applying the engine's documented rule for `ignoreChanges` (an ignored property keeps its
 * old input), that the second run asks the provider for no change of the script. What it cannot
 * prove: the engine and the provider themselves (no Pulumi CLI runs here) — that the provider's
 * update would PUT the whole script is read from terraform-provider-cloudflare's source
 * (internal/services/workers_script/resource.go), and what wrangler keeps on a deploy is read from
 * wrangler's source and exercised with the real wrangler in B's stand-in tests (tests/wrangler/).
 */
import { describe, expect, it } from "vitest";

import { CI_OWNED_SCRIPT_INPUTS } from "../components/edge-worker";
import { WRANGLER_CONFIG_VARIABLE_NAME } from "../lib/credentials";
import type { RegisteredResource } from "../tools/shared/offline-runtime";
import {
  changedInputs,
  collectUnhandledRejections,
  diffRuns,
  only,
  ofType,
  programResources,
  PROVIDER_KEY,
  runStack,
  TYPES,
  unwrapSecret,
  type StackRun,
} from "./helpers/program";

interface ScriptBinding {
  readonly name: string;
  readonly type: string;
  readonly [key: string]: unknown;
}

interface ContractConfig {
  readonly name: string;
  readonly keep_vars?: boolean;
  readonly kv_namespaces: { binding: string; id: string }[];
  readonly ratelimits: { name: string; namespace_id: string; simple: { limit: number; period: number } }[];
  readonly r2_buckets?: { binding: string; bucket_name: string }[];
  readonly vars: Record<string, string>;
}

function contractOf(run: StackRun): ContractConfig {
  const variable = programResources(run).find(
    (resource) => resource.inputs["variableName"] === WRANGLER_CONFIG_VARIABLE_NAME,
  );
  if (variable === undefined) throw new Error("no contract variable");
  return JSON.parse(variable.inputs["value"] as string) as ContractConfig;
}

/**
 * The Worker's bindings after the app's `wrangler deploy` with the contract: the bindings its config
 * declares, plus those already on the Worker of the types wrangler asks Cloudflare to keep. With
 * `keep_vars: true` wrangler 4.86 sends `keep_bindings: ["plain_text", "json", "secret_text",
 * "secret_key"]`, without it `["secret_text", "secret_key"]` (workers-sdk
 * packages/wrangler/src/deployment-bundle/create-worker-upload-form.ts; docs/DEPLOY-CONTRACT.md).
 */
function bindingsAfterCiDeploy(live: readonly ScriptBinding[], contract: ContractConfig): ScriptBinding[] {
  const declared: ScriptBinding[] = [
    ...contract.kv_namespaces.map((kv) => ({ name: kv.binding, type: "kv_namespace", namespaceId: kv.id })),
    ...contract.ratelimits.map((limit) => ({
      name: limit.name,
      type: "ratelimit",
      namespaceId: limit.namespace_id,
      simple: limit.simple,
    })),
    ...Object.entries(contract.vars).map(([name, text]) => ({ name, type: "plain_text", text })),
    ...(contract.r2_buckets ?? []).map((bucket) => ({
      name: bucket.binding,
      type: "r2_bucket",
      bucketName: bucket.bucket_name,
    })),
  ];
  const keep = new Set(
    contract.keep_vars === true
      ? ["plain_text", "json", "secret_text", "secret_key"]
      : ["secret_text", "secret_key"],
  );
  const names = new Set(declared.map((binding) => binding.name));
  return [...declared, ...live.filter((binding) => keep.has(binding.type) && !names.has(binding.name))];
}

const byName = (bindings: readonly ScriptBinding[]) =>
  [...bindings].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

describe("codeDeployedBy: ci (the default)", () => {
  it("uploads the first version and ignores every input CI's deploy owns afterwards", async () => {
    const run = await runStack("dev");
    expect(run.error).toBeUndefined();
    expect(only(run, TYPES.script).ignoreChanges).toEqual([
      "content",
      "contentSha256",
      "mainModule",
      "compatibilityDate",
      "compatibilityFlags",
      "bindings",
    ]);
    expect([...CI_OWNED_SCRIPT_INPUTS]).toEqual(only(run, TYPES.script).ignoreChanges);
    // Nothing else Pulumi owns ignores anything.
    for (const resource of programResources(run).filter((r) => r.type !== TYPES.script))
      expect(resource.ignoreChanges, resource.name).toEqual([]);
  });

  it("pulumi up, a CI deploy, pulumi up again: no diff anywhere, nothing Pulumi set dropped by the deploy", async () => {
    const first = await runStack("dev");
    expect(first.error).toBeUndefined();

    // After pulumi up the Worker has the script's bindings and the secret its WorkerSecret set
    // through the secrets endpoint (run for real in tests/worker-secret.test.ts).
    const [scriptBindings] = unwrapSecret(only(first, TYPES.script).inputs["bindings"]);
    const [providerKey] = unwrapSecret(only(first, TYPES.workerSecret).inputs["value"]);
    const pulumiBindings: ScriptBinding[] = [
      ...(scriptBindings as ScriptBinding[]),
      { name: "PROVIDER_KEY", type: "secret_text", text: providerKey },
    ];
    // The CI deploy with the published contract keeps every binding, var and secret Pulumi set.
    const afterDeploy = bindingsAfterCiDeploy(pulumiBindings, contractOf(first));
    expect(byName(afterDeploy)).toEqual(byName(pulumiBindings));
    expect(afterDeploy).toContainEqual({ name: "PROVIDER_KEY", type: "secret_text", text: PROVIDER_KEY });

    // The next pulumi up asks for no change at all: CI's code stays.
    const second = await runStack("dev");
    expect(second.error).toBeUndefined();
    expect(diffRuns(first, second)).toEqual({});
  });

  it("a changed var never re-uploads the script: it reaches the Worker through the contract on CI's next deploy", async () => {
    const first = await runStack("dev");
    const second = await runStack("dev", {
      set: {
        "scoped-edge:workerVars": JSON.stringify({ ALLOWED_ORIGINS: "https://new.example.dev" }),
        "scoped-edge:rateLimitRequests": "50",
      },
    });
    expect(second.error).toBeUndefined();
    // The script's bindings changed in Pulumi's inputs, but they are ignored: no update, no PUT.
    expect(changedInputs(only(first, TYPES.script), only(second, TYPES.script))).toEqual([]);
    const contractVariable = (run: StackRun) =>
      ofType(run, TYPES.envVariable).find((v) => v.inputs["variableName"] === WRANGLER_CONFIG_VARIABLE_NAME)!;
    expect(Object.values(diffRuns(first, second))).toEqual([["value"]]);
    expect(diffRuns(first, second)).toEqual({ [contractVariable(second).urn]: ["value"] });
    const contract = contractOf(second);
    expect(contract.vars).toEqual({ ALLOWED_ORIGINS: "https://new.example.dev" });
    expect(contract.ratelimits[0]!.simple).toEqual({ limit: 50, period: 60 });
  });

  it("would revert CI's code without ignoreChanges: the check above is not vacuous", async () => {
    const first = await runStack("dev");
    const second = await runStack("dev", {
      set: { "scoped-edge:workerVars": JSON.stringify({ ALLOWED_ORIGINS: "https://new.example.dev" }) },
    });
    const withoutIgnore = { ...only(second, TYPES.script), ignoreChanges: [] };
    expect(changedInputs(only(first, TYPES.script), withoutIgnore)).toEqual(["bindings"]);
  });
});

describe("PROVIDER_KEY: one owner in each mode", () => {
  it("codeDeployedBy ci: a WorkerSecret owns it, the script has no such binding", async () => {
    const run = await runStack("dev");
    expect(run.error).toBeUndefined();
    const [bindings] = unwrapSecret(only(run, TYPES.script).inputs["bindings"]);
    expect((bindings as ScriptBinding[]).map((binding) => binding.name)).toEqual([
      "CONFIG_KV",
      "RATE_LIMITER",
      "ALLOWED_ORIGINS",
    ]);
    expect(unwrapSecret(only(run, TYPES.workerSecret).inputs["value"])).toEqual([PROVIDER_KEY, true]);
    // Switching to codeDeployedBy pulumi drops the WorkerSecret after the script has bound the key:
    // retained, so its removal never deletes the key the script now owns.
    expect(run.retainedOnDelete.has(only(run, TYPES.workerSecret).urn)).toBe(true);
  });

  it("rotation: a new scoped-edge:providerKey and pulumi up change the WorkerSecret's value, nothing else", async () => {
    const first = await runStack("dev");
    const second = await runStack("dev", {
      set: { "scoped-edge:providerKey": "gsk_rotated_key_0000111122223333" },
    });
    expect(second.error).toBeUndefined();
    expect(diffRuns(first, second)).toEqual({ [only(second, TYPES.workerSecret).urn]: ["value"] });
    expect(unwrapSecret(only(second, TYPES.workerSecret).inputs["value"])).toEqual([
      "gsk_rotated_key_0000111122223333",
      true,
    ]);
  });

  it("uses the stack's cloudflare:apiToken (a secret) and cloudflare:baseUrl, as the Cloudflare provider does", async () => {
    const adminToken = "cf_admin_token_from_stack_config_0123";
    const run = await runStack("dev", {
      secrets: { "cloudflare:apiToken": adminToken },
      set: { "cloudflare:baseUrl": "https://cloudflare-proxy.example.com/client/v4" },
    });
    expect(run.error).toBeUndefined();
    const { __provider: provider, value, apiToken, ...inputs } = only(run, TYPES.workerSecret).inputs;
    expect(inputs).toEqual({
      accountId: "0000000000000000000000000000a001",
      scriptName: "edge-chat-dev",
      secretName: "PROVIDER_KEY",
      apiBaseUrl: "https://cloudflare-proxy.example.com/client/v4",
    });
    expect(unwrapSecret(value)).toEqual([PROVIDER_KEY, true]);
    expect(unwrapSecret(apiToken)).toEqual([adminToken, true]);
    expect(String(provider)).not.toContain(adminToken);
    // Nowhere else in plain.
    for (const resource of run.resources)
      for (const [key, input] of Object.entries(resource.inputs))
        if (!unwrapSecret(input)[1])
          expect(JSON.stringify(input) ?? "", `${resource.name}.${key}`).not.toContain(adminToken);
  });

  it("codeDeployedBy pulumi: the script's secret_text binding owns it, no WorkerSecret", async () => {
    const run = await runStack("dev", { set: { "scoped-edge:codeDeployedBy": "pulumi" } });
    expect(run.error).toBeUndefined();
    expect(ofType(run, TYPES.workerSecret)).toEqual([]);
    const [bindings, secret] = unwrapSecret(only(run, TYPES.script).inputs["bindings"]);
    expect(secret).toBe(true);
    expect((bindings as ScriptBinding[]).filter((binding) => binding.name === "PROVIDER_KEY")).toEqual([
      { name: "PROVIDER_KEY", type: "secret_text", text: PROVIDER_KEY },
    ]);
    expect(run.retainedOnDelete.size).toBe(0);
  });
});

describe("codeDeployedBy: pulumi", () => {
  it("deploys the code itself, and no deploy token, GitHub secret, contract or lookup exists at all", async () => {
    const run = await runStack("dev", { set: { "scoped-edge:codeDeployedBy": "pulumi" } });
    expect(run.error).toBeUndefined();
    expect(run.invokes).toEqual([]);
    const types = programResources(run).map((resource) => resource.type);
    expect(types.filter((type) => type.startsWith("github:") || type === TYPES.githubProvider)).toEqual([]);
    expect(ofType(run, TYPES.accountToken)).toHaveLength(0);
    expect(ofType(run, TYPES.apiToken)).toHaveLength(0);
    expect(ofType(run, TYPES.randomId)).toHaveLength(0);
    const script = only(run, TYPES.script);
    expect(script.ignoreChanges).toEqual([]);
    const [bindings] = unwrapSecret(script.inputs["bindings"]);
    expect((bindings as ScriptBinding[]).map((binding) => binding.name)).toEqual([
      "CONFIG_KV",
      "PROVIDER_KEY",
      "RATE_LIMITER",
      "ALLOWED_ORIGINS",
      "VERSION",
    ]);
    const outputs = run.outputs!;
    expect(outputs["deployToken"]).toBe(
      "none: codeDeployedBy is pulumi, so Pulumi deploys the Worker's code and no deploy token exists",
    );
    for (const key of [
      "deployTokenId",
      "deployTokenValue",
      "deployTokenStoredIn",
      "deployTokenExpiresOn",
      "rotation",
    ])
      expect(Object.keys(outputs)).not.toContain(key);
    const credentials = outputs["credentials"] as { credential: string }[];
    expect(credentials.map((row) => row.credential)).toEqual([
      "admin credential (cloudflare:apiToken)",
      "runtime key (PROVIDER_KEY)",
    ]);
    const admin = outputs["adminPermissions"] as { permission: string }[];
    expect(admin.map((grant) => grant.permission)).toEqual([
      "Workers Scripts Write",
      "Workers KV Storage Write",
      "Workers Routes Write",
    ]);
  });
});

describe("an empty token value", () => {
  it.each(["", "   "])(
    "fails with a clear error before anything is written to GitHub (value %j)",
    async (value) => {
      let resources: RegisteredResource[] = [];
      const errors = await collectUnhandledRejections(() => {
        // This run never settles: the GitHub resources' inputs reject, as under `pulumi up`.
        void runStack("dev", { tokenValue: value, observe: (live) => (resources = live) });
      });
      // Each GitHub resource's registration is refused with the same message (the SDK reports each
      // refusal on two promise chains), and nothing else went wrong.
      expect(errors.length).toBeGreaterThan(0);
      for (const error of errors) {
        expect(error.message).toMatch(
          /^error serializing property "(deploymentBranchPolicy|value)": Cloudflare returned an empty value for the deploy token "scoped-edge-dev-deploy-[0-9a-f]{8}"; nothing was written to GitHub\./,
        );
      }
      // The token exists; nothing of GitHub's was registered (the provider is configuration only).
      expect(resources.filter((resource) => resource.type === TYPES.accountToken)).toHaveLength(1);
      expect(
        resources
          .filter((resource) => resource.custom && resource.type.startsWith("github:"))
          .map((r) => r.type),
      ).toEqual([]);
    },
    30_000,
  );

  it("passes a real value through unchanged and secret", async () => {
    const run = await runStack("dev", { tokenValue: "cf-token-value-1234" });
    expect(run.error).toBeUndefined();
    expect(unwrapSecret(only(run, TYPES.envSecret).inputs["value"])).toEqual(["cf-token-value-1234", true]);
  });
});
