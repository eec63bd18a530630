import { describe, expect, it } from "vitest";

import {
  API_TOKEN_TYPE,
  KV_NAMESPACE_TYPE,
  WORKERS_ROUTE_TYPE,
  WORKERS_SCRIPT_TYPE,
} from "../../policies/lib/resource-types";
import { policies, tokenDerivedLeastPrivilege } from "../../policies/rules";
import { ACCOUNT, devStack, devToken, IDS, NOW, tokenPolicies, ZONE } from "./fixtures";
import {
  analyzeAll,
  analyzeStack,
  loadConfig,
  urnOf,
  withNow,
  type PackConfig,
  type ResourceInput,
} from "./harness";
import {
  editWorkersTemplateToken,
  saasStack,
  saasToken,
  scopedWorkersToken,
  USER_TAG,
} from "./recipes.fixtures";

const DEV = withNow(loadConfig("dev"), NOW);
const NAME = "cloudflare-token-enforce-derived-least-privilege";
const REMOVE =
  "Remove them from the token's policies, or list a permission in allowedExtraPermissions if it is added on purpose.";
const json = (value: unknown) => JSON.stringify(value);

async function stackDetails(resources: ResourceInput[], config: PackConfig = DEV) {
  const { diagnostics } = await analyzeStack(tokenDerivedLeastPrivilege, resources, { config });
  return diagnostics.map((d) => [d.policyName, d.enforcementLevel, d.urn, d.detail]);
}

const tokenUrn = urnOf("cloudflare:index/accountToken:AccountToken", "deploy-token");
const withPolicies = (specs: Parameters<typeof tokenPolicies>[0]) =>
  devStack(devToken({ policies: tokenPolicies(specs) }));
const DEV_POLICIES = [
  {
    permissions: ["Account Settings Read", "Workers KV Storage Write", "Workers Scripts Write"],
    resources: json({ [ACCOUNT(IDS.devAccount)]: "*" }),
  },
  { permissions: ["Workers Routes Write", "Zone Read"], resources: json({ [ZONE(IDS.devZone)]: "*" }) },
];

