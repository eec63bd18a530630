import { describe, expect, it } from "vitest";

import {
  tokenAllowedScope,
  tokenIpRestriction,
  tokenPermissionAllowlist,
  tokenPrivilegedPermissions,
  tokenWildcardResources,
} from "../../policies/rules";
import { ACCOUNT, devStack, devToken, IDS, perm, tokenPolicies, ZONE, usePolicyClock } from "./fixtures";
import { DEFAULT_DENIED_PERMISSIONS } from "../../policies/rules/token-privileged-permissions";
import { analyzeResource, analyzeStack, loadConfig, type PackConfig } from "./harness";

usePolicyClock();

const DEV = loadConfig("dev");
type Policy = typeof tokenWildcardResources;

async function details(policy: Policy, props: Record<string, unknown>, config: PackConfig = DEV) {
  const { diagnostics } = await analyzeResource(policy, devToken(props), { config });
  for (const d of diagnostics) expect(d.policyName).toBe(policy.name);
  return diagnostics.map((d) => d.detail);
}

const json = (value: unknown) => JSON.stringify(value);
/** The dev token's derived policies plus one more. */
const plus = (extra: { permissions: string[]; resources: unknown; effect?: string }) => ({
  policies: [...(devToken().props["policies"] as unknown[]), ...tokenPolicies([extra])],
});

describe("the compliant dev token passes every token policy", () => {
  for (const policy of [
    tokenWildcardResources,
    tokenPrivilegedPermissions,
    tokenPermissionAllowlist,
    tokenIpRestriction,
  ]) {
    it(policy.name, async () => {
      expect(await details(policy, {})).toEqual([]);
    });
  }
});

describe("cloudflare-token-disallow-wildcard-resources", () => {
  const ZONE_FIX = 'List each zone the token needs as "com.cloudflare.api.account.zone.<zone id>".';
  it.each([
    [
      "all accounts",
      plus({ permissions: ["Workers Tail Read"], resources: json({ "com.cloudflare.api.account.*": "*" }) }),
      "policies[1] grants Workers Tail Read on com.cloudflare.api.account.*, every account the token's owner can " +
        'reach. Replace it with "com.cloudflare.api.account.<account id>" for the one account the token needs.',
    ],
    [
      "all zones",
      plus({
        permissions: ["Zone Read", "Workers Routes Write"],
        resources: json({ "com.cloudflare.api.account.zone.*": "*" }),
      }),
      "policies[1] grants Zone Read and Workers Routes Write on com.cloudflare.api.account.zone.*, every zone of " +
        `every account. ${ZONE_FIX}`,
    ],
    [
      "all zones of one account (nested)",
      plus({
        permissions: ["Zone Read"],
        resources: json({ [ACCOUNT(IDS.devAccount)]: { "com.cloudflare.api.account.zone.*": "*" } }),
      }),
      `policies[1] grants Zone Read on com.cloudflare.api.account.zone.* nested under ${ACCOUNT(IDS.devAccount)}, ` +
        `every zone of that account. ${ZONE_FIX}`,
    ],
    [
      "the nested form as a map (provider < 6.12)",
      plus({
        permissions: ["Zone Read"],
        resources: { [ACCOUNT(IDS.devAccount)]: { "com.cloudflare.api.account.zone.*": "*" } },
      }),
      `policies[1] grants Zone Read on com.cloudflare.api.account.zone.* nested under ${ACCOUNT(IDS.devAccount)}, ` +
        `every zone of that account. ${ZONE_FIX}`,
    ],
    [
      "an account permission on a user resource",
      plus({
        permissions: ["Workers Scripts Write", "User Details Read"],
        resources: json({ "com.cloudflare.api.user.0123456789abcdef0123456789abcdef": "*" }),
      }),
      "policies[1] grants Workers Scripts Write on the user resource " +
        "com.cloudflare.api.user.0123456789abcdef0123456789abcdef, which reaches every account and zone the user can. " +
        'Grant account permissions on "com.cloudflare.api.account.<account id>" and zone permissions on ' +
        '"com.cloudflare.api.account.zone.<zone id>" instead.',
    ],
    [
      "malformed JSON in resources",
      plus({ permissions: ["Zone Read"], resources: '{"com.cloudflare.api.account.zone.x": ' }),
      "policies[1]: resources is not valid JSON (Unexpected end of JSON input). Set resources to a JSON object such " +
        'as {"com.cloudflare.api.account.<account id>":"*"}.',
    ],
    [
      "resources that are not an object",
      plus({ permissions: ["Zone Read"], resources: '["com.cloudflare.api.account.zone.x"]' }),
      'policies[1]: resources must be a JSON object mapping resource strings to "*". Set resources to a JSON object ' +
        'such as {"com.cloudflare.api.account.<account id>":"*"}.',
    ],
    [
      "policies that are not a list",
      { policies: { effect: "allow" } },
      "policies must be a list of token policies. Fix the token's policies.",
    ],
  ])("reports %s", async (_case, change, expected) => {
    expect(await details(tokenWildcardResources, change)).toEqual([expected]);
  });

  it("accepts user-level permissions on a user resource and wildcards in deny policies", async () => {
    const user = plus({
      permissions: ["User Details Read"],
      resources: json({ "com.cloudflare.api.user.0123456789abcdef0123456789abcdef": "*" }),
    });
    expect(await details(tokenWildcardResources, user)).toEqual([]);
    const deny = plus({
      effect: "deny",
      permissions: ["Zone Read"],
      resources: json({ "com.cloudflare.api.account.zone.*": "*" }),
    });
    expect(await details(tokenWildcardResources, deny)).toEqual([]);
  });

  it("reads permission groups given as plain id strings (older providers)", async () => {
    const policies = [
      {
        effect: "allow",
        permissionGroups: [perm("Zone Read")],
        resources: { "com.cloudflare.api.account.zone.*": "*" },
      },
    ];
    expect(await details(tokenWildcardResources, { policies })).toEqual([
      `policies[0] grants Zone Read on com.cloudflare.api.account.zone.*, every zone of every account. ${ZONE_FIX}`,
    ]);
  });
});

