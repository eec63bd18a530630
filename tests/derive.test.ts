/** The least-privilege derivation, call by call, table-driven, without Pulumi. */
import { readFileSync } from "node:fs";
import path from "node:path";

import { describe, expect, it } from "vitest";

import { DEPLOY_CALLS, deployCallsMarkdown } from "../policies/lib/deploy-calls";
import {
  deriveGrants,
  describeGrants,
  diffGrants,
  footprintOfWranglerConfig,
  grantsToPolicies,
  noDeployFootprint,
  DerivationError,
  type DeploymentFootprint,
} from "../policies/lib/derive";
import { permissionByName } from "../policies/lib/permission-catalog";

const ACCOUNT = "a".repeat(32);
const Z1 = "1".repeat(32);
const Z2 = "2".repeat(32);
const acct = `com.cloudflare.api.account.${ACCOUNT}`;
const zone = (id: string) => `com.cloudflare.api.account.zone.${id}`;

const base: DeploymentFootprint = {
  accountId: ACCOUNT,
  deploysCode: true,
  kvNamespacesToCreate: 0,
  routeZoneIds: [],
  zoneLookupZoneIds: [],
};

const pairs = (footprint: Partial<DeploymentFootprint>, extra: string[] = []) =>
  deriveGrants({ ...base, ...footprint }, extra).map((grant) => `${grant.permission} @ ${grant.resource}`);

describe("deriveGrants", () => {
  it.each<[string, Partial<DeploymentFootprint>, string[]]>([
    [
      "CI deploys the code: script calls only (no Account Settings Read)",
      {},
      [`Workers Scripts Write @ ${acct}`],
    ],
    ["Pulumi deploys the code: no token, no grants", { deploysCode: false, routeZoneIds: [Z1] }, []],
    [
      "an id-less KV binding wrangler creates",
      { kvNamespacesToCreate: 2 },
      [`Workers KV Storage Write @ ${acct}`, `Workers Scripts Write @ ${acct}`],
    ],
    [
      "routes with zone_id on two zones (listed twice): Routes Write there, no Zone Read",
      { routeZoneIds: [Z2, Z1, Z2] },
      [
        `Workers Scripts Write @ ${acct}`,
        `Workers Routes Write @ ${zone(Z1)}`,
        `Workers Routes Write @ ${zone(Z2)}`,
      ],
    ],
    [
      "a route looked up by name: Zone Read on that zone only",
      { routeZoneIds: [Z1], zoneLookupZoneIds: [Z1] },
      [`Workers Scripts Write @ ${acct}`, `Workers Routes Write @ ${zone(Z1)}`, `Zone Read @ ${zone(Z1)}`],
    ],
  ])("%s", (_name, footprint, expected) => {
    expect(pairs(footprint)).toEqual(expected);
  });

  it("names the call behind each grant", () => {
    const grants = deriveGrants({ ...base, routeZoneIds: [Z1] });
    expect(grants.map((grant) => grant.reason)).toEqual([
      "PUT /accounts/{account_id}/workers/scripts/{script_name} (wrangler deploy: upload of a Worker that does not " +
        "exist yet), and 10 more calls (docs/DEPLOY-CONTRACT.md)",
      "POST /zones/{zone_id}/workers/routes (wrangler deploy: attach a route on its zone (publishRoutesFallback)), " +
        "and 1 more call (docs/DEPLOY-CONTRACT.md)",
    ]);
  });

  it("grants only groups that each call's sources accept, on the resource kind the catalog gives them", () => {
    for (const call of DEPLOY_CALLS) {
      for (const name of call.accepted) expect(permissionByName(name)?.name).toBe(name);
      if (call.grant === undefined) {
        expect(call.tolerated).toBeDefined();
        continue;
      }
      expect(call.accepted).toContain(call.grant);
      const scope = permissionByName(call.grant)?.scope;
      expect(scope).toBe(call.resource === "account" ? "account" : "zone");
    }
  });

  it("adds account-scoped extras on the account and zone-scoped extras on every route zone", () => {
    const grants = deriveGrants({ ...base, routeZoneIds: [Z1, Z2] }, ["Workers Tail Read", "DNS Read"]);
    expect(grants.filter((grant) => grant.addedByHand).map((g) => `${g.permission} @ ${g.resource}`)).toEqual(
      [`Workers Tail Read @ ${acct}`, `DNS Read @ ${zone(Z1)}`, `DNS Read @ ${zone(Z2)}`],
    );
  });

  it("keeps a derived grant derived when it is also listed as an extra", () => {
    const grants = deriveGrants(base, ["Workers Scripts Write"]);
    expect(grants).toEqual([
      {
        permission: "Workers Scripts Write",
        resource: acct,
        reason:
          "PUT /accounts/{account_id}/workers/scripts/{script_name} (wrangler deploy: upload of a Worker that does " +
          "not exist yet), and 10 more calls (docs/DEPLOY-CONTRACT.md)",
        addedByHand: false,
      },
    ]);
  });

  it.each([
    ["Nope Write", 'unknown permission "Nope Write"'],
    ["API Tokens Write", '"API Tokens Write" is a user-level permission'],
  ])("refuses extra %s", (name, message) => {
    expect(() => deriveGrants(base, [name])).toThrow(DerivationError);
    expect(() => deriveGrants(base, [name])).toThrow(message);
  });

  it("refuses a zone-scoped extra when the deploy touches no zone", () => {
    expect(() => deriveGrants(base, ["DNS Read"])).toThrow(
      `"DNS Read" is zone-scoped but the app's deploy touches no zone`,
    );
  });
});