describe(NAME, () => {
  it("is a mandatory stack policy", () => {
    expect(tokenDerivedLeastPrivilege.enforcementLevel).toBe("mandatory");
    expect(typeof tokenDerivedLeastPrivilege.validateStack).toBe("function");
  });

  it("passes the program's dev token for the dev stack", async () => {
    expect(await stackDetails(devStack())).toEqual([]);
  });

  it("reports an extra permission, naming it and its resource, on the token's URN", async () => {
    const resources = withPolicies([
      DEV_POLICIES[0]!,
      {
        permissions: ["Workers Routes Write", "Zone Read", "DNS Read"],
        resources: json({ [ZONE(IDS.devZone)]: "*" }),
      },
    ]);
    expect(await stackDetails(resources)).toEqual([
      [
        NAME,
        "mandatory",
        tokenUrn,
        `Token "deploy-token" grants more than this stack needs: DNS Read on ${ZONE(IDS.devZone)}. ${REMOVE}`,
      ],
    ]);
  });

  it("reports a missing permission as insufficient, with the reason the deploy needs it", async () => {
    const resources = withPolicies([
      {
        permissions: ["Account Settings Read", "Workers Scripts Write"],
        resources: json({ [ACCOUNT(IDS.devAccount)]: "*" }),
      },
      DEV_POLICIES[1]!,
    ]);
    expect(await stackDetails(resources)).toEqual([
      [
        NAME,
        "mandatory",
        tokenUrn,
        `Insufficient permissions: token "deploy-token" lacks Workers KV Storage Write on ${ACCOUNT(IDS.devAccount)}, ` +
          "and the deploy will fail without them (Workers KV Storage Write: manages the Worker's KV namespace). Add " +
          "them to the token's policies.",
      ],
    ]);
  });

  it("reports a grant on the wrong zone as both excess and missing", async () => {
    const resources = withPolicies([
      DEV_POLICIES[0]!,
      { permissions: ["Workers Routes Write", "Zone Read"], resources: json({ [ZONE(IDS.otherZone)]: "*" }) },
    ]);
    expect((await stackDetails(resources)).map((d) => d[3])).toEqual([
      `Token "deploy-token" grants more than this stack needs: Workers Routes Write on ${ZONE(IDS.otherZone)}; Zone ` +
        `Read on ${ZONE(IDS.otherZone)}. ${REMOVE}`,
      `Insufficient permissions: token "deploy-token" lacks Workers Routes Write on ${ZONE(IDS.devZone)}; Zone Read ` +
        `on ${ZONE(IDS.devZone)}, and the deploy will fail without them (Workers Routes Write: attaches the Worker's ` +
        "routes on this zone; Zone Read: resolves the zone its routes belong to). Add them to the token's policies.",
    ]);
  });

  it("allows an extra only when allowedExtraPermissions lists it, and never requires it", async () => {
    const resources = withPolicies([
      { ...DEV_POLICIES[0]!, permissions: [...DEV_POLICIES[0]!.permissions, "Workers Tail Read"] },
      DEV_POLICIES[1]!,
    ]);
    expect(await stackDetails(resources)).toEqual([]); // dev.json lists Workers Tail Read
    const staging = withNow(loadConfig("staging"), NOW); // staging lists none
    expect((await stackDetails(resources, staging)).map((d) => d[3])).toEqual([
      `Token "deploy-token" grants more than this stack needs: Workers Tail Read on ${ACCOUNT(IDS.devAccount)}. ${REMOVE}`,
    ]);
    expect(await stackDetails(devStack())).toEqual([]); // the baseline lacks Workers Tail Read: fine
  });

  it("reports an unknown name in allowedExtraPermissions without crashing", async () => {
    const config = { [NAME]: { allowedExtraPermissions: ["Workers Scripts Edit", "Workers Tail Reed"] } };
    expect(await stackDetails(devStack(), config)).toEqual([
      [
        NAME,
        "mandatory",
        "",
        'allowedExtraPermissions: unknown permission "Workers Tail Reed". Fix the entry in the policy config (a ' +
          'catalog name such as "Workers Tail Read").',
      ],
    ]);
  });

  it("accepts the same grants written as a map (provider < 6.12) and as several policies", async () => {
    const resources = withPolicies([
      { permissions: ["Account Settings Read"], resources: { [ACCOUNT(IDS.devAccount)]: "*" } },
      {
        permissions: ["Workers KV Storage Write", "Workers Scripts Write"],
        resources: { [ACCOUNT(IDS.devAccount)]: "*" },
      },
      DEV_POLICIES[1]!,
    ]);
    expect(await stackDetails(resources)).toEqual([]);
  });

  it("treats a deny policy as taking the grant away", async () => {
    const resources = withPolicies([
      ...DEV_POLICIES,
      { effect: "deny", permissions: ["Zone Read"], resources: json({ [ZONE(IDS.devZone)]: "*" }) },
    ]);
    expect((await stackDetails(resources)).map((d) => d[3])).toEqual([
      `Insufficient permissions: token "deploy-token" lacks Zone Read on ${ZONE(IDS.devZone)}, and the deploy will ` +
        "fail without them (Zone Read: resolves the zone its routes belong to). Add them to the token's policies.",
    ]);
  });

  it("reports malformed resources on the token instead of crashing", async () => {
    const resources = withPolicies([
      DEV_POLICIES[0]!,
      { permissions: ["Zone Read"], resources: '{"com.cloudflare.api.account.zone.x":' },
    ]);
    expect((await stackDetails(resources)).map((d) => d[3])).toEqual([
      'Token "deploy-token": policies[1]: resources is not valid JSON (Unexpected end of JSON input); ' +
        "its grants cannot be compared with the stack's needs. Fix resources.",
    ]);
  });

  it("skips exempt tokens and is not applicable to stacks without tokens or Workers resources", async () => {
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
        reason:
          "The stack declares no Worker script, KV namespace or R2 bucket to derive a deploy token's permissions from.",
      },
    ]);
  });

  it("derives from the prod stack's two zones", async () => {
    const prodStack: ResourceInput[] = [
      { type: WORKERS_SCRIPT_TYPE, name: "w", props: { accountId: IDS.prodAccount, bindings: [] } },
      { type: KV_NAMESPACE_TYPE, name: "kv", props: { accountId: IDS.prodAccount } },
      {
        type: WORKERS_ROUTE_TYPE,
        name: "r0",
        props: { zoneId: IDS.prodZoneCom, pattern: "api.example.com/*" },
      },
      {
        type: WORKERS_ROUTE_TYPE,
        name: "r1",
        props: { zoneId: IDS.prodZoneCom, pattern: "example.com/v1/*" },
      },
      {
        type: WORKERS_ROUTE_TYPE,
        name: "r2",
        props: { zoneId: IDS.prodZoneNet, pattern: "api.example.net/*" },
      },
    ];
    const token = scopedWorkersToken(IDS.prodAccount, IDS.prodZoneCom, "2026-12-01T00:00:00Z");
    expect((await stackDetails([...prodStack, token])).map((d) => d[3])).toEqual([
      `Insufficient permissions: token "deploy-token" lacks Workers Routes Write on ${ZONE(IDS.prodZoneNet)}; Zone ` +
        `Read on ${ZONE(IDS.prodZoneNet)}, and the deploy will fail without them (Workers Routes Write: attaches the ` +
        "Worker's routes on this zone; Zone Read: resolves the zone its routes belong to). Add them to the token's " +
        "policies.",
    ]);
  });
});

