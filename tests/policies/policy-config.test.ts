/** The pack's own check of its config (policies/lib/policy-config.ts): nothing can switch a policy off. */
import { describe, expect, it } from "vitest";

import { PERMISSION_GROUPS } from "../../policies/lib/permission-catalog";
import { PERMISSION_ENTRY_SCHEMA, policyConfigProblems } from "../../policies/lib/policy-config";
import { policies } from "../../policies/rules";

/** A policy's defaults, read from its configSchema as the CLI would fill them in. */
function defaultsOf(name: string): Record<string, unknown> {
  const policy = policies.find((p) => p.name === name)!;
  return Object.fromEntries(
    Object.entries(policy.configSchema!.properties).map(([key, schema]) => [
      key,
      (schema as { default: unknown }).default,
    ]),
  );
}

const ALLOWLIST = "cloudflare-token-enforce-permission-allowlist";
const DERIVED = "cloudflare-token-enforce-derived-least-privilege";
const PLAINTEXT = "cloudflare-worker-disallow-secrets-in-plain-bindings";
const EXPIRY = "cloudflare-token-enforce-expiry";

describe("policyConfigProblems", () => {
  it("accepts every policy's own defaults", () => {
    for (const policy of policies)
      expect(policyConfigProblems(defaultsOf(policy.name), defaultsOf(policy.name))).toEqual([]);
  });

  it.each<[string, string, Record<string, unknown>, string]>([
    [
      "secret detection switched off",
      PLAINTEXT,
      { minHexSecretLength: 1e9 },
      "minHexSecretLength is 1000000000; it must be a whole number from 16 to 37",
    ],
    [
      "a Global API Key let through",
      PLAINTEXT,
      { minHexSecretLength: 38 },
      "minHexSecretLength is 38; it must be a whole number from 16 to 37",
    ],
    [
      "a TTL of 1e15 days",
      EXPIRY,
      { maxTtlDays: 1e15 },
      "maxTtlDays is 1000000000000000; it must be a whole number from 1 to 3650",
    ],
    [
      "a TTL given as text",
      EXPIRY,
      { maxTtlDays: "30" },
      'maxTtlDays is "30"; it must be a whole number from 1 to 3650',
    ],
    [
      "the clock as config",
      EXPIRY,
      { now: "2020-01-01T00:00:00Z" },
      '"now" is not policy config: the pack judges time by the real clock (the offline plan pins it with its --now)',
    ],
    [
      "a misspelt property",
      EXPIRY,
      { maxTTLDays: 30 },
      '"maxTTLDays" is not a property of this policy (did you mean maxTtlDays?)',
    ],
    [
      "a misspelt allowed permission",
      ALLOWLIST,
      { allowedPermissions: ["Workers Script Write"] },
      'allowedPermissions[0] "Workers Script Write" is not a permission group the pack knows (did you mean Workers Scripts Write?); write a catalog name or the group\'s 32-hex id',
    ],
    [
      "a misspelt extra permission",
      DERIVED,
      { allowedExtraPermissions: ["Worker Tail Read"] },
      'allowedExtraPermissions[0] "Worker Tail Read" is not a permission group the pack knows (did you mean Workers Tail Read?); write a catalog name or the group\'s 32-hex id',
    ],
    [
      "a wildcard token exemption",
      DERIVED,
      { exemptTokenNames: ["*"] },
      'exemptTokenNames[0] "*" must be a plain name (no wildcard), 1-200 characters',
    ],
    [
      "a wildcard plain-text name",
      PLAINTEXT,
      { allowedPlainTextNames: ["*_KEY"] },
      'allowedPlainTextNames[0] "*_KEY" must be a plain name (no wildcard), 1-200 characters',
    ],
    [
      "a list that is not a list",
      ALLOWLIST,
      { allowedPermissions: "Zone Read" },
      "allowedPermissions must be a list of strings",
    ],
    [
      "a boolean given as text",
      "cloudflare-token-require-ip-restriction",
      { requireAllowList: "yes" },
      "requireAllowList must be true or false",
    ],
  ])("refuses %s", (_name, policy, properties, problem) => {
    expect(policyConfigProblems(properties, defaultsOf(policy))).toEqual([problem]);
  });

  it("the configSchema's entry pattern (what the CLI checks) and the pack's own check agree", () => {
    const pattern = new RegExp(PERMISSION_ENTRY_SCHEMA.pattern!);
    const entries = [
      ...PERMISSION_GROUPS.flatMap((group) => [
        group.name,
        group.id,
        group.name.toLowerCase(),
        `${group.name} `,
      ]),
      "Workers Scripts Edit",
      "Workers Script Write",
      "DNS Write|x",
      "",
    ];
    for (const entry of entries) {
      const refused = policyConfigProblems({ allowedPermissions: [entry] }, defaultsOf(ALLOWLIST)).length > 0;
      expect(refused, entry).toBe(!pattern.test(entry));
    }
    expect(pattern.test("Workers Scripts Edit")).toBe(true);
    expect(pattern.test("workers scripts write")).toBe(false);
  });

  it("refuses an over-long list and escapes what it quotes", () => {
    const many = Array.from({ length: 201 }, (_, index) => `NAME_${index}`);
    expect(policyConfigProblems({ allowedPlainTextNames: many }, defaultsOf(PLAINTEXT))).toEqual([
      "allowedPlainTextNames has 201 entries; at most 200",
    ]);
    const [problem] = policyConfigProblems({ "x\u001b[8m": 1 }, defaultsOf(EXPIRY));
    expect(problem).toContain("\\u001b[8m");
    expect(problem).not.toContain("\u001b");
  });
});
