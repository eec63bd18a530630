import * as github from "@pulumi/github";
import { describe, expect, it } from "vitest";

import {
  API_TOKEN_TYPE,
  KV_NAMESPACE_TYPE,
  WORKERS_ROUTE_TYPE,
  WORKERS_SCRIPT_TYPE,
} from "../../policies/lib/resource-types";
import { WRANGLER_CONFIG_VARIABLE_NAME } from "../../lib/credentials";
import { ACTIONS_VARIABLE_TYPES, WRANGLER_CONFIG_VARIABLE } from "../../policies/lib/stack-footprint";
import { tokenDerivedLeastPrivilege } from "../../policies/rules";
import { ACCOUNT, devStack, devToken, IDS, tokenPolicies, ZONE, usePolicyClock } from "./fixtures";
import { analyzeStack, loadConfig, UNKNOWN, urnOf, type PackConfig, type ResourceInput } from "./harness";
import {
  editWorkersTemplateToken,
  saasStack,
  saasToken,
  scopedWorkersToken,
  USER_TAG,
} from "./recipes.fixtures";

usePolicyClock();

const DEV = loadConfig("dev");
const NAME = "cloudflare-token-enforce-derived-least-privilege";
const REMOVE =
  "Remove them from the token's policies, or list a permission in allowedExtraPermissions if it is added on purpose.";
const json = (value: unknown) => JSON.stringify(value);

async function stackDetails(resources: ResourceInput[], config: PackConfig = DEV) {
  const { diagnostics } = await analyzeStack(tokenDerivedLeastPrivilege, resources, { config });
  return diagnostics.map((d) => [d.policyName, d.enforcementLevel, d.urn, d.detail]);
}

/** A resource class's type token (a static the typings do not declare). */
const pulumiTypeOf = (resourceClass: unknown) => (resourceClass as { __pulumiType: string }).__pulumiType;

const tokenUrn = urnOf("cloudflare:index/accountToken:AccountToken", "deploy-token");
const withPolicies = (specs: Parameters<typeof tokenPolicies>[0]) =>
  devStack(devToken({ policies: tokenPolicies(specs) }));
const DEV_ACCOUNT_POLICY = {
  permissions: ["Workers Scripts Write"],
  resources: json({ [ACCOUNT(IDS.devAccount)]: "*" }),
};
const SCRIPTS_REASON =
  "Workers Scripts Write: PUT /accounts/{account_id}/workers/scripts/{script_name} (wrangler deploy: upload of a " +
  "Worker that does not exist yet), and 10 more calls (docs/DEPLOY-CONTRACT.md)";
const ROUTES_REASON =
  "Workers Routes Write: POST /zones/{zone_id}/workers/routes (wrangler deploy: attach a route on its zone " +
  "(publishRoutesFallback)), and 1 more call (docs/DEPLOY-CONTRACT.md)";

/** The deploy contract as the program publishes it (an environment variable). */
function contractVariable(value: unknown): ResourceInput {
  return {
    type: "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
    name: "deploy-contract",
    props: {
      repository: "edge-app",
      environment: "dev",
      variableName: "SCOPED_EDGE_WRANGLER_CONFIG",
      value: typeof value === "string" ? value : json(value),
    },
  };
}

/** The dev stack with routesDeployedBy: ci: no WorkersRoute, the routes in the published contract. */
function ciRoutesStack(token: ResourceInput, contract: unknown = DEV_CI_CONTRACT): ResourceInput[] {
  // UNKNOWN (the engine's unknown value): the value is not known yet (preview).
  return [
    ...devStack(token).filter((resource) => resource.type !== WORKERS_ROUTE_TYPE),
    contractVariable(contract),
  ];
}
const DEV_CI_CONTRACT = {
  name: "edge-chat-dev",
  account_id: IDS.devAccount,
  kv_namespaces: [{ binding: "CONFIG_KV", id: "f00dfeedf00dfeedf00dfeedf00dfeed" }],
  routes: [{ pattern: "api.example.dev/*", zone_id: IDS.devZone }],
};
const CI_ROUTES_POLICIES = [
  DEV_ACCOUNT_POLICY,
  { permissions: ["Workers Routes Write"], resources: json({ [ZONE(IDS.devZone)]: "*" }) },
];