describe("the three real-world token recipes", () => {
  const summary = (diagnostics: { policyName: string; enforcementLevel: string; detail: string }[]) =>
    diagnostics.map((d) => [d.policyName, d.enforcementLevel, d.detail]);

  it("(a) the dashboard's Edit Cloudflare Workers template on all accounts and zones, no expiry: wildcard, expiry and excess", async () => {
    const diagnostics = await analyzeAll(policies, devStack(editWorkersTemplateToken()), { config: DEV });
    const user = `com.cloudflare.api.user.${USER_TAG}`;
    expect(summary(diagnostics)).toEqual([
      [
        "cloudflare-token-enforce-expiry",
        "mandatory",
        "The token has no expiresOn, so it never expires. Set expiresOn to an RFC 3339 UTC time at most 90 days from " +
          "now (no later than 2027-02-20T12:00:00Z).",
      ],
      [
        "cloudflare-token-disallow-wildcard-resources",
        "mandatory",
        "policies[0] grants Account Settings Read, Workers KV Storage Write, Workers R2 Storage Write, Workers Scripts " +
          "Write and Workers Tail Read on com.cloudflare.api.account.*, every account the token's owner can reach. " +
          'Replace it with "com.cloudflare.api.account.<account id>" for the one account the token needs.',
      ],
      [
        "cloudflare-token-disallow-wildcard-resources",
        "mandatory",
        "policies[1] grants Workers Routes Write on com.cloudflare.api.account.zone.*, every zone of every account. " +
          'List each zone the token needs as "com.cloudflare.api.account.zone.<zone id>".',
      ],
      [
        "cloudflare-token-disallow-privileged-permissions",
        "mandatory",
        "The token grants privileged permissions a deploy token must never hold: User Details Read (policies[2]), " +
          "Memberships Read (policies[2]). Remove them from the token's policies.",
      ],
      [
        "cloudflare-token-enforce-permission-allowlist",
        "mandatory",
        "The token grants permissions outside this environment's allow-list: User Details Read, Memberships Read. " +
          "Remove them, or add them to allowedPermissions in the policy config if this environment needs them.",
      ],
      [
        "cloudflare-token-enforce-allowed-scope",
        "mandatory",
        "The token grants on resources outside this environment's scope: com.cloudflare.api.account.* (account not " +
          "in allowedAccountIds); com.cloudflare.api.account.zone.* (zone not in allowedZoneIds); " +
          `${user} (a user, not an account or zone). Scope it to the allowed accounts (${IDS.devAccount}) and zones ` +
          `(${IDS.devZone}).`,
      ],
      [
        "cloudflare-token-require-ip-restriction",
        "advisory",
        "The token has no request-IP condition: a leaked copy works from any address. Set condition.requestIp.ins " +
          "to the CIDRs your CI egresses from (scoped-edge:tokenAllowedIps).",
      ],
      [
        NAME,
        "mandatory",
        'Token "deploy-token" grants more than this stack needs: Account Settings Read on com.cloudflare.api.account.*; ' +
          `Memberships Read on ${user}; User Details Read on ${user}; Workers KV Storage Write on ` +
          "com.cloudflare.api.account.*; Workers R2 Storage Write on com.cloudflare.api.account.*; Workers Routes " +
          "Write on com.cloudflare.api.account.zone.*; Workers Scripts Write on com.cloudflare.api.account.*; Workers " +
          `Tail Read on com.cloudflare.api.account.*. ${REMOVE}`,
      ],
      // The template lacks Zone Read, which the derivation requires for routes: reported too.
      [
        NAME,
        "mandatory",
        `Insufficient permissions: token "deploy-token" lacks Zone Read on ${ZONE(IDS.devZone)}, and the deploy will ` +
          "fail without them (Zone Read: resolves the zone its routes belong to). Add them to the token's policies.",
      ],
    ]);
  });

  it.each([
    ["dev", IDS.devAccount, IDS.devZone],
    ["staging", IDS.devAccount, IDS.stagingZone],
    ["prod", IDS.prodAccount, IDS.prodZoneCom],
  ] as const)(
    "(b) one account, one zone, the five Workers permissions, 30-day expiry: passes in %s (only the advisory IP note)",
    async (env, accountId, zoneId) => {
      const stack: ResourceInput[] = [
        { type: WORKERS_SCRIPT_TYPE, name: "w", props: { accountId, bindings: [] } },
        { type: KV_NAMESPACE_TYPE, name: "kv", props: { accountId } },
        { type: WORKERS_ROUTE_TYPE, name: "r", props: { zoneId, pattern: "api.example.com/*" } },
        scopedWorkersToken(accountId, zoneId, "2026-12-22T12:00:00Z"), // now + 30 days
      ];
      const diagnostics = await analyzeAll(policies, stack, { config: withNow(loadConfig(env), NOW) });
      expect(diagnostics.filter((d) => d.enforcementLevel === "mandatory")).toEqual([]);
      expect(diagnostics.map((d) => d.policyName)).toEqual(["cloudflare-token-require-ip-restriction"]);
    },
  );

  it("(c) the SaaS token is excess for a stack without R2 or custom hostnames", async () => {
    const token = saasToken(IDS.devAccount, IDS.devZone, "2026-12-22T12:00:00Z");
    expect((await stackDetails(devStack(token))).map((d) => d[3])).toEqual([
      'Token "deploy-token" grants more than this stack needs: SSL and Certificates Read on ' +
        `${ZONE(IDS.devZone)}; SSL and Certificates Write on ${ZONE(IDS.devZone)}; Workers R2 Storage Write on ` +
        `${ACCOUNT(IDS.devAccount)}. ${REMOVE}`,
    ]);
  });

  it("(c) the SaaS token passes when the stack really has an R2 bucket and custom hostnames (Write includes Read)", async () => {
    const token = saasToken(IDS.devAccount, IDS.devZone, "2026-12-22T12:00:00Z");
    expect(await stackDetails(saasStack(token))).toEqual([]);
    const diagnostics = await analyzeAll(policies, saasStack(token), { config: DEV });
    expect(diagnostics.map((d) => d.policyName)).toEqual(["cloudflare-token-require-ip-restriction"]);
  });

  it("(c) with an R2 bucket but no custom hostnames, only the SSL grants are excess", async () => {
    const token = saasToken(IDS.devAccount, IDS.devZone, "2026-12-22T12:00:00Z");
    const stack = saasStack(token).filter((r) => r.type !== "cloudflare:index/customHostname:CustomHostname");
    expect((await stackDetails(stack)).map((d) => d[3])).toEqual([
      'Token "deploy-token" grants more than this stack needs: SSL and Certificates Read on ' +
        `${ZONE(IDS.devZone)}; SSL and Certificates Write on ${ZONE(IDS.devZone)}. ${REMOVE}`,
    ]);
  });
});
