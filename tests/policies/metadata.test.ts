import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

import { describe, expect, it } from "vitest";
import { parse } from "yaml";

import { MAX_TTL_DAYS, parseStackConfig } from "../../lib/config";
import { policyConfigProblems } from "../../policies/lib/policy-config";
import { policies } from "../../policies/rules";
import { DEFAULT_ALLOWED_PERMISSIONS } from "../../policies/rules/token-permission-allowlist";
import { ROTATION_HEADROOM_DEFAULTS } from "../../policies/rules/token-rotation-headroom";
import { readStackConfigMap } from "../../tools/shared/stack-file";
import { loadConfig, POLICIES_DIR } from "./harness";

const EXPECTED: [string, string, "resource" | "stack"][] = [
  ["cloudflare-token-enforce-expiry", "mandatory", "resource"],
  ["cloudflare-token-require-rotation-headroom", "mandatory", "resource"],
  ["cloudflare-token-disallow-wildcard-resources", "mandatory", "resource"],
  ["cloudflare-token-disallow-privileged-permissions", "mandatory", "resource"],
  ["cloudflare-token-enforce-permission-allowlist", "mandatory", "resource"],
  ["cloudflare-token-enforce-derived-least-privilege", "mandatory", "stack"],
  ["cloudflare-token-enforce-allowed-scope", "mandatory", "stack"],
  ["cloudflare-token-require-ip-restriction", "advisory", "resource"],
  ["cloudflare-worker-disallow-secrets-in-plain-bindings", "mandatory", "resource"],
  ["cloudflare-provider-disallow-global-api-key", "mandatory", "resource"],
];

describe("policy metadata", () => {
  it("names, default levels and kinds", () => {
    expect(
      policies.map((p) => [p.name, p.enforcementLevel, "validateStack" in p ? "stack" : "resource"]),
    ).toEqual(EXPECTED);
  });

  it.each(policies.map((p) => [p.name, p] as const))(
    "%s: description, remediation and config schema",
    (_name, policy) => {
      expect(policy.name).toMatch(
        /^cloudflare-(token|worker|provider)-(enforce|disallow|require)-[a-z0-9-]+$/,
      );
      expect(policy.description).toMatch(/^[A-Z].{60,}\.$/);
      expect(policy.remediationSteps).toMatch(/^[A-Z].+\.$/);
      expect(policy.configSchema).toBeDefined();
      const properties = policy.configSchema!.properties;
      expect(Object.keys(properties)).not.toContain("enforcementLevel");
      for (const [key, schema] of Object.entries(properties)) {
        expect(schema, key).toHaveProperty("default");
        expect(schema, key).toHaveProperty("description");
      }
    },
  );

  it("one policy per file in policies/rules, and the pack's index only assembles the PolicyPack", () => {
    const ruleFiles = readdirSync(path.join(POLICIES_DIR, "rules")).filter(
      (f) => !["index.ts", "support.ts"].includes(f),
    );
    expect(ruleFiles).toHaveLength(policies.length);
    const index = readFileSync(path.join(POLICIES_DIR, "index.ts"), "utf8");
    expect(index).toContain("new PolicyPack(POLICY_PACK_NAME");
    expect(index).not.toMatch(/validateResource|validateStack/);
  });

  it("nothing under policies/ imports from outside it", () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.name === "node_modules" || entry.name === "bin") continue;
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (full.endsWith(".ts")) files.push(full);
      }
    };
    walk(POLICIES_DIR);
    let relative = 0;
    for (const file of files) {
      for (const [, spec] of readFileSync(file, "utf8").matchAll(
        /^(?:import|export)\b[^;]*?\bfrom "([^"]+)";/gm,
      )) {
        if (!spec!.startsWith(".")) {
          expect(spec, file).toMatch(/^(@pulumi\/policy|@pulumi\/pulumi|node:)/);
          continue;
        }
        relative += 1;
        const target = path.resolve(path.dirname(file), spec!);
        expect(target.startsWith(POLICIES_DIR + path.sep), `${file} imports ${spec}`).toBe(true);
      }
    }
    expect(relative).toBeGreaterThan(30);
  });
});

const ROOT = path.join(POLICIES_DIR, "..");

