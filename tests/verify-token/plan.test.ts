import { describe, expect, it } from "vitest";

import { endpointPath } from "../../tools/verify/endpoints";
import { planProbes, PlanError, unprobedPermissions } from "../../tools/verify/probes";
import { loadStackConfig } from "../../tools/verify/stack";
import { PERMISSION_GROUPS } from "../../policies/lib/permission-catalog";
import {
  ACCOUNT_DEV,
  ACCOUNT_OTHER,
  repoStack,
  SAAS_STACK,
  stackDir,
  ZONE_DEV,
  ZONE_OTHER,
  ZONE_SAAS,
} from "./fixtures";

const summary = (probes: ReturnType<typeof planProbes>) =>
  probes.map((probe) => `${probe.type} GET ${endpointPath(probe.endpoint)}`);

describe("planProbes", () => {
  it("derives the dev stack's probes from its grants: one positive, a refusal for everything else", () => {
    expect(summary(planProbes(repoStack("dev")))).toEqual([
      `positive GET /accounts/${ACCOUNT_DEV}/workers/scripts`,
      `negative GET /accounts/${ACCOUNT_DEV}/storage/kv/namespaces`,
      `negative GET /accounts/${ACCOUNT_DEV}/r2/buckets`,
      `negative GET /accounts/${ACCOUNT_DEV}/tokens`,
      `negative GET /zones/${ZONE_DEV}/workers/routes`,
      `negative GET /zones/${ZONE_DEV}/dns_records`,
      `negative GET /zones/${ZONE_DEV}/custom_hostnames`,
      "zone-visibility GET /zones",
    ]);
  });

  it("refuses routes, DNS and hostnames on every zone of prod (Pulumi owns its routes)", () => {
    const paths = summary(planProbes(repoStack("prod")));
    for (const zone of ["0000000000000000000000000000d003", "0000000000000000000000000000d004"]) {
      expect(paths).toContain(`negative GET /zones/${zone}/workers/routes`);
      expect(paths).toContain(`negative GET /zones/${zone}/dns_records`);
      expect(paths).not.toContain(`positive GET /zones/${zone}`);
    }
  });

  it("covers CI-deployed routes, extra permissions and the user-owned form", () => {
    const root = stackDir({ saas: SAAS_STACK });
    const probes = planProbes(loadStackConfig(root, "saas"), {
      foreignZoneId: ZONE_OTHER,
      foreignAccountId: ACCOUNT_OTHER,
    });
    expect(summary(probes)).toEqual([
      `positive GET /accounts/${ACCOUNT_DEV}/workers/scripts`,
      `positive GET /zones/${ZONE_DEV}/dns_records`,
      `positive GET /zones/${ZONE_DEV}/workers/routes`,
      "negative GET /user/tokens",
      `negative GET /accounts/${ACCOUNT_DEV}/storage/kv/namespaces`,
      `negative GET /accounts/${ACCOUNT_DEV}/r2/buckets`,
      `negative GET /accounts/${ACCOUNT_DEV}/tokens`,
      `negative GET /zones/${ZONE_DEV}/custom_hostnames`,
      `negative GET /zones/${ZONE_SAAS}/workers/routes`,
      `negative GET /zones/${ZONE_SAAS}/dns_records`,
      `negative GET /zones/${ZONE_SAAS}/custom_hostnames`,
      `negative GET /zones/${ZONE_OTHER}`,
      `negative GET /accounts/${ACCOUNT_OTHER}`,
      `negative GET /accounts/${ACCOUNT_OTHER}/workers/scripts`,
    ]);
    const scripts = probes.find(
      (probe) => endpointPath(probe.endpoint) === `/accounts/${ACCOUNT_DEV}/workers/scripts`,
    );
    // Workers Tail Read (an extra) is proven by the same call as Workers Scripts Write: both accepted there.
    expect(scripts).toMatchObject({
      grants: [{ permission: "Workers Scripts Write" }, { permission: "Workers Tail Read" }],
    });
    const dns = probes.find((probe) => endpointPath(probe.endpoint) === `/zones/${ZONE_DEV}/dns_records`);
    expect(dns).toMatchObject({
      grants: [{ permission: "DNS Read" }],
      why: expect.stringContaining("extraPermissions"),
    });
    const kv = probes.find(
      (probe) => endpointPath(probe.endpoint) === `/accounts/${ACCOUNT_DEV}/storage/kv/namespaces`,
    );
    expect(kv).toMatchObject({
      excess: `Workers KV Storage Write or Workers KV Storage Read on com.cloudflare.api.account.${ACCOUNT_DEV}`,
    });
  });

  it("has nothing to verify when Pulumi deploys the code (no deploy token exists)", () => {
    const root = stackDir({
      solo: {
        ...SAAS_STACK,
        "scoped-edge:codeDeployedBy": "pulumi",
        "scoped-edge:routesDeployedBy": "pulumi",
        "scoped-edge:extraPermissions": [],
        "scoped-edge:tokenOwner": "account",
      },
    });
    expect(() => planProbes(loadStackConfig(root, "solo"))).toThrow(/no deploy token to verify.*--admin/);
  });

  it("refuses a 'foreign' id that belongs to the stack", () => {
    expect(() => planProbes(repoStack("dev"), { foreignZoneId: ZONE_DEV })).toThrow(PlanError);
    expect(() => planProbes(repoStack("dev"), { foreignAccountId: ACCOUNT_DEV })).toThrow(PlanError);
  });

  it("has a read-only probe for every account- and zone-scoped permission in the catalog", () => {
    expect(unprobedPermissions(PERMISSION_GROUPS.map((group) => group.name))).toEqual([]);
  });
});

describe("loadStackConfig", () => {
  it("reads the committed stacks although providerKey is not committed", () => {
    for (const stack of ["dev", "staging", "prod"]) expect(repoStack(stack).stack).toBe(stack);
  });
});