describe("cloudflare-token-disallow-privileged-permissions", () => {
  it("reports each denied permission with the policy that grants it", async () => {
    const change = plus({
      permissions: ["API Tokens Write", "DNS Write"],
      resources: json({ [ZONE(IDS.devZone)]: "*" }),
    });
    expect(await details(tokenPrivilegedPermissions, change)).toEqual([
      "The token grants privileged permissions a deploy token must never hold: API Tokens Write (policies[1]), DNS " +
        "Write (policies[1]). Remove them from the token's policies.",
    ]);
  });

  it.each([
    "API Tokens Read",
    "Account API Tokens Write",
    "Memberships Read",
    "User Details Read",
    "Zone Write",
  ])("denies %s by default", async (name) => {
    const change = plus({ permissions: [name], resources: json({ [ACCOUNT(IDS.devAccount)]: "*" }) });
    expect(await details(tokenPrivilegedPermissions, change)).toEqual([
      `The token grants privileged permissions a deploy token must never hold: ${name} (policies[1]). Remove them ` +
        "from the token's policies.",
    ]);
  });

  it("takes its deny list from the config, by name or by id", async () => {
    const change = plus({
      permissions: ["Workers Tail Read"],
      resources: json({ [ACCOUNT(IDS.devAccount)]: "*" }),
    });
    expect(await details(tokenPrivilegedPermissions, change)).toEqual([]);
    for (const entry of ["Workers Tail Read", perm("Workers Tail Read")]) {
      const deniedPermissions = [...DEFAULT_DENIED_PERMISSIONS, entry];
      const config = { "cloudflare-token-disallow-privileged-permissions": { deniedPermissions } };
      expect(await details(tokenPrivilegedPermissions, change, config)).toEqual([
        "The token grants privileged permissions a deploy token must never hold: Workers Tail Read (policies[1]). " +
          "Remove them from the token's policies.",
      ]);
    }
  });

  it.each([
    [
      "a misspelt entry (it would be dropped, and the permission allowed)",
      [...DEFAULT_DENIED_PERMISSIONS, "Acount API Tokens Write"],
      'deniedPermissions[13] "Acount API Tokens Write" is not a permission group the pack knows (did you mean ' +
        "Account API Tokens Write?); write a catalog name or the group's 32-hex id",
    ],
    [
      "a list that drops defaults (it would switch the check off for them)",
      ["API Tokens Read"],
      "deniedPermissions drops API Tokens Write, Account API Tokens Read, Account API Tokens Write, " +
        "1af1fa2adc104452b74a9a3364202f20, Memberships Read, 9201bc6f42d440968aaab0c6f17ebb1d, User Details Read, " +
        "55a5e17cc99e4a3fa1f3432d262f2e55, 7cf72faf220841aabcfdfab81c43c4f6, 6c80e02421494afc9ae14414ed442632, " +
        "Zone Write and DNS Write from the default deny list; the list may add permissions, never remove the defaults",
    ],
    [
      "a wildcard",
      [...DEFAULT_DENIED_PERMISSIONS, "*"],
      'deniedPermissions[13] "*" must be a plain name (no wildcard), 1-200 characters',
    ],
  ])("refuses a deny list with %s", async (_name, deniedPermissions, problem) => {
    const config = { "cloudflare-token-disallow-privileged-permissions": { deniedPermissions } };
    const change = plus({
      permissions: ["Account API Tokens Write"],
      resources: json({ [ACCOUNT(IDS.devAccount)]: "*" }),
    });
    expect(await details(tokenPrivilegedPermissions, change, config)).toEqual([
      `Invalid policy config: ${problem}. Fix this policy's entry in the policy config.`,
    ]);
  });

  it("ignores a denied permission inside a deny policy", async () => {
    const change = plus({
      effect: "deny",
      permissions: ["DNS Write"],
      resources: json({ [ZONE(IDS.devZone)]: "*" }),
    });
    expect(await details(tokenPrivilegedPermissions, change)).toEqual([]);
  });
});