describe("the pack's own defaults", () => {
  it("the headroom policy's unconfigured schedule is Pulumi.yaml's default schedule", () => {
    const declared = (
      parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
        config: Record<string, { default?: unknown }>;
      }
    ).config;
    expect(ROTATION_HEADROOM_DEFAULTS).toEqual({
      rotationDays: declared["rotationDays"]!.default,
      graceDays: declared["rotationGraceDays"]!.default,
    });
  });
});

describe("per-environment policy config", () => {
  const envs = ["dev", "staging", "prod"] as const;
  const prop = (env: (typeof envs)[number], policy: string, key: string) =>
    (loadConfig(env)[policy] as Record<string, unknown>)[key];

  it.each(envs)("%s.json names only real policies and only keys of their schemas", (env) => {
    const config = loadConfig(env);
    expect(Object.keys(config).sort()).toEqual(policies.map((p) => p.name).sort());
    for (const policy of policies) {
      const entry = config[policy.name];
      if (typeof entry === "string") continue;
      const keys = Object.keys(entry as object).filter((k) => k !== "enforcementLevel");
      for (const key of keys)
        expect(Object.keys(policy.configSchema!.properties), `${env} ${policy.name}`).toContain(key);
    }
  });

  it.each(envs)("%s.json matches its committed stack, read from Pulumi.%s.yaml, and holds no ids", (env) => {
    const map = readStackConfigMap(ROOT, env);
    const stack = parseStackConfig(
      { ...map.config, "scoped-edge:providerKey": "[secret]" },
      { stack: env, secretKeys: new Set(["scoped-edge:providerKey"]) },
    );
    expect(stack.environment).toBe(env);
    expect(prop(env, "cloudflare-token-enforce-expiry", "maxTtlDays")).toBe(MAX_TTL_DAYS[env]);
    expect(prop(env, "cloudflare-token-require-rotation-headroom", "rotationDays")).toBe(
      stack.token.rotationDays,
    );
    expect(prop(env, "cloudflare-token-require-rotation-headroom", "graceDays")).toBe(stack.token.graceDays);
    // Zero config: the scope policy takes the stack's own account and zones, so replacing the ids in
    // Pulumi.<env>.yaml alone is enough.
    expect(loadConfig(env)["cloudflare-token-enforce-allowed-scope"]).toBe("mandatory");
    expect(JSON.stringify(loadConfig(env))).not.toMatch(/[0-9a-f]{32}/);
  });

  it.each(envs)("%s.json is a config the pack accepts (every bound, name and list checked)", (env) => {
    const config = loadConfig(env);
    for (const policy of policies) {
      const entry = config[policy.name];
      if (typeof entry === "string") continue;
      const { enforcementLevel: _level, ...properties } = entry as Record<string, unknown>;
      const defaults = Object.fromEntries(
        Object.entries(policy.configSchema!.properties).map(([key, schema]) => [
          key,
          (schema as { default: unknown }).default,
        ]),
      );
      expect(policyConfigProblems(properties, defaults), `${env} ${policy.name}`).toEqual([]);
    }
  });

  it("staging and prod allow exactly what a deploy can be granted (the pack's default); dev adds reads; prod requires an IP allow list", () => {
    // The default follows the call table the derivation reads (policies/lib/deploy-calls.ts).
    expect(DEFAULT_ALLOWED_PERMISSIONS).toEqual([
      "Workers KV Storage Write",
      "Workers Routes Write",
      "Workers Scripts Write",
      "Zone Read",
    ]);
    for (const env of ["staging", "prod"] as const) {
      expect(loadConfig(env)["cloudflare-token-enforce-permission-allowlist"]).toBe("mandatory");
    }
    const dev = prop(
      "dev",
      "cloudflare-token-enforce-permission-allowlist",
      "allowedPermissions",
    ) as string[];
    for (const name of DEFAULT_ALLOWED_PERMISSIONS) expect(dev).toContain(name);
    expect(dev).not.toContain("Account Settings Read");
    expect(prop("prod", "cloudflare-token-require-ip-restriction", "requireAllowList")).toBe(true);
    expect(
      prop("prod", "cloudflare-token-enforce-derived-least-privilege", "allowedExtraPermissions"),
    ).toEqual([]);
  });
});
