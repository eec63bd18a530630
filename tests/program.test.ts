/**
 * The program under Pulumi's mock runtime: exact inputs of every resource for each committed stack,
 * secrecy, the permission-group lookup count, and the components' structure.
 */
import { describe, expect, it } from "vitest";

import { CI_OWNED_SCRIPT_INPUTS } from "../components/edge-worker";
import { derivedRateLimitNamespaceId } from "../lib/config";
import { COMPATIBILITY_DATE } from "../worker/src/defaults";
import { PERMISSION_GROUPS, permissionByName } from "../policies/lib/permission-catalog";
import { bundleWorker } from "../lib/worker-bundle";
import {
  FIXED_NOW,
  GITHUB_TOKEN,
  ofType,
  only,
  programResources,
  PROVIDER_KEY,
  runStack,
  TYPES,
  unwrapSecret,
  type StackRun,
} from "./helpers/program";
import { catalogLookupRows as catalogRows } from "../tools/shared/offline-runtime";

const id = (name: string) => permissionByName(name)!.id;
const ACCOUNT_LOOKUP =
  "cloudflare:index/getAccountApiTokenPermissionGroupsList:getAccountApiTokenPermissionGroupsList";
const USER_LOOKUP = "cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList";

const acct = (n: string) => `0000000000000000000000000000${n}`;

interface Expected {
  stack: string;
  accountId: string;
  zones: Record<string, string[]>;
  workerName: string;
  vars: Record<string, string>;
  expiresOn: string;
  windowStart: string;
  githubEnvironment: string;
}

// FIXED_NOW = 2026-11-23T12:00:00Z. Windows are epoch-anchored:
// dev 30 d -> window 692 starts 2026-11-03; staging 14 d -> 1484 starts 2026-11-19; prod 7 d -> 2968 starts 2026-11-19.
const STACKS: Expected[] = [
  {
    stack: "dev",
    accountId: acct("a001"),
    zones: { [acct("d001")]: ["api.example.dev/*"] },
    workerName: "edge-chat-dev",
    vars: { ALLOWED_ORIGINS: "https://www.example.dev" },
    windowStart: "2026-11-03T00:00:00Z",
    expiresOn: "2026-12-18T00:00:00Z",
    githubEnvironment: "dev",
  },
  {
    stack: "staging",
    accountId: acct("a001"),
    zones: { [acct("d002")]: ["api.example-staging.com/*"] },
    workerName: "edge-chat-staging",
    vars: { ALLOWED_ORIGINS: "https://www.example-staging.com" },
    windowStart: "2026-11-19T00:00:00Z",
    expiresOn: "2026-12-10T00:00:00Z",
    githubEnvironment: "staging",
  },
  {
    stack: "prod",
    accountId: acct("a002"),
    zones: {
      [acct("d003")]: ["api.example.com/*", "example.com/v1/*"],
      [acct("d004")]: ["api.example.net/*"],
    },
    workerName: "edge-chat",
    vars: { ALLOWED_ORIGINS: "https://www.example.com,https://www.example.net" },
    windowStart: "2026-11-19T00:00:00Z",
    expiresOn: "2026-12-03T00:00:00Z",
    githubEnvironment: "prod",
  },
];

function zoneResources(zoneIds: string[]): string {
  return JSON.stringify(
    Object.fromEntries([...zoneIds].sort().map((zone) => [`com.cloudflare.api.account.zone.${zone}`, "*"])),
  );
}