describe("cloudflare-token-enforce-permission-allowlist", () => {
  it("reports permissions outside the environment's allow-list, by catalog name", async () => {
    const prod = loadConfig("prod");
    const change = plus({
      permissions: ["Workers Tail Read"],
      resources: json({ [ACCOUNT(IDS.devAccount)]: "*" }),
    });
    expect(await details(tokenPermissionAllowlist, change, prod)).toEqual([
      "The token grants permissions outside this environment's allow-list: Workers Tail Read. Remove them, or add " +
        "them to allowedPermissions in the policy config if this environment needs them.",
    ]);
    expect(await details(tokenPermissionAllowlist, change, DEV)).toEqual([]);
  });

  it("never allows an id the catalog does not know, unless the allow-list names that id", async () => {
    const unknownId = "abcdefabcdefabcdefabcdefabcdef01";
    const policies = [
      ...(devToken().props["policies"] as unknown[]),
      {
        effect: "allow",
        permissionGroups: [{ id: unknownId }],
        resources: json({ [ACCOUNT(IDS.devAccount)]: "*" }),
      },
    ];
    expect(await details(tokenPermissionAllowlist, { policies })).toEqual([
      `The token grants permissions outside this environment's allow-list: unknown permission group ${unknownId}. ` +
        "Remove them, or add them to allowedPermissions in the policy config if this environment needs them.",
    ]);
    const config = {
      "cloudflare-token-enforce-permission-allowlist": {
        allowedPermissions: [
          ...(
            loadConfig("dev")["cloudflare-token-enforce-permission-allowlist"] as {
              allowedPermissions: string[];
            }
          ).allowedPermissions,
          unknownId,
        ],
      },
    };
    expect(await details(tokenPermissionAllowlist, { policies }, config)).toEqual([]);
  });
});

