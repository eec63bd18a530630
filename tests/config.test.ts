/** The config schema, without Pulumi; and Pulumi.yaml declaring the same keys and defaults. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";
import { parse } from "yaml";

import {
  ConfigError,
  derivedRateLimitNamespaceId,
  parseStackConfig,
  PROVIDER_CONFIG_KEYS,
  routePatternProblem,
  SECRET_KEYS,
} from "../lib/config";
import { readStackConfigMap } from "../tools/shared/stack-file";
import { COMPATIBILITY_DATE, RATE_LIMIT_DEFAULTS } from "../worker/src/defaults";

const ROOT = join(__dirname, "..");

function devConfig(overrides: Record<string, string> = {}) {
  const map = readStackConfigMap(ROOT, "dev");
  return {
    config: { ...map.config, "scoped-edge:providerKey": "[secret]", ...overrides },
    context: { stack: "dev", secretKeys: new Set([...map.secretKeys, "scoped-edge:providerKey"]) },
  };
}

function problems(overrides: Record<string, string>): string[] {
  const { config, context } = devConfig(overrides);
  try {
    parseStackConfig(config, context);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.key}: ${p.problem}`);
    throw error;
  }
  return [];
}

describe("parseStackConfig", () => {
  it("refuses workerVars stored as a Pulumi secret: vars deploy as plain_text bindings", () => {
    const { config, context } = devConfig();
    const secretKeys = new Set([...context.secretKeys, "scoped-edge:workerVars"]);
    expect(() => parseStackConfig(config, { ...context, secretKeys })).toThrow(ConfigError);
    try {
      parseStackConfig(config, { ...context, secretKeys });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        {
          key: "scoped-edge:workerVars",
          problem: "holds a Pulumi secret, but Worker vars are deployed as plain text",
          fix:
            "keep only non-secret values in scoped-edge:workerVars (pulumi config set --path 'scoped-edge:workerVars.<NAME>' <value> --stack dev); " +
            "the provider key belongs in scoped-edge:providerKey, which is deployed as a secret_text binding",
        },
      ]);
    }
  });

  it("accepts each committed stack once its secret is set", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const map = readStackConfigMap(ROOT, stack);
      const config = parseStackConfig(
        { ...map.config, "scoped-edge:providerKey": "[secret]" },
        { stack, secretKeys: new Set(["scoped-edge:providerKey"]) },
      );
      expect(config.environment).toBe(stack);
      expect(config.token.owner).toBe("account");
    }
  });

  it.each<[string, Record<string, string>, string[]]>([
    [
      "uppercase account id",
      { "scoped-edge:accountId": "A".repeat(32) },
      ["scoped-edge:accountId: must be a 32-character lowercase hex Cloudflare account id"],
    ],
    [
      "unknown environment",
      { "scoped-edge:environment": "qa" },
      ["scoped-edge:environment: must be one of dev, staging, prod"],
    ],
    ["no zones", { "scoped-edge:zones": "[]" }, ["scoped-edge:zones: must list at least one zone"]],
    [
      "zone listed twice",
      {
        "scoped-edge:zones": JSON.stringify([
          { name: "a.dev", id: "1".repeat(32) },
          { name: "b.dev", id: "1".repeat(32) },
        ]),
      },
      [
        `scoped-edge:zones[1].id: zone ${"1".repeat(32)} is listed twice (already at scoped-edge:zones[0].id)`,
      ],
    ],
    [
      "bad worker name",
      { "scoped-edge:workerName": "Edge Chat" },
      [
        "scoped-edge:workerName: must be 1-63 lowercase letters, digits, '-' or '_', starting and ending with a letter or digit",
      ],
    ],
    [
      "bad compatibility date",
      { "scoped-edge:compatibilityDate": "2026-13-45" },
      ["scoped-edge:compatibilityDate: is not a real date"],
    ],
    [
      "non-integer TTL",
      { "scoped-edge:tokenTtlDays": "45.5" },
      ["scoped-edge:tokenTtlDays: must be a whole number"],
    ],
    ["bad owner", { "scoped-edge:tokenOwner": "org" }, ["scoped-edge:tokenOwner: must be account or user"]],
    [
      "bad CIDR",
      { "scoped-edge:tokenAllowedIps": JSON.stringify(["10.0.0.0/33"]) },
      [
        'scoped-edge:tokenAllowedIps[0]: "10.0.0.0/33" must be an IPv4/IPv6 address or CIDR such as 203.0.113.0/24',
      ],
    ],
    [
      "compatibility date that does not exist (Date.parse would roll it over to March)",
      { "scoped-edge:compatibilityDate": "2026-02-30" },
      ["scoped-edge:compatibilityDate: is not a real date"],
    ],
    [
      "notBefore on a day that does not exist",
      { "scoped-edge:tokenNotBefore": "2026-04-31T00:00:00Z" },
      [
        "scoped-edge:tokenNotBefore: is not a real instant (day, hour 00-23, minute and second 00-59 must exist)",
      ],
    ],
    [
      "bad notBefore",
      { "scoped-edge:tokenNotBefore": "tomorrow" },
      ["scoped-edge:tokenNotBefore: must be an RFC 3339 UTC time such as 2026-12-01T00:00:00Z (or empty)"],
    ],
    [
      "bad R2 bucket",
      { "scoped-edge:r2Bucket": "B" },
      ["scoped-edge:r2Bucket: must be 3-63 lowercase letters, digits or '-' (or empty for no bucket)"],
    ],
    [
      "user-level extra",
      { "scoped-edge:extraPermissions": JSON.stringify(["Memberships Read"]) },
      [
        'scoped-edge:extraPermissions[0]: "Memberships Read" is a user-level permission and cannot be scoped to this account and its zones',
      ],
    ],
  ])("%s", (_name, overrides, expected) => {
    expect(problems(overrides)).toEqual(expected);
  });

  it("accepts the dashboard's Edit spelling for an extra permission and stores the API name", () => {
    const { config, context } = devConfig({
      "scoped-edge:extraPermissions": JSON.stringify(["workers tail read"]),
    });
    expect(parseStackConfig(config, context).token.extraPermissions).toEqual(["Workers Tail Read"]);
  });
});

describe("routePatternProblem", () => {
  it.each([
    ["api.example.com/*", "example.com", undefined],
    ["example.com/v1/*", "example.com", undefined],
    ["*.example.com/*", "example.com", undefined],
    ["*example.com/*", "example.com", undefined],
    ["api.example.com", "example.com", undefined],
    [
      "https://api.example.com/*",
      "example.com",
      'route "https://api.example.com/*" must not include a scheme; write "api.example.com/*"',
    ],
    [
      "api.*.example.com/*",
      "example.com",
      'route "api.*.example.com/*" may use a wildcard only at the start of its host',
    ],
    ["api.notexample.com/*", "example.com", 'route host "api.notexample.com" is not in zone example.com'],
  ])("%s on %s", (pattern, zone, problem) => {
    expect(routePatternProblem(pattern, zone)).toBe(problem);
  });
});

describe("Pulumi.yaml", () => {
  const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as {
    name: string;
    runtime: { name: string };
    config: Record<string, { type?: string; description?: string; default?: unknown; secret?: boolean }>;
  };

  it("is a nodejs project named scoped-edge", () => {
    expect(project.name).toBe("scoped-edge");
    expect(project.runtime.name).toBe("nodejs");
  });

  it("declares every key the schema reads, with a description", () => {
    const { config } = devConfig();
    const schemaKeys = Object.keys(config)
      .filter((key) => key.startsWith("scoped-edge:"))
      .map((key) => key.slice("scoped-edge:".length));
    for (const key of schemaKeys) expect(project.config[key], key).toBeDefined();
    for (const [key, declaration] of Object.entries(project.config)) {
      expect(declaration.description, key).toBeTruthy();
    }
  });

  it("declares the secrets as secret, without defaults", () => {
    for (const key of SECRET_KEYS) {
      expect(project.config[key]).toMatchObject({ secret: true });
      expect(project.config[key]!.default).toBeUndefined();
    }
  });

  it("commits no secret value in any stack file", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const doc = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
        config: Record<string, unknown>;
      };
      const keys = Object.keys(doc.config);
      for (const secret of ["scoped-edge:providerKey", "cloudflare:apiToken", "github:token"])
        expect(keys).not.toContain(secret);
      expect(JSON.stringify(doc)).not.toContain("secure");
    }
  });
});

describe("facts taken from their owners", () => {
  it("Pulumi.yaml's default compatibilityDate and rate limit are worker/src/defaults.ts's", () => {
    const declared = (
      parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as {
        config: Record<string, { default?: unknown }>;
      }
    ).config;
    expect(declared["compatibilityDate"]!.default).toBe(COMPATIBILITY_DATE);
    expect(declared["rateLimitRequests"]!.default).toBe(RATE_LIMIT_DEFAULTS.limit);
    expect(declared["rateLimitPeriodSeconds"]!.default).toBe(RATE_LIMIT_DEFAULTS.periodSeconds);
  });

  it.each(["cloudflare", "github"] as const)(
    "the %s provider keys are exactly the installed provider's config (config/vars)",
    async (provider) => {
      const vars = (await import(`@pulumi/${provider}/config/vars.js`)) as Record<string, unknown>;
      const installed = Object.keys(vars).filter((key) => key !== "default" && key !== "__esModule");
      expect([...PROVIDER_CONFIG_KEYS[provider]].sort()).toEqual(installed.sort());
    },
  );
});

describe("deployment model and rate-limit keys", () => {
  const parse = (overrides: Record<string, string>) => {
    const { config, context } = devConfig(overrides);
    return parseStackConfig(config, context);
  };

  it("defaults: CI deploys code, Pulumi owns routes, 20 requests a minute, a namespace derived from the name", () => {
    const config = parse({});
    expect(config.codeDeployedBy).toBe("ci");
    expect(config.routesDeployedBy).toBe("pulumi");
    expect(config.worker.rateLimit).toEqual({
      limit: 20,
      periodSeconds: 60,
      namespaceId: derivedRateLimitNamespaceId("edge-chat-dev"),
    });
    expect(config.github.reviewers).toEqual({ users: [], teams: [] });
    expect(config.github.protectedBranchesOnly).toBe(true);
  });

  it("derives a stable positive-integer namespace id per worker name", () => {
    // 1 + the first 32 bits of sha256("edge-chat-dev"), computed independently here.
    const expected = String(
      1 + parseInt(createHash("sha256").update("edge-chat-dev").digest("hex").slice(0, 8), 16),
    );
    expect(derivedRateLimitNamespaceId("edge-chat-dev")).toBe(expected);
    expect(derivedRateLimitNamespaceId("edge-chat")).not.toBe(expected);
  });

  it("reads every new key as set", () => {
    expect(parse({ "scoped-edge:codeDeployedBy": "pulumi" }).codeDeployedBy).toBe("pulumi");
    const config = parse({
      "scoped-edge:rateLimitRequests": "100",
      "scoped-edge:rateLimitPeriodSeconds": "10",
      "scoped-edge:rateLimitNamespaceId": "1001",
      "scoped-edge:githubReviewerUsers": "[12345]",
      "scoped-edge:githubReviewerTeams": "[42, 43]",
      "scoped-edge:githubProtectedBranchesOnly": "false",
    });
    expect(config.worker.rateLimit).toEqual({ limit: 100, periodSeconds: 10, namespaceId: "1001" });
    expect(config.github.reviewers).toEqual({ users: [12345], teams: [42, 43] });
    expect(config.github.protectedBranchesOnly).toBe(false);
  });

  it.each<[string, Record<string, string>, string[]]>([
    [
      "unknown code deployer",
      { "scoped-edge:codeDeployedBy": "github" },
      ["scoped-edge:codeDeployedBy: must be ci or pulumi"],
    ],
    [
      "unknown routes deployer",
      { "scoped-edge:routesDeployedBy": "wrangler" },
      ["scoped-edge:routesDeployedBy: must be pulumi or ci"],
    ],
    [
      "zero requests",
      { "scoped-edge:rateLimitRequests": "0" },
      ["scoped-edge:rateLimitRequests: must be at least 1"],
    ],
    [
      "too many requests",
      { "scoped-edge:rateLimitRequests": "10001" },
      ["scoped-edge:rateLimitRequests: must be at most 10000"],
    ],
    [
      "a period Cloudflare does not offer",
      { "scoped-edge:rateLimitPeriodSeconds": "30" },
      ["scoped-edge:rateLimitPeriodSeconds: must be 10 or 60 (Cloudflare's only periods)"],
    ],
    [
      "a namespace id that is not a positive integer",
      { "scoped-edge:rateLimitNamespaceId": "0" },
      [
        "scoped-edge:rateLimitNamespaceId: must be a positive integer such as 1001 (or empty to derive one from workerName)",
      ],
    ],
    [
      "a reviewer given by login",
      { "scoped-edge:githubReviewerUsers": JSON.stringify(["octocat"]) },
      ["scoped-edge:githubReviewerUsers[0]: must be a numeric GitHub user id"],
    ],
    [
      "a branch policy that is not a boolean",
      { "scoped-edge:githubProtectedBranchesOnly": "yes" },
      ["scoped-edge:githubProtectedBranchesOnly: must be true or false"],
    ],
    [
      "routes by CI while Pulumi deploys the code",
      { "scoped-edge:codeDeployedBy": "pulumi", "scoped-edge:routesDeployedBy": "ci" },
      [
        "scoped-edge:routesDeployedBy: is ci, but codeDeployedBy is pulumi: with Pulumi deploying the code there is no deploy token and no CI deploy to carry routes",
      ],
    ],
    [
      "reviewers without an environment",
      { "scoped-edge:githubEnvironment": "", "scoped-edge:githubReviewerTeams": "[7]" },
      [
        "scoped-edge:githubReviewerTeams: lists required reviewers, but scoped-edge:githubEnvironment is empty: reviewers belong to a GitHub environment",
      ],
    ],
    [
      "a branch policy without an environment",
      { "scoped-edge:githubEnvironment": "", "scoped-edge:githubProtectedBranchesOnly": "false" },
      [
        "scoped-edge:githubProtectedBranchesOnly: is false, but scoped-edge:githubEnvironment is empty: the branch policy belongs to a GitHub environment",
      ],
    ],
    [
      "more than six reviewers",
      { "scoped-edge:githubReviewerUsers": "[1,2,3,4]", "scoped-edge:githubReviewerTeams": "[5,6,7]" },
      [
        "scoped-edge:githubReviewerUsers: 7 required reviewers in all (users and teams); GitHub allows at most 6 per environment",
      ],
    ],
  ])("%s", (_name, overrides, expected) => {
    expect(problems(overrides)).toEqual(expected);
  });
});