describe.each(STACKS)("committed stack $stack", (expected) => {
  let run: StackRun;
  const load = async () => (run ??= await runStack(expected.stack));

  it("runs without error and makes exactly one permission-group lookup", async () => {
    await load();
    expect(run.error).toBeUndefined();
    expect(run.invokes.map((invoke) => invoke.token)).toEqual([ACCOUNT_LOOKUP]);
    expect(run.invokes[0]!.inputs).toEqual({ accountId: expected.accountId });
  });

  it("registers exactly the expected resources", async () => {
    await load();
    const routeCount = Object.values(expected.zones).flat().length;
    const names = programResources(run).map((resource) => `${resource.type} ${resource.name}`);
    // 3 components, token, rotation id, script, PROVIDER_KEY's WorkerSecret, KV, GitHub environment
    // + secret + 2 variables, GitHub provider, routes.
    expect(names).toHaveLength(3 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 2 + 1 + routeCount);
    expect(ofType(run, TYPES.route)).toHaveLength(routeCount);
    for (const type of [
      TYPES.accountToken,
      TYPES.script,
      TYPES.workerSecret,
      TYPES.kv,
      TYPES.randomId,
      TYPES.environment,
      TYPES.envSecret,
    ]) {
      expect(ofType(run, type), type).toHaveLength(1);
    }
    expect(ofType(run, TYPES.envVariable)).toHaveLength(2);
    for (const type of [
      TYPES.apiToken,
      TYPES.repoSecret,
      TYPES.repoVariable,
      TYPES.r2,
      TYPES.customHostname,
    ]) {
      expect(ofType(run, type), type).toHaveLength(0);
    }
  });

  it("gives the deploy token exactly the derived permissions, permission groups sorted by id", async () => {
    await load();
    const token = only(run, TYPES.accountToken);
    expect(token.inputs).toEqual({
      accountId: expected.accountId,
      name: expect.stringMatching(new RegExp(`^scoped-edge-${expected.stack}-deploy-[0-9a-f]{8}$`)),
      expiresOn: expected.expiresOn,
      policies: [
        {
          effect: "allow",
          permissionGroups: [{ id: id("Workers Scripts Write") }],
          resources: JSON.stringify({ [`com.cloudflare.api.account.${expected.accountId}`]: "*" }),
        },
      ],
    });
    // No condition and no notBefore unless configured.
    expect(Object.keys(token.inputs)).not.toContain("condition");
    expect(Object.keys(token.inputs)).not.toContain("notBefore");
  });

  it("replaces the token create-before-delete when its rotation name changes", async () => {
    await load();
    const token = only(run, TYPES.accountToken);
    expect(token.replaceOnChanges).toEqual(["name"]);
    expect(token.deleteBeforeReplace).toBe(false);
    expect(token.additionalSecretOutputs).toContain("value");
    const rotation = only(run, TYPES.randomId);
    expect(rotation.inputs).toEqual({
      byteLength: 4,
      keepers: { windowStart: expected.windowStart, generation: "0" },
    });
    expect(token.propertyDependencies["name"]).toEqual([rotation.urn]);
  });

  it("creates the Worker with its config KV, rate limiter and the plain vars; CI owns the code after", async () => {
    await load();
    const bundle = await bundleWorker();
    const kv = only(run, TYPES.kv);
    expect(kv.inputs).toEqual({ accountId: expected.accountId, title: `${expected.workerName}-config` });
    const script = only(run, TYPES.script);
    const [bindings, bindingsSecret] = unwrapSecret(script.inputs["bindings"]);
    // No PROVIDER_KEY among them (its own WorkerSecret sets it), so nothing secret.
    expect(bindingsSecret).toBe(false);
    expect(bindings).toEqual([
      { name: "CONFIG_KV", type: "kv_namespace", namespaceId: expect.stringMatching(/^[0-9a-f]{32}$/) },
      {
        name: "RATE_LIMITER",
        type: "ratelimit",
        namespaceId: derivedRateLimitNamespaceId(expected.workerName),
        simple: { limit: 20, period: 60 },
      },
      // No VERSION: it describes the code, which CI owns (codeDeployedBy: ci).
      ...Object.entries(expected.vars).map(([name, text]) => ({ name, type: "plain_text", text })),
    ]);
    const { bindings: _bindings, ...rest } = script.inputs;
    expect(rest).toEqual({
      accountId: expected.accountId,
      scriptName: expected.workerName,
      content: bundle.content,
      contentSha256: bundle.sha256,
      mainModule: "worker.js",
      compatibilityDate: COMPATIBILITY_DATE,
      compatibilityFlags: ["enable_request_signal"],
    });
    expect(script.propertyDependencies["bindings"]).toEqual([kv.urn]);
    expect(script.ignoreChanges).toEqual([
      "content",
      "contentSha256",
      "mainModule",
      "compatibilityDate",
      "compatibilityFlags",
      "bindings",
    ]);
    expect(script.ignoreChanges).toEqual([...CI_OWNED_SCRIPT_INPUTS]);
  });

  it("sets PROVIDER_KEY through its own WorkerSecret after the script, a secret, retained on delete", async () => {
    await load();
    const script = only(run, TYPES.script);
    const secret = only(run, TYPES.workerSecret);
    const { __provider: provider, value, ...inputs } = secret.inputs;
    expect(inputs).toEqual({
      accountId: expected.accountId,
      scriptName: expected.workerName,
      secretName: "PROVIDER_KEY",
      apiBaseUrl: "https://api.cloudflare.com/client/v4",
    });
    expect(unwrapSecret(value)).toEqual([PROVIDER_KEY, true]);
    // The serialized provider (Pulumi stores it in the state): code only, no value captured.
    expect(unwrapSecret(provider)[1]).toBe(false);
    expect(provider).toEqual(expect.stringContaining('require("cloudflare")'));
    expect(String(provider)).not.toContain(PROVIDER_KEY);
    expect(secret.name).toBe("edge-provider-key");
    expect(secret.parent).toBe(only(run, "scoped-edge:cloudflare:EdgeWorker").urn);
    expect(secret.dependencies).toEqual([script.urn]);
    expect(secret.propertyDependencies["scriptName"]).toEqual([script.urn]);
    expect(secret.additionalSecretOutputs).toEqual(["value", "apiToken"]);
    expect(secret.replaceOnChanges).toEqual([]);
    expect(secret.ignoreChanges).toEqual([]);
    expect([...run.retainedOnDelete]).toEqual([secret.urn]);
  });

  it("routes the Worker on each configured pattern of each zone", async () => {
    await load();
    const routes = ofType(run, TYPES.route).map((route) => route.inputs);
    const expectedRoutes = Object.entries(expected.zones).flatMap(([zoneId, patterns]) =>
      patterns.map((pattern) => ({ zoneId, pattern, script: expected.workerName })),
    );
    expect(routes).toEqual(expectedRoutes);
  });

  it("declares the GitHub environment (protected branches only) and publishes the contract into it", async () => {
    await load();
    const token = only(run, TYPES.accountToken);
    const environment = only(run, TYPES.environment);
    expect(environment.inputs).toEqual({
      repository: "edge-app",
      environment: expected.githubEnvironment,
      deploymentBranchPolicy: { protectedBranches: true, customBranchPolicies: false },
    });
    const secret = only(run, TYPES.envSecret);
    const [value, isSecret] = unwrapSecret(secret.inputs["value"]);
    expect(isSecret).toBe(true);
    expect(value).toMatch(/^offline-token-[0-9a-f]{32}$/);
    expect({ ...secret.inputs, value: "<checked>" }).toEqual({
      repository: "edge-app",
      environment: expected.githubEnvironment,
      secretName: "CLOUDFLARE_API_TOKEN",
      value: "<checked>",
    });
    // The secret reads the token: the engine updates it only after the new token exists; and it
    // reads the environment's own output, so the environment exists first.
    expect(secret.propertyDependencies["value"]).toEqual([token.urn]);
    expect(secret.propertyDependencies["environment"]).toEqual([environment.urn]);
    const variables = ofType(run, TYPES.envVariable);
    expect(variables.map((variable) => variable.propertyDependencies["environment"])).toEqual([
      [environment.urn],
      [environment.urn],
    ]);
    expect(variables[0]!.inputs).toEqual({
      repository: "edge-app",
      environment: expected.githubEnvironment,
      variableName: "CLOUDFLARE_ACCOUNT_ID",
      value: expected.accountId,
    });
    const kv = only(run, TYPES.kv);
    const { value: contract, ...contractVariable } = variables[1]!.inputs;
    expect(contractVariable).toEqual({
      repository: "edge-app",
      environment: expected.githubEnvironment,
      variableName: "SCOPED_EDGE_WRANGLER_CONFIG",
    });
    expect(unwrapSecret(contract)[1]).toBe(false);
    const wrangler = JSON.parse(contract as string) as Record<string, unknown>;
    expect(wrangler["name"]).toBe(expected.workerName);
    expect(wrangler["account_id"]).toBe(expected.accountId);
    const [bindings] = unwrapSecret(only(run, TYPES.script).inputs["bindings"]);
    const kvId = (bindings as { name: string; namespaceId?: string }[])[0]!.namespaceId;
    expect(wrangler["kv_namespaces"]).toEqual([{ binding: "CONFIG_KV", id: kvId }]);
    expect(wrangler["vars"]).toEqual(expected.vars);
    // Every GitHub write waits for the token's value check (nothing is written when it is empty).
    expect(variables[1]!.propertyDependencies["value"]).toEqual([kv.urn, token.urn]);
    expect(variables[0]!.propertyDependencies["value"]).toEqual([token.urn]);
    expect(environment.propertyDependencies["deploymentBranchPolicy"]).toEqual([token.urn]);
    // ...but never through a name that replaces on change: known in every preview.
    expect(environment.propertyDependencies["repository"]).toEqual([]);
    expect(environment.propertyDependencies["environment"]).toEqual([]);
    const provider = only(run, TYPES.githubProvider);
    expect(provider.inputs["owner"]).toBe("example-org");
    expect(unwrapSecret(provider.inputs["token"])).toEqual([GITHUB_TOKEN, true]);
    for (const resource of [environment, secret, ...variables])
      expect(resource.provider!.startsWith(`${provider.urn}::`)).toBe(true);
  });

  it("parents every child to its component, named from the component", async () => {
    await load();
    const components = programResources(run).filter((resource) => !resource.custom);
    expect(components.map((component) => `${component.type} ${component.name}`).sort()).toEqual([
      "scoped-edge:cloudflare:DeployToken deploy",
      "scoped-edge:cloudflare:EdgeWorker edge",
      "scoped-edge:github:DeploySecret deploy-secret",
    ]);
    for (const resource of programResources(run).filter((r) => r.custom && r.type !== TYPES.githubProvider)) {
      const parent = components.find((component) => component.urn === resource.parent);
      expect(parent, `${resource.type} ${resource.name}`).toBeDefined();
      expect(resource.name.startsWith(`${parent!.name}-`)).toBe(true);
    }
  });

  it("exports the token, its expiry, where it lives and the credentials table, with no secret in plain", async () => {
    await load();
    const outputs = run.outputs!;
    expect(outputs["deployTokenValue"]).toEqual({
      secret: true,
      value: expect.stringMatching(/^offline-token-/),
    });
    expect(outputs["deployTokenExpiresOn"]).toBe(expected.expiresOn);
    expect(outputs["deployTokenStoredIn"]).toBe(
      `GitHub Actions environment secret CLOUDFLARE_API_TOKEN in example-org/edge-app (environment "${expected.githubEnvironment}")`,
    );
    expect(outputs["codeDeployedBy"]).toBe("ci");
    expect(outputs["workerName"]).toBe(expected.workerName);
    expect(outputs["routes"]).toEqual(Object.values(expected.zones).flat());
    expect(outputs["permissionsAddedByHand"]).toEqual([]);
    const credentials = outputs["credentials"] as { credential: string; livesIn: string; expires: string }[];
    expect(credentials.map((row) => row.credential)).toEqual([
      "admin credential (cloudflare:apiToken)",
      "deploy token (CLOUDFLARE_API_TOKEN)",
      "runtime key (PROVIDER_KEY)",
    ]);
    expect(credentials[1]!.expires).toBe(expected.expiresOn);
    const zoneIds = Object.keys(expected.zones).sort();
    expect(outputs["adminPermissions"]).toEqual([
      {
        permission: "Account API Tokens Write",
        scope: "account",
        resource: `com.cloudflare.api.account.${expected.accountId}`,
        reason: expect.stringContaining("deploy token"),
      },
      {
        permission: "Workers Scripts Write",
        scope: "account",
        resource: `com.cloudflare.api.account.${expected.accountId}`,
        reason: expect.stringContaining("first version only"),
      },
      {
        permission: "Workers KV Storage Write",
        scope: "account",
        resource: `com.cloudflare.api.account.${expected.accountId}`,
        reason: "creates the Worker's KV namespace",
      },
      ...zoneIds.map((zoneId) => ({
        permission: "Workers Routes Write",
        scope: "zone",
        resource: `com.cloudflare.api.account.zone.${zoneId}`,
        reason: "creates the Worker's routes on this zone",
      })),
    ]);
    // Only deployTokenValue is secret; nothing else carries a secret value.
    const { deployTokenValue: _value, ...plain } = outputs;
    const text = JSON.stringify(plain);
    expect(text).not.toContain(PROVIDER_KEY);
    expect(text).not.toContain(GITHUB_TOKEN);
    expect(text).not.toContain((outputs["deployTokenValue"] as { value: string }).value);
  });

  it("never passes a secret value in a non-secret input", async () => {
    await load();
    for (const resource of run.resources) {
      for (const [key, value] of Object.entries(resource.inputs)) {
        if (unwrapSecret(value)[1]) continue;
        const text = JSON.stringify(value) ?? "";
        expect(text.includes(PROVIDER_KEY), `${resource.name}.${key}`).toBe(false);
        expect(text.includes(GITHUB_TOKEN), `${resource.name}.${key}`).toBe(false);
        expect(/offline-token-/.test(text), `${resource.name}.${key}`).toBe(false);
      }
    }
  });
});