describe("cloudflare-token-enforce-allowed-scope (stack policy, zero config)", () => {
  /** The scope policy's findings for the dev stack with the dev token changed by `props`. */
  async function scope(
    props: Record<string, unknown>,
    config: PackConfig = {},
    stack = devStack(devToken(props)),
  ) {
    const { diagnostics } = await analyzeStack(tokenAllowedScope, stack, { config });
    return diagnostics.map((d) => d.detail);
  }
  const inScope = `Scope it to the accounts (${IDS.devAccount}) and zones (${IDS.devZone}) the stack's own resources live in.`;

  it("passes the program's token with no config at all: the stack's own account and zone", async () => {
    expect(await scope({})).toEqual([]);
    expect(await scope({}, loadConfig("dev"))).toEqual([]);
  });

  it("reports an account the stack's resources do not live in", async () => {
    const change = plus({
      permissions: ["Workers Tail Read"],
      resources: json({ [ACCOUNT(IDS.prodAccount)]: "*" }),
    });
    expect(await scope(change)).toEqual([
      `Token "deploy-token" grants on resources outside the stack's scope: ${ACCOUNT(IDS.prodAccount)} (account ` +
        `outside the stack's scope). ${inScope}`,
    ]);
  });

  it("reports a zone the stack declares nothing in", async () => {
    const change = plus({ permissions: ["Zone Read"], resources: json({ [ZONE(IDS.prodZoneCom)]: "*" }) });
    expect(await scope(change)).toEqual([
      `Token "deploy-token" grants on resources outside the stack's scope: ${ZONE(IDS.prodZoneCom)} (zone outside ` +
        `the stack's scope). ${inScope}`,
    ]);
  });

  it("reports wildcards, user resources and nested zones of another account", async () => {
    const change = plus({
      permissions: ["Zone Read"],
      resources: json({
        "com.cloudflare.api.account.*": "*",
        "com.cloudflare.api.user.0123456789abcdef0123456789abcdef": "*",
        [ACCOUNT(IDS.otherAccount)]: { [ZONE(IDS.devZone)]: "*" },
      }),
    });
    expect(await scope(change)).toEqual([
      `Token "deploy-token" grants on resources outside the stack's scope: com.cloudflare.api.account.* (account ` +
        "outside the stack's scope); com.cloudflare.api.user.0123456789abcdef0123456789abcdef (a user, not an " +
        `account or zone); ${ZONE(IDS.devZone)} under ${ACCOUNT(IDS.otherAccount)} (account outside the stack's ` +
        `scope). ${inScope}`,
    ]);
  });

  it("configured ids only narrow the scope: an id the stack does not use is not added", async () => {
    const narrowed = {
      "cloudflare-token-enforce-allowed-scope": {
        allowedAccountIds: [IDS.prodAccount],
        allowedZoneIds: [IDS.devZone],
      },
    };
    expect(await scope({}, narrowed)).toEqual([
      `Token "deploy-token" grants on resources outside the stack's scope: ${ACCOUNT(IDS.devAccount)} (account ` +
        `outside the stack's scope). Scope it to the accounts (none) and zones (${IDS.devZone}) the stack's own ` +
        "resources live in, as narrowed by the policy config.",
    ]);
  });

  it("takes the scope from where the stack lives: the prod account's zones, not dev's", async () => {
    const prodStack = devStack(devToken()).map((resource) =>
      resource.props["accountId"] === IDS.devAccount
        ? { ...resource, props: { ...resource.props, accountId: IDS.prodAccount } }
        : resource.props["zoneId"] === IDS.devZone
          ? { ...resource, props: { ...resource.props, zoneId: IDS.prodZoneCom } }
          : resource,
    );
    const [finding] = await scope({}, {}, prodStack);
    expect(finding).toContain(`${ACCOUNT(IDS.devAccount)} (account outside the stack's scope)`);
    expect(finding).toContain(`accounts (${IDS.prodAccount}) and zones (${IDS.prodZoneCom})`);
  });

  it("reports malformed resources", async () => {
    const change = plus({ permissions: ["Zone Read"], resources: '{"com.cloudflare.api.account.zone.x":' });
    expect(await scope(change)).toEqual([
      'Token "deploy-token": policies[1]: resources is not valid JSON (Unexpected end of JSON input). Its scope ' +
        "cannot be checked; fix resources.",
    ]);
  });
});

describe("cloudflare-token-require-ip-restriction", () => {
  it("is advisory by default and reports a token without a request-IP condition", async () => {
    const { diagnostics } = await analyzeResource(tokenIpRestriction, devToken({ condition: {} }), {
      config: DEV,
    });
    expect(diagnostics.map((d) => [d.enforcementLevel, d.detail])).toEqual([
      [
        "advisory",
        "The token has no request-IP condition: a leaked copy works from any address. Set condition.requestIp.ins " +
          "to the CIDRs your CI egresses from (scoped-edge:tokenAllowedIps).",
      ],
    ]);
  });

  it("accepts a deny list unless the config requires an allow list (prod does)", async () => {
    const denyOnly = { condition: { requestIp: { notIns: ["198.51.100.0/24"] } } };
    expect(await details(tokenIpRestriction, denyOnly)).toEqual([]);
    expect(await details(tokenIpRestriction, denyOnly, loadConfig("prod"))).toEqual([
      "The token restricts request IPs only with a deny list (condition.requestIp.notIns); this environment " +
        "requires an allow list. Set condition.requestIp.ins to the CIDRs your CI egresses from " +
        "(scoped-edge:tokenAllowedIps).",
    ]);
  });

  it("can be made mandatory by config", async () => {
    const config = { "cloudflare-token-require-ip-restriction": "mandatory" };
    const { diagnostics } = await analyzeResource(tokenIpRestriction, devToken({ condition: {} }), {
      config,
    });
    expect(diagnostics.map((d) => d.enforcementLevel)).toEqual(["mandatory"]);
  });
});
