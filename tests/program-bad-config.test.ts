/**
 * Bad input fails before any resource is registered, with a message that names the key, the
 * problem and the fix.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";

import { catalogLookupRows } from "../tools/shared/offline-runtime";
import { resolvePermissionIds } from "../lib/permission-lookup";
import { GITHUB_TOKEN, programResources, PROVIDER_KEY, runStack, type RunOptions } from "./helpers/program";

const zones = (value: unknown) => ({ "scoped-edge:zones": JSON.stringify(value) });

interface BadCase {
  name: string;
  options: RunOptions;
  message: string[];
}

const CASES: BadCase[] = [
  {
    name: "malformed account id",
    options: { set: { "scoped-edge:accountId": "not-an-account" } },
    message: [
      "scoped-edge:accountId: must be a 32-character lowercase hex Cloudflare account id",
      "fix: pulumi config set scoped-edge:accountId <32-hex account id from the dashboard's Overview page> --stack dev",
    ],
  },
  {
    name: "malformed zone id",
    options: { set: zones([{ name: "example.dev", id: "Z1", routes: ["api.example.dev/*"] }]) },
    message: [
      "scoped-edge:zones[0].id: must be a 32-character lowercase hex Cloudflare zone id",
      "fix: pulumi config set --path 'scoped-edge:zones[0].id' <value> --stack dev (or edit Pulumi.dev.yaml)",
    ],
  },
  {
    name: "route host outside its zone",
    options: {
      set: zones([{ name: "example.dev", id: "0".repeat(31) + "1", routes: ["api.example.com/*"] }]),
    },
    message: [
      'scoped-edge:zones[0].routes[0]: route host "api.example.com" is not in zone example.dev',
      "fix: pulumi config set --path 'scoped-edge:zones[0].routes[0]' <value> --stack dev (or edit Pulumi.dev.yaml)",
    ],
  },
  {
    name: "duplicate route",
    options: {
      set: zones([
        { name: "example.dev", id: "0".repeat(31) + "1", routes: ["api.example.dev/*", "api.example.dev/*"] },
      ]),
    },
    message: [
      'scoped-edge:zones[0].routes[1]: duplicate route "api.example.dev/*" (already at scoped-edge:zones[0].routes[0]; Cloudflare compares hosts case-insensitively)',
      "fix: remove one of them from Pulumi.dev.yaml",
    ],
  },
  {
    name: "unknown permission name",
    options: { set: { "scoped-edge:extraPermissions": JSON.stringify(["Workers Scripts Edit Everything"]) } },
    message: [
      'scoped-edge:extraPermissions[0]: unknown permission "Workers Scripts Edit Everything"; closest known: Workers Scripts Write, Workers Scripts Read',
    ],
  },
  {
    name: "TTL of zero",
    options: { set: { "scoped-edge:tokenTtlDays": "0" } },
    message: [
      "scoped-edge:tokenTtlDays: must be at least 1",
      "fix: pulumi config set scoped-edge:tokenTtlDays 45 --stack dev",
    ],
  },
  {
    name: "TTL above the environment's maximum",
    options: { set: { "scoped-edge:tokenTtlDays": "120" } },
    message: [
      "scoped-edge:tokenTtlDays: tokenTtlDays 120 exceeds the dev maximum of 90 days",
      "fix: pulumi config set scoped-edge:tokenTtlDays 90 --stack dev (then",
    ],
  },
  {
    name: "TTL that does not outlive rotation plus grace",
    options: { set: { "scoped-edge:tokenTtlDays": "37" } },
    message: [
      "scoped-edge:tokenTtlDays: tokenTtlDays 37 must exceed rotationDays 30 + rotationGraceDays 7 = 37, or a token expires before CI has replaced it",
      "fix: pulumi config set scoped-edge:tokenTtlDays 38 --stack dev (then",
    ],
  },
  {
    name: "malformed GitHub repository",
    options: { set: { "scoped-edge:githubRepository": "edge-app" } },
    message: [
      "scoped-edge:githubRepository: must be owner/name, e.g. acme/edge-app",
      "fix: pulumi config set scoped-edge:githubRepository acme/edge-app --stack dev",
    ],
  },
  {
    name: "PROVIDER_KEY given as plain text",
    options: { plain: ["scoped-edge:providerKey"] },
    message: [
      "scoped-edge:providerKey: is stored as plain text; it must be a Pulumi secret",
      "fix: pulumi config set --secret scoped-edge:providerKey <value> --stack dev",
    ],
  },
  {
    name: "PROVIDER_KEY missing",
    options: { unset: ["scoped-edge:providerKey"] },
    message: [
      "scoped-edge:providerKey: is required but not set",
      "fix: pulumi config set --secret scoped-edge:providerKey <value> --stack dev",
    ],
  },
  {
    name: "GitHub token given as plain text",
    options: { plain: ["github:token"] },
    message: ["github:token: is stored as plain text; it must be a Pulumi secret"],
  },
  {
    name: "a Global API Key for the provider",
    options: { set: { "cloudflare:apiKey": "0123456789abcdef", "cloudflare:email": "ops@example.com" } },
    message: [
      "cloudflare:apiKey: configures a Global API Key, which can do anything the user can; scoped-edge refuses it",
      "cloudflare:email: configures a Global API Key",
    ],
  },
  {
    name: "a misspelt key",
    options: { set: { "scoped-edge:tokenTTLDays": "30" } },
    message: [
      "scoped-edge:tokenTTLDays: is not a scoped-edge setting (did you mean scoped-edge:tokenTtlDays?)",
    ],
  },
  {
    name: "a var shadowing PROVIDER_KEY",
    options: { set: { "scoped-edge:workerVars": JSON.stringify({ PROVIDER_KEY: "oops" }) } },
    message: ['scoped-edge:workerVars.PROVIDER_KEY: "PROVIDER_KEY" is a binding the stack manages'],
  },
];

describe("bad config", () => {
  it.each(CASES)("$name: fails with its message and registers nothing", async ({ options, message }) => {
    const run = await runStack("dev", options);
    expect(run.error).toBeDefined();
    expect(run.error!.message).toContain('Invalid configuration for stack "dev" (nothing was deployed):');
    for (const line of message) expect(run.error!.message).toContain(line);
    expect(programResources(run)).toEqual([]);
    expect(run.invokes).toEqual([]);
    // No secret value in the message.
    expect(run.error!.message).not.toContain(PROVIDER_KEY);
    expect(run.error!.message).not.toContain(GITHUB_TOKEN);
  });

  it("reports every problem at once", async () => {
    const run = await runStack("dev", {
      set: {
        "scoped-edge:accountId": "x",
        "scoped-edge:githubRepository": "y",
        "scoped-edge:tokenTtlDays": "0",
      },
    });
    const keys = [...run.error!.message.matchAll(/^ {2}- ([^:]+:[^:]+):/gm)].map((match) => match[1]);
    expect(keys).toEqual([
      "scoped-edge:accountId",
      "scoped-edge:tokenTtlDays",
      "scoped-edge:githubRepository",
    ]);
  });

  it("surfaces the error as a Pulumi RunError, so the CLI prints it without a stack trace", async () => {
    const run = await runStack("dev", { set: { "scoped-edge:accountId": "x" } });
    expect(pulumi.RunError.isInstance(run.error)).toBe(true);
  });
});

describe("permission names the live lookup does not know", () => {
  it("fail before any resource is registered, naming the closest known names", async () => {
    const rows = catalogLookupRows().filter((row) => row.name !== "Workers Scripts Write");
    const run = await runStack("dev", { lookupRows: rows });
    expect(run.error?.message).toBe(
      'Cloudflare\'s permission-group lookup has no "Workers Scripts Write"; closest known: Workers Scripts Read, Workers Routes Write, Workers KV Storage Write\n(nothing was deployed)',
    );
    expect(pulumi.RunError.isInstance(run.error)).toBe(true);
    expect(programResources(run)).toEqual([]);
    expect(run.invokes).toHaveLength(1);
  });

  it("prefer the row whose scope matches when Cloudflare lists a name twice", () => {
    const rows = [
      { id: "zone-scoped", name: "Zone Read", scopes: ["com.cloudflare.api.account.zone"] },
      { id: "account-scoped", name: "Account Settings Read", scopes: ["com.cloudflare.api.account"] },
      { id: "wrong-scope", name: "Zone Read", scopes: ["com.cloudflare.api.user"] },
    ];
    expect(resolvePermissionIds(["Zone Read", "Account Settings Read"], [...rows].reverse())).toEqual(
      new Map([
        ["Zone Read", "zone-scoped"],
        ["Account Settings Read", "account-scoped"],
      ]),
    );
  });
});
