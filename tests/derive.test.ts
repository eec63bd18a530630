/** The least-privilege derivation, table-driven, without Pulumi. */
import { describe, expect, it } from "vitest";

import {
  deriveGrants,
  describeGrants,
  diffGrants,
  grantsToPolicies,
  DerivationError,
  type DeploymentFootprint,
} from "../policies/lib/derive";

const ACCOUNT = "a".repeat(32);
const Z1 = "1".repeat(32);
const Z2 = "2".repeat(32);
const acct = `com.cloudflare.api.account.${ACCOUNT}`;
const zone = (id: string) => `com.cloudflare.api.account.zone.${id}`;

const base: DeploymentFootprint = {
  accountId: ACCOUNT,
  workerScripts: 0,
  kvNamespaces: 0,
  r2Buckets: 0,
  routeZoneIds: [],
  customHostnameZoneIds: [],
};

const pairs = (footprint: Partial<DeploymentFootprint>, extra: string[] = []) =>
  deriveGrants({ ...base, ...footprint }, extra).map((grant) => `${grant.permission} @ ${grant.resource}`);

describe("deriveGrants", () => {
  it.each<[string, Partial<DeploymentFootprint>, string[]]>([
    ["nothing deployed: wrangler still reads account settings", {}, [`Account Settings Read @ ${acct}`]],
    [
      "a Worker script",
      { workerScripts: 1 },
      [`Account Settings Read @ ${acct}`, `Workers Scripts Write @ ${acct}`],
    ],
    [
      "a KV namespace",
      { kvNamespaces: 2 },
      [`Account Settings Read @ ${acct}`, `Workers KV Storage Write @ ${acct}`],
    ],
    [
      "an R2 bucket",
      { r2Buckets: 1 },
      [`Account Settings Read @ ${acct}`, `Workers R2 Storage Write @ ${acct}`],
    ],
    [
      "routes on two zones (listed twice)",
      { routeZoneIds: [Z2, Z1, Z2] },
      [
        `Account Settings Read @ ${acct}`,
        `Workers Routes Write @ ${zone(Z1)}`,
        `Zone Read @ ${zone(Z1)}`,
        `Workers Routes Write @ ${zone(Z2)}`,
        `Zone Read @ ${zone(Z2)}`,
      ],
    ],
    [
      "custom hostnames on one zone",
      { customHostnameZoneIds: [Z1] },
      [`Account Settings Read @ ${acct}`, `SSL and Certificates Write @ ${zone(Z1)}`],
    ],
    [
      "the full stack",
      { workerScripts: 1, kvNamespaces: 1, r2Buckets: 1, routeZoneIds: [Z1], customHostnameZoneIds: [Z2] },
      [
        `Account Settings Read @ ${acct}`,
        `Workers KV Storage Write @ ${acct}`,
        `Workers R2 Storage Write @ ${acct}`,
        `Workers Scripts Write @ ${acct}`,
        `Workers Routes Write @ ${zone(Z1)}`,
        `Zone Read @ ${zone(Z1)}`,
        `SSL and Certificates Write @ ${zone(Z2)}`,
      ],
    ],
  ])("%s", (_name, footprint, expected) => {
    expect(pairs(footprint)).toEqual(expected);
  });

  it("adds account-scoped extras on the account and zone-scoped extras on every stack zone", () => {
    const grants = deriveGrants({ ...base, routeZoneIds: [Z1], customHostnameZoneIds: [Z2] }, [
      "Workers Tail Read",
      "DNS Read",
    ]);
    expect(grants.filter((grant) => grant.addedByHand).map((g) => `${g.permission} @ ${g.resource}`)).toEqual(
      [`Workers Tail Read @ ${acct}`, `DNS Read @ ${zone(Z1)}`, `DNS Read @ ${zone(Z2)}`],
    );
  });

  it("keeps a derived grant derived when it is also listed as an extra", () => {
    const grants = deriveGrants({ ...base, workerScripts: 1 }, ["Workers Scripts Write"]);
    expect(grants.filter((g) => g.permission === "Workers Scripts Write")).toEqual([
      {
        permission: "Workers Scripts Write",
        resource: acct,
        reason: "uploads the Worker script (account scope only)",
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

  it("refuses a zone-scoped extra on a stack without zones", () => {
    expect(() => deriveGrants(base, ["DNS Read"])).toThrow(
      '"DNS Read" is zone-scoped but the stack deploys to no zone',
    );
  });
});

describe("grantsToPolicies", () => {
  it("groups permissions that share a resource set into one policy, account policy first", () => {
    const grants = deriveGrants({
      ...base,
      workerScripts: 1,
      kvNamespaces: 1,
      routeZoneIds: [Z1, Z2],
      customHostnameZoneIds: [Z1],
    });
    expect(grantsToPolicies(grants)).toEqual([
      {
        permissions: ["Account Settings Read", "Workers KV Storage Write", "Workers Scripts Write"],
        resources: [acct],
      },
      { permissions: ["SSL and Certificates Write"], resources: [zone(Z1)] },
      { permissions: ["Workers Routes Write", "Zone Read"], resources: [zone(Z1), zone(Z2)] },
    ]);
  });
});

describe("diffGrants and describeGrants", () => {
  it("names what is in excess and what is missing", () => {
    const expected = deriveGrants({ ...base, workerScripts: 1, routeZoneIds: [Z1] });
    const actual = [
      { permission: "Account Settings Read", resource: acct },
      { permission: "Workers Scripts Write", resource: acct },
      { permission: "Workers Routes Write", resource: zone(Z1) },
      { permission: "DNS Write", resource: zone(Z1) },
    ];
    const { excess, missing } = diffGrants(actual, expected);
    expect(describeGrants(excess)).toBe(`DNS Write on ${zone(Z1)}`);
    expect(describeGrants(missing)).toBe(`Zone Read on ${zone(Z1)}`);
  });
});