describe(NAME, () => {
  it("reads the contract variable the program publishes, under the provider's type tokens", () => {
    expect(WRANGLER_CONFIG_VARIABLE).toBe(WRANGLER_CONFIG_VARIABLE_NAME);
    expect(ACTIONS_VARIABLE_TYPES).toEqual([
      pulumiTypeOf(github.ActionsVariable),
      pulumiTypeOf(github.ActionsEnvironmentVariable),
    ]);
  });

  it("is a mandatory stack policy", () => {
    expect(tokenDerivedLeastPrivilege.enforcementLevel).toBe("mandatory");
    expect(typeof tokenDerivedLeastPrivilege.validateStack).toBe("function");
  });

  it("passes the program's dev token for the dev stack: Workers Scripts Write on the account, nothing else", async () => {
    expect(await stackDetails(devStack())).toEqual([]);
    expect(await stackDetails(withPolicies([DEV_ACCOUNT_POLICY]))).toEqual([]);
  });

  it("reports the old grant set (Account Settings Read, KV, routes, Zone Read) as excess, naming each", async () => {
    const resources = withPolicies([
      {
        permissions: ["Account Settings Read", "Workers KV Storage Write", "Workers Scripts Write"],
        resources: json({ [ACCOUNT(IDS.devAccount)]: "*" }),
      },
      { permissions: ["Workers Routes Write", "Zone Read"], resources: json({ [ZONE(IDS.devZone)]: "*" }) },
    ]);
    expect(await stackDetails(resources)).toEqual([
      [
        NAME,
        "mandatory",
        tokenUrn,
        `Token "deploy-token" grants more than this stack needs: Account Settings Read on ${ACCOUNT(IDS.devAccount)}; ` +
          `Workers KV Storage Write on ${ACCOUNT(IDS.devAccount)}; Workers Routes Write on ${ZONE(IDS.devZone)}; ` +
          `Zone Read on ${ZONE(IDS.devZone)}. ${REMOVE}`,
      ],
    ]);
  });

  it("reports a missing permission as insufficient, with the call that needs it", async () => {
    const resources = withPolicies([
      { permissions: ["Workers Scripts Read"], resources: json({ [ACCOUNT(IDS.devAccount)]: "*" }) },
    ]);
    expect(await stackDetails(resources)).toEqual([
      [
        NAME,
        "mandatory",
        tokenUrn,
        `Insufficient permissions: token "deploy-token" lacks Workers Scripts Write on ${ACCOUNT(IDS.devAccount)}, ` +
          `and the deploy will fail without them (${SCRIPTS_REASON}). Add them to the token's policies.`,
      ],
    ]);
  });

  describe("routesDeployedBy: ci (routes in the published contract)", () => {
    it("needs Workers Routes Write on exactly the contract's route zones, no Zone Read", async () => {
      expect(
        await stackDetails(ciRoutesStack(devToken({ policies: tokenPolicies(CI_ROUTES_POLICIES) }))),
      ).toEqual([]);
      const withZoneRead = tokenPolicies([
        DEV_ACCOUNT_POLICY,
        { permissions: ["Workers Routes Write", "Zone Read"], resources: json({ [ZONE(IDS.devZone)]: "*" }) },
      ]);
      expect(
        (await stackDetails(ciRoutesStack(devToken({ policies: withZoneRead })))).map((d) => d[3]),
      ).toEqual([
        `Token "deploy-token" grants more than this stack needs: Zone Read on ${ZONE(IDS.devZone)}. ${REMOVE}`,
      ]);
    });

    it("reports Workers Routes Write missing on a route zone, with its call", async () => {
      expect((await stackDetails(ciRoutesStack(devToken()))).map((d) => d[3])).toEqual([
        `Insufficient permissions: token "deploy-token" lacks Workers Routes Write on ${ZONE(IDS.devZone)}, and the ` +
          `deploy will fail without them (${ROUTES_REASON}). Add them to the token's policies.`,
      ]);
    });

    it("reports a grant on the wrong zone as both excess and missing", async () => {
      const policies = tokenPolicies([
        DEV_ACCOUNT_POLICY,
        { permissions: ["Workers Routes Write"], resources: json({ [ZONE(IDS.otherZone)]: "*" }) },
      ]);
      expect((await stackDetails(ciRoutesStack(devToken({ policies })))).map((d) => d[3])).toEqual([
        `Token "deploy-token" grants more than this stack needs: Workers Routes Write on ${ZONE(IDS.otherZone)}. ` +
          REMOVE,
        `Insufficient permissions: token "deploy-token" lacks Workers Routes Write on ${ZONE(IDS.devZone)}, and the ` +
          `deploy will fail without them (${ROUTES_REASON}). Add them to the token's policies.`,
      ]);
    });

    it("cannot run while the contract's value is unknown (preview), as for any unknown it needs", async () => {
      expect(await stackDetails(ciRoutesStack(devToken(), UNKNOWN))).toEqual([
        [
          NAME,
          "advisory",
          "",
          `can't run policy '${NAME}' from policy pack 'scoped-edge-cloudflare@v0.1.0' during preview: string value ` +
            "at .value can't be known during preview",
        ],
      ]);
    });

    it("needs Workers KV Storage Write only for a contract KV binding without an id", async () => {
      const contract = { ...DEV_CI_CONTRACT, kv_namespaces: [{ binding: "CONFIG_KV" }] };
      expect(
        (
          await stackDetails(
            ciRoutesStack(devToken({ policies: tokenPolicies(CI_ROUTES_POLICIES) }), contract),
          )
        ).map((d) => d[3]),
      ).toEqual([
        `Insufficient permissions: token "deploy-token" lacks Workers KV Storage Write on ${ACCOUNT(IDS.devAccount)}, ` +
          "and the deploy will fail without them (Workers KV Storage Write: POST /accounts/{account_id}/storage/kv/" +
          "namespaces (wrangler deploy: create the namespace of an id-less kv_namespaces binding), and 1 more call " +
          "(docs/DEPLOY-CONTRACT.md)). Add them to the token's policies.",
      ]);
    });

    it.each([
      ["not JSON", '{"name":', "SCOPED_EDGE_WRANGLER_CONFIG is not JSON (Unexpected end of JSON input)"],
      [
        "without account_id",
        { name: "x" },
        "SCOPED_EDGE_WRANGLER_CONFIG is not a wrangler config with an account_id",
      ],
      [
        "with a route lacking zone_id",
        { ...DEV_CI_CONTRACT, routes: ["api.example.dev/*"] },
        'SCOPED_EDGE_WRANGLER_CONFIG: route "api.example.dev/*" has no zone_id: wrangler would need Zone Read to look ' +
          "its zone up; give it a zone_id",
      ],
    ])("reports a contract %s instead of deriving from it", async (_name, contract, problem) => {
      expect(await stackDetails(ciRoutesStack(devToken(), contract))).toEqual([
        [
          NAME,
          "mandatory",
          "",
          `The deploy contract cannot be read: ${problem}. Publish the wrangler config scoped-edge generates (npm run ` +
            "wrangler-config).",
        ],
      ]);
    });
  });

  it("allows an extra only when allowedExtraPermissions lists it, and never requires it", async () => {
    const resources = withPolicies([
      { ...DEV_ACCOUNT_POLICY, permissions: [...DEV_ACCOUNT_POLICY.permissions, "Workers Tail Read"] },
    ]);
    expect(await stackDetails(resources)).toEqual([]); // dev.json lists Workers Tail Read
    const staging = loadConfig("staging"); // staging lists none
    expect((await stackDetails(resources, staging)).map((d) => d[3])).toEqual([
      `Token "deploy-token" grants more than this stack needs: Workers Tail Read on ${ACCOUNT(IDS.devAccount)}. ${REMOVE}`,
    ]);
    expect(await stackDetails(devStack())).toEqual([]); // the baseline lacks Workers Tail Read: fine
  });

  it("accepts the same grants written as a map (provider < 6.12) and split over several policies", async () => {
    const resources = withPolicies([
      { permissions: ["Workers Scripts Write"], resources: { [ACCOUNT(IDS.devAccount)]: "*" } },
      { permissions: ["Workers Scripts Write"], resources: json({ [ACCOUNT(IDS.devAccount)]: "*" }) },
    ]);
    expect(await stackDetails(resources)).toEqual([]);
  });

  it("treats a deny policy as taking the grant away", async () => {
    const resources = withPolicies([
      DEV_ACCOUNT_POLICY,
      {
        effect: "deny",
        permissions: ["Workers Scripts Write"],
        resources: json({ [ACCOUNT(IDS.devAccount)]: "*" }),
      },
    ]);
    expect((await stackDetails(resources)).map((d) => d[3])).toEqual([
      `Insufficient permissions: token "deploy-token" lacks Workers Scripts Write on ${ACCOUNT(IDS.devAccount)}, ` +
        `and the deploy will fail without them (${SCRIPTS_REASON}). Add them to the token's policies.`,
    ]);
  });

  it("reports malformed resources on the token instead of crashing", async () => {
    const resources = withPolicies([
      DEV_ACCOUNT_POLICY,
      { permissions: ["Zone Read"], resources: '{"com.cloudflare.api.account.zone.x":' },
    ]);
    expect((await stackDetails(resources)).map((d) => d[3])).toEqual([
      'Token "deploy-token": policies[1]: resources is not valid JSON (Unexpected end of JSON input); ' +
        "its grants cannot be compared with the stack's needs. Fix resources.",
    ]);
  });

  it("skips exempt tokens and is not applicable to stacks without tokens or a Worker script", async () => {
    const extraToken: ResourceInput = {
      type: API_TOKEN_TYPE,
      name: "analytics-reader",
      props: {
        policies: tokenPolicies([
          { permissions: ["DNS Read"], resources: json({ [ZONE(IDS.devZone)]: "*" }) },
        ]),
      },
    };
    const config = { [NAME]: { exemptTokenNames: ["analytics-reader"] } };
    expect(await stackDetails([...devStack(), extraToken], config)).toEqual([]);
    expect(await stackDetails([...devStack(), extraToken])).toHaveLength(2); // excess DNS Read + everything missing

    const noToken = await analyzeStack(tokenDerivedLeastPrivilege, devStack().slice(0, -1), { config: DEV });
    expect(noToken.notApplicable).toEqual([
      { policyName: NAME, reason: "The stack declares no Cloudflare API or account token." },
    ]);
    const tokenOnly = await analyzeStack(tokenDerivedLeastPrivilege, [devToken()], { config: DEV });
    expect(tokenOnly.notApplicable).toEqual([
      {
        policyName: NAME,
        reason: "The stack declares no Worker script whose deploy a token's permissions derive from.",
      },
    ]);
  });

  it("derives from the prod stack's contract: routes on two zones", async () => {
    const prodStack: ResourceInput[] = [
      { type: WORKERS_SCRIPT_TYPE, name: "w", props: { accountId: IDS.prodAccount, bindings: [] } },
      { type: KV_NAMESPACE_TYPE, name: "kv", props: { accountId: IDS.prodAccount } },
      contractVariable({
        name: "edge-chat",
        account_id: IDS.prodAccount,
        routes: [
          { pattern: "api.example.com/*", zone_id: IDS.prodZoneCom },
          { pattern: "example.com/v1/*", zone_id: IDS.prodZoneCom },
          { pattern: "api.example.net/*", zone_id: IDS.prodZoneNet },
        ],
      }),
    ];
    const token = scopedWorkersToken(IDS.prodAccount, IDS.prodZoneCom, "2026-12-01T00:00:00Z");
    expect((await stackDetails([...prodStack, token])).map((d) => d[3])).toEqual([
      `Token "deploy-token" grants more than this stack needs: Account Settings Read on ${ACCOUNT(IDS.prodAccount)}; ` +
        `Workers KV Storage Write on ${ACCOUNT(IDS.prodAccount)}; Zone Read on ${ZONE(IDS.prodZoneCom)}. ${REMOVE}`,
      `Insufficient permissions: token "deploy-token" lacks Workers Routes Write on ${ZONE(IDS.prodZoneNet)}, and ` +
        `the deploy will fail without them (${ROUTES_REASON}). Add them to the token's policies.`,
    ]);
  });
});

