/**
 * The program's pure pieces, without Pulumi: the canonical token-policy order, the admin
 * credential's exact permission set, and the empty-token guard.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { canonicalTokenPolicies } from "../components/deploy-token";
import type { StackConfig } from "../lib/config";
import {
  describeAdminGrants,
  EmptyTokenValueError,
  requiredAdminGrants,
  requireTokenValue,
} from "../lib/credentials";

const ACCOUNT = "0123456789abcdef0123456789abcdef";
const ZONE_A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const ZONE_B = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const account = `com.cloudflare.api.account.${ACCOUNT}`;
const zone = (id: string) => `com.cloudflare.api.account.zone.${id}`;

describe("canonicalTokenPolicies", () => {
  it("sorts permission groups by id and policies by resources", () => {
    expect(
      canonicalTokenPolicies([
        { permissionGroupIds: ["c8", "28"], resources: '{"com.cloudflare.api.account.zone.b":"*"}' },
        { permissionGroupIds: ["e0", "c1", "0a"], resources: '{"com.cloudflare.api.account.a":"*"}' },
      ]),
    ).toEqual([
      {
        effect: "allow",
        permissionGroups: [{ id: "0a" }, { id: "c1" }, { id: "e0" }],
        resources: '{"com.cloudflare.api.account.a":"*"}',
      },
      {
        effect: "allow",
        permissionGroups: [{ id: "28" }, { id: "c8" }],
        resources: '{"com.cloudflare.api.account.zone.b":"*"}',
      },
    ]);
  });

  it("gives the same result for every order of the same policies and ids", () => {
    const policy = fc.record({
      permissionGroupIds: fc.uniqueArray(fc.stringMatching(/^[0-9a-f]{4}$/), { minLength: 1, maxLength: 6 }),
      resources: fc.stringMatching(/^[a-z.]{1,12}$/),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(policy, { maxLength: 5, selector: (p) => p.resources }),
        fc.nat(),
        (policies, seed) => {
          const shuffled = [...policies]
            .map((p) => ({ ...p, permissionGroupIds: [...p.permissionGroupIds].reverse() }))
            .sort(() => (seed % 2 === 0 ? 1 : -1));
          const canonical = canonicalTokenPolicies(policies);
          expect(canonicalTokenPolicies(shuffled)).toEqual(canonical);
          for (const p of canonical) {
            const ids = p.permissionGroups.map((group) => group.id);
            expect(ids).toEqual([...ids].sort());
          }
          const resources = canonical.map((p) => p.resources);
          expect(resources).toEqual([...resources].sort());
        },
      ),
    );
  });
});

type AdminConfig = Parameters<typeof requiredAdminGrants>[0];

function config(overrides: Partial<AdminConfig> = {}): AdminConfig {
  return {
    accountId: ACCOUNT,
    zones: [
      { name: "a.example", id: ZONE_A, routes: ["api.a.example/*"], customHostnames: [] },
      { name: "b.example", id: ZONE_B, routes: [], customHostnames: ["app.customer.example"] },
    ],
    r2Bucket: undefined,
    codeDeployedBy: "ci",
    routesDeployedBy: "pulumi",
    token: {
      owner: "account",
      ttlDays: 45,
      rotationDays: 30,
      graceDays: 7,
      generation: 0,
      allowedIps: [],
      deniedIps: [],
      extraPermissions: [],
    },
    worker: {
      name: "edge",
      compatibilityDate: "2026-04-26",
      vars: {},
      rateLimit: { limit: 20, periodSeconds: 60, namespaceId: "1001" },
    },
    ...overrides,
  } as AdminConfig;
}

const summary = (grants: ReturnType<typeof requiredAdminGrants>) =>
  grants.map((grant) => `${grant.permission} @ ${grant.resource ?? "user"}`);

describe("requiredAdminGrants", () => {
  it("an account-owned token, Pulumi's routes and custom hostnames", () => {
    expect(summary(requiredAdminGrants(config()))).toEqual([
      `Account API Tokens Write @ ${account}`,
      `Workers Scripts Write @ ${account}`,
      `Workers KV Storage Write @ ${account}`,
      `Workers Routes Write @ ${zone(ZONE_A)}`,
      `SSL and Certificates Write @ ${zone(ZONE_B)}`,
    ]);
  });

  it("a user-owned token needs API Tokens Write on the admin's user instead", () => {
    const grants = requiredAdminGrants(
      config({ token: { ...config().token, owner: "user" } } as Partial<AdminConfig>),
    );
    expect(grants[0]).toEqual({
      permission: "API Tokens Write",
      scope: "user",
      resource: undefined,
      reason: "creates, rotates and deletes the user-owned deploy token and lists the permission groups",
    });
    expect(summary(grants)).not.toContain(`Account API Tokens Write @ ${account}`);
  });

  it("holds every zone-scoped group the deploy token gets on a zone (#7241), once per zone", () => {
    const grants = requiredAdminGrants(
      config({
        routesDeployedBy: "ci",
        r2Bucket: "assets",
        token: { ...config().token, extraPermissions: ["Zone Read"] },
      } as Partial<AdminConfig>),
    );
    expect(summary(grants)).toEqual([
      `Account API Tokens Write @ ${account}`,
      `Workers Scripts Write @ ${account}`,
      `Workers KV Storage Write @ ${account}`,
      `Workers R2 Storage Write @ ${account}`,
      `SSL and Certificates Write @ ${zone(ZONE_B)}`,
      `Workers Routes Write @ ${zone(ZONE_A)}`,
      `Zone Read @ ${zone(ZONE_A)}`,
    ]);
    const routes = grants.find((grant) => grant.permission === "Workers Routes Write")!;
    expect(routes.reason).toMatch(/terraform-provider-cloudflare #7241/);
    expect(routes.scope).toBe("zone");
  });

  it("codeDeployedBy pulumi: no token permission, nothing held on a token's behalf", () => {
    expect(
      summary(requiredAdminGrants(config({ codeDeployedBy: "pulumi", routesDeployedBy: "pulumi" }))),
    ).toEqual([
      `Workers Scripts Write @ ${account}`,
      `Workers KV Storage Write @ ${account}`,
      `Workers Routes Write @ ${zone(ZONE_A)}`,
      `SSL and Certificates Write @ ${zone(ZONE_B)}`,
    ]);
  });

  it("reads as one line for the credentials table", () => {
    expect(describeAdminGrants(requiredAdminGrants(config()))).toBe(
      `Account API Tokens Write (the account), Workers Scripts Write (the account), Workers KV Storage Write (the account), ` +
        `Workers Routes Write (zone ${ZONE_A}), SSL and Certificates Write (zone ${ZONE_B})`,
    );
  });
});

describe("requireTokenValue", () => {
  it("passes a value through", () => {
    expect(requireTokenValue("abc", "t")).toBe("abc");
  });

  it.each([undefined, "", " \n"])("refuses %j, naming the token and saying nothing was written", (value) => {
    expect(() => requireTokenValue(value, "scoped-edge-dev-deploy-1a2b3c4d")).toThrow(EmptyTokenValueError);
    expect(() => requireTokenValue(value, "scoped-edge-dev-deploy-1a2b3c4d")).toThrow(
      /^Cloudflare returned an empty value for the deploy token "scoped-edge-dev-deploy-1a2b3c4d"; nothing was written to GitHub\./,
    );
  });
});

// StackConfig stays the type the program passes in.
const _typed: AdminConfig = {} as StackConfig;
void _typed;