describe("variations", () => {
  it("makes one lookup however many zones the stack has, and mints routes only when CI owns them", async () => {
    const zones = Array.from({ length: 40 }, (_, index) => ({
      name: `zone${index}.example`,
      id: index.toString(16).padStart(32, "0"),
      routes: [`api.zone${index}.example/*`],
    }));
    const run = await runStack("dev", {
      set: { "scoped-edge:zones": JSON.stringify(zones), "scoped-edge:routesDeployedBy": "ci" },
    });
    expect(run.error).toBeUndefined();
    expect(run.invokes).toHaveLength(1);
    // The app's wrangler config carries the routes: Pulumi creates none, the token may write them.
    expect(ofType(run, TYPES.route)).toHaveLength(0);
    const token = only(run, TYPES.accountToken);
    const policies = token.inputs["policies"] as { resources: string }[];
    expect(policies).toHaveLength(2);
    expect(Object.keys(JSON.parse(policies[1]!.resources))).toHaveLength(40);
  });

  it("puts policies in one fixed order and permission groups sorted by id, whatever the lookup's order", async () => {
    const run = await runStack("prod", {
      set: {
        "scoped-edge:routesDeployedBy": "ci",
        "scoped-edge:extraPermissions": JSON.stringify(["Workers Tail Read", "Account Settings Read"]),
      },
      lookupRows: [...catalogRows()].reverse(),
    });
    expect(run.error).toBeUndefined();
    expect(only(run, TYPES.accountToken).inputs["policies"]).toEqual([
      {
        effect: "allow",
        // 0588... < c1fd... < e086...
        permissionGroups: [
          { id: id("Workers Tail Read") },
          { id: id("Account Settings Read") },
          { id: id("Workers Scripts Write") },
        ],
        resources: JSON.stringify({ [`com.cloudflare.api.account.${acct("a002")}`]: "*" }),
      },
      {
        effect: "allow",
        permissionGroups: [{ id: id("Workers Routes Write") }],
        resources: zoneResources([acct("d003"), acct("d004")]),
      },
    ]);
  });

  it("creates a user-owned cloudflare.ApiToken through the user lookup when tokenOwner is user", async () => {
    const run = await runStack("dev", { set: { "scoped-edge:tokenOwner": "user" } });
    expect(run.error).toBeUndefined();
    expect(run.invokes.map((invoke) => invoke.token)).toEqual([USER_LOOKUP]);
    expect(ofType(run, TYPES.accountToken)).toHaveLength(0);
    const token = only(run, TYPES.apiToken);
    expect(Object.keys(token.inputs).sort()).toEqual(["expiresOn", "name", "policies"]);
    expect(token.replaceOnChanges).toEqual(["name"]);
    const admin = run.outputs!["adminPermissions"] as { permission: string; resource?: string }[];
    expect(admin[0]).toEqual({
      permission: "API Tokens Write",
      scope: "user",
      reason: expect.stringContaining("user-owned deploy token"),
    });
    expect(admin.map((grant) => grant.permission)).not.toContain("Account API Tokens Write");
  });

  it("sets notBefore and the request-IP condition when configured", async () => {
    const run = await runStack("prod", {
      set: {
        "scoped-edge:tokenNotBefore": "2026-11-20T00:00:00Z",
        "scoped-edge:tokenAllowedIps": JSON.stringify(["192.0.2.0/24", "2001:db8::/32"]),
        "scoped-edge:tokenDeniedIps": JSON.stringify(["192.0.2.7/32"]),
      },
    });
    expect(run.error).toBeUndefined();
    const token = only(run, TYPES.accountToken);
    expect(token.inputs["notBefore"]).toBe("2026-11-20T00:00:00Z");
    expect(token.inputs["condition"]).toEqual({
      requestIp: { ins: ["192.0.2.0/24", "2001:db8::/32"], notIns: ["192.0.2.7/32"] },
    });
  });

  it("adds extra permissions on purpose and reports them as added by hand", async () => {
    const run = await runStack("dev", {
      set: { "scoped-edge:extraPermissions": JSON.stringify(["Workers Tail Read"]) },
    });
    expect(run.error).toBeUndefined();
    const policies = only(run, TYPES.accountToken).inputs["policies"] as {
      permissionGroups: { id: string }[];
    }[];
    expect(policies[0]!.permissionGroups).toEqual([
      { id: id("Workers Tail Read") },
      { id: id("Workers Scripts Write") },
    ]);
    expect(run.outputs!["permissionsAddedByHand"]).toEqual(["Workers Tail Read"]);
  });

  it("uses a repository secret and variables, and no environment, when no GitHub environment is named", async () => {
    const run = await runStack("dev", { set: { "scoped-edge:githubEnvironment": "" } });
    expect(run.error).toBeUndefined();
    expect(ofType(run, TYPES.envSecret)).toHaveLength(0);
    expect(ofType(run, TYPES.environment)).toHaveLength(0);
    const secret = only(run, TYPES.repoSecret);
    expect(Object.keys(secret.inputs).sort()).toEqual(["repository", "secretName", "value"]);
    expect(secret.inputs["secretName"]).toBe("CLOUDFLARE_API_TOKEN");
    expect(unwrapSecret(secret.inputs["value"])[1]).toBe(true);
    const variables = ofType(run, TYPES.repoVariable);
    expect(variables.map((variable) => variable.inputs["variableName"])).toEqual([
      "CLOUDFLARE_ACCOUNT_ID",
      "SCOPED_EDGE_WRANGLER_CONFIG",
    ]);
    expect(variables[0]!.inputs).toEqual({
      repository: "edge-app",
      variableName: "CLOUDFLARE_ACCOUNT_ID",
      value: acct("a001"),
    });
    expect(run.outputs!["deployTokenStoredIn"]).toBe(
      "GitHub Actions repository secret CLOUDFLARE_API_TOKEN in example-org/edge-app",
    );
  });

  it("requires reviewers and allows every branch when configured so", async () => {
    const run = await runStack("prod", {
      set: {
        "scoped-edge:githubReviewerUsers": JSON.stringify([101, 102]),
        "scoped-edge:githubReviewerTeams": JSON.stringify([7]),
        "scoped-edge:githubProtectedBranchesOnly": "false",
      },
    });
    expect(run.error).toBeUndefined();
    // GitHub rejects a policy with both flags equal (422): "all branches" is no policy at all.
    expect(only(run, TYPES.environment).inputs).toEqual({
      repository: "edge-app",
      environment: "prod",
      reviewers: [{ users: [101, 102], teams: [7] }],
    });
  });

  it("adds the R2 bucket and custom hostnames, which Pulumi owns: no token permission for them", async () => {
    const zones = [
      { name: "example.dev", id: acct("d001"), routes: ["api.example.dev/*"] },
      { name: "saas.example", id: acct("d0aa"), customHostnames: ["app.customer.example"] },
    ];
    const run = await runStack("dev", {
      set: { "scoped-edge:zones": JSON.stringify(zones), "scoped-edge:r2Bucket": "edge-assets" },
    });
    expect(run.error).toBeUndefined();
    const bucket = only(run, TYPES.r2);
    expect(bucket.inputs).toEqual({ accountId: acct("a001"), name: "edge-assets" });
    expect(only(run, TYPES.customHostname).inputs).toEqual({
      zoneId: acct("d0aa"),
      hostname: "app.customer.example",
      ssl: { method: "http", type: "dv" },
    });
    const [bindings] = unwrapSecret(only(run, TYPES.script).inputs["bindings"]);
    expect((bindings as unknown[]).at(-1)).toEqual({
      name: "ASSETS_BUCKET",
      type: "r2_bucket",
      bucketName: "edge-assets",
    });
    expect(only(run, TYPES.accountToken).inputs["policies"]).toEqual([
      {
        effect: "allow",
        permissionGroups: [{ id: id("Workers Scripts Write") }],
        resources: JSON.stringify({ [`com.cloudflare.api.account.${acct("a001")}`]: "*" }),
      },
    ]);
    const admin = run.outputs!["adminPermissions"] as { permission: string; resource?: string }[];
    expect(admin.map((grant) => `${grant.permission} ${grant.resource}`)).toEqual([
      `Account API Tokens Write com.cloudflare.api.account.${acct("a001")}`,
      `Workers Scripts Write com.cloudflare.api.account.${acct("a001")}`,
      `Workers KV Storage Write com.cloudflare.api.account.${acct("a001")}`,
      `Workers R2 Storage Write com.cloudflare.api.account.${acct("a001")}`,
      `Workers Routes Write com.cloudflare.api.account.zone.${acct("d001")}`,
      `SSL and Certificates Write com.cloudflare.api.account.zone.${acct("d0aa")}`,
    ]);
  });

  it("resolves ids through the lookup, not the catalog: live ids win", async () => {
    const liveId = "0123456789abcdef0123456789abcdef";
    const rows = catalogRows().map((row) =>
      row.name === "Workers Scripts Write" ? { ...row, id: liveId } : row,
    );
    const run = await runStack("dev", { lookupRows: rows });
    expect(run.error).toBeUndefined();
    expect(PERMISSION_GROUPS.some((group) => group.id === liveId)).toBe(false);
    const policies = only(run, TYPES.accountToken).inputs["policies"] as {
      permissionGroups: { id: string }[];
    }[];
    expect(policies[0]!.permissionGroups).toEqual([{ id: liveId }]);
  });

  it("computes expiry from the window start, not from now", async () => {
    const early = await runStack("dev", { now: "2026-11-03T00:00:00Z" });
    const late = await runStack("dev", { now: "2026-12-02T23:59:59Z" });
    expect(only(early, TYPES.accountToken).inputs["expiresOn"]).toBe("2026-12-18T00:00:00Z");
    expect(only(late, TYPES.accountToken).inputs["expiresOn"]).toBe("2026-12-18T00:00:00Z");
    expect(FIXED_NOW).toBe("2026-11-23T12:00:00Z");
  });
});