describe("footprintOfWranglerConfig", () => {
  it("reads routes' zone ids and id-less KV bindings", () => {
    expect(
      footprintOfWranglerConfig({
        account_id: ACCOUNT,
        kv_namespaces: [{ binding: "CONFIG_KV", id: "k" }, { binding: "NEW_KV" }],
        routes: [
          { pattern: "b.example/*", zone_id: Z2 },
          { pattern: "a.example/*", zone_id: Z1 },
        ],
      }),
    ).toEqual({ ...base, kvNamespacesToCreate: 1, routeZoneIds: [Z1, Z2] });
  });

  it("refuses a route without zone_id, naming it", () => {
    expect(() => footprintOfWranglerConfig({ account_id: ACCOUNT, routes: ["api.example.dev/*"] })).toThrow(
      'route "api.example.dev/*" has no zone_id',
    );
  });

  it("a stack whose app deploys nothing", () => {
    expect(deriveGrants(noDeployFootprint(ACCOUNT), ["Workers Tail Read"])).toEqual([]);
  });
});

describe("grantsToPolicies", () => {
  it("groups permissions that share a resource set into one policy, account policy first", () => {
    const grants = deriveGrants({ ...base, kvNamespacesToCreate: 1, routeZoneIds: [Z1, Z2] });
    expect(grantsToPolicies(grants)).toEqual([
      { permissions: ["Workers KV Storage Write", "Workers Scripts Write"], resources: [acct] },
      { permissions: ["Workers Routes Write"], resources: [zone(Z1), zone(Z2)] },
    ]);
  });
});

describe("diffGrants and describeGrants", () => {
  it("names what is in excess and what is missing", () => {
    const expected = deriveGrants({ ...base, routeZoneIds: [Z1] });
    const actual = [
      { permission: "Account Settings Read", resource: acct },
      { permission: "Workers Scripts Write", resource: acct },
      { permission: "DNS Write", resource: zone(Z1) },
    ];
    const { excess, missing } = diffGrants(actual, expected);
    expect(describeGrants(excess)).toBe(`Account Settings Read on ${acct}; DNS Write on ${zone(Z1)}`);
    expect(describeGrants(missing)).toBe(`Workers Routes Write on ${zone(Z1)}`);
  });
});

describe("docs/DEPLOY-CONTRACT.md", () => {
  it("shows the call table exactly as policies/lib/deploy-calls.ts has it", () => {
    const doc = readFileSync(path.join(__dirname, "..", "docs", "DEPLOY-CONTRACT.md"), "utf8");
    const table = /<!-- deploy-calls:start -->\n([\s\S]*?)\n<!-- deploy-calls:end -->/.exec(doc)?.[1];
    expect(table).toBe(deployCallsMarkdown());
  });
});