describe("the three real-world token recipes, as this policy judges them", () => {
  it("(a) the dashboard's Edit Cloudflare Workers template on all accounts and zones: everything is excess", async () => {
    const user = `com.cloudflare.api.user.${USER_TAG}`;
    expect((await stackDetails(devStack(editWorkersTemplateToken()))).map((d) => d[3])).toEqual([
      'Token "deploy-token" grants more than this stack needs: Account Settings Read on com.cloudflare.api.account.*; ' +
        `Memberships Read on ${user}; User Details Read on ${user}; Workers KV Storage Write on ` +
        "com.cloudflare.api.account.*; Workers R2 Storage Write on com.cloudflare.api.account.*; Workers Routes " +
        "Write on com.cloudflare.api.account.zone.*; Workers Scripts Write on com.cloudflare.api.account.*; Workers " +
        `Tail Read on com.cloudflare.api.account.*. ${REMOVE}`,
    ]);
  });

  it.each([
    ["dev", IDS.devAccount, IDS.devZone],
    ["staging", IDS.devAccount, IDS.stagingZone],
    ["prod", IDS.prodAccount, IDS.prodZoneCom],
  ] as const)(
    "(b) one account, one zone, the five Workers permissions: in %s, four of them are more than the deploy calls need",
    async (env, accountId, zoneId) => {
      const stack: ResourceInput[] = [
        { type: WORKERS_SCRIPT_TYPE, name: "w", props: { accountId, bindings: [] } },
        { type: KV_NAMESPACE_TYPE, name: "kv", props: { accountId } },
        { type: WORKERS_ROUTE_TYPE, name: "r", props: { zoneId, pattern: "api.example.com/*" } },
        scopedWorkersToken(accountId, zoneId, "2026-12-22T12:00:00Z"),
      ];
      expect((await stackDetails(stack, loadConfig(env))).map((d) => d[3])).toEqual([
        `Token "deploy-token" grants more than this stack needs: Account Settings Read on ${ACCOUNT(accountId)}; ` +
          `Workers KV Storage Write on ${ACCOUNT(accountId)}; Workers Routes Write on ${ZONE(zoneId)}; Zone Read ` +
          `on ${ZONE(zoneId)}. ${REMOVE}`,
      ]);
    },
  );

  it("(c) the SaaS token is excess, with or without an R2 bucket and custom hostnames (Pulumi owns both)", async () => {
    const token = saasToken(IDS.devAccount, IDS.devZone, "2026-12-22T12:00:00Z");
    const excess =
      `Token "deploy-token" grants more than this stack needs: Account Settings Read on ${ACCOUNT(IDS.devAccount)}; ` +
      `SSL and Certificates Read on ${ZONE(IDS.devZone)}; SSL and Certificates Write on ${ZONE(IDS.devZone)}; ` +
      `Workers KV Storage Write on ${ACCOUNT(IDS.devAccount)}; Workers R2 Storage Write on ${ACCOUNT(IDS.devAccount)}; ` +
      `Workers Routes Write on ${ZONE(IDS.devZone)}; Zone Read on ${ZONE(IDS.devZone)}. ${REMOVE}`;
    expect((await stackDetails(devStack(token))).map((d) => d[3])).toEqual([excess]);
    expect((await stackDetails(saasStack(token))).map((d) => d[3])).toEqual([excess]);
  });
});
