import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";

import { describeResource } from "../lib/least-privilege";
import { readPolicyConfig } from "../lib/policy-config";
import { isTokenType } from "../lib/resource-types";
import type { TokenResource } from "../lib/resources";
import { policyGrants, readTokenPolicies } from "../lib/token";
import { reportingConfigErrors } from "./support";

export interface AllowedScopeConfig {
  /** Cloudflare account ids (32 hex) tokens may grant on; empty: the stack's own accounts. */
  readonly allowedAccountIds: readonly string[];
  /** Cloudflare zone ids (32 hex) tokens may grant on; empty: the stack's own zones. */
  readonly allowedZoneIds: readonly string[];
}

export const ALLOWED_SCOPE_DEFAULTS: AllowedScopeConfig = { allowedAccountIds: [], allowedZoneIds: [] };

/** The accounts and zones a stack's own resources live in (tokens excluded: their grants are what is judged). */
export interface StackScope {
  readonly accounts: ReadonlySet<string>;
  readonly zones: ReadonlySet<string>;
}

function stringProp(resource: PolicyResource, key: string): string | undefined {
  // A value unknown during preview is read through the SDK's proxy, which throws its UnknownValueError:
  // the SDK then reports that the policy cannot run during preview, as for any other unknown.
  const value: unknown = resource.props[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * Every `accountId` and `zoneId` of the stack's Cloudflare resources other than tokens (Worker script,
 * KV namespace, R2 bucket, routes, custom hostnames, ...): where the stack itself lives.
 */
export function stackScope(resources: readonly PolicyResource[]): StackScope {
  const accounts = new Set<string>();
  const zones = new Set<string>();
  for (const resource of resources) {
    if (!resource.type.startsWith("cloudflare:") || isTokenType(resource.type)) continue;
    const account = stringProp(resource, "accountId");
    if (account !== undefined) accounts.add(account);
    const zone = stringProp(resource, "zoneId");
    if (zone !== undefined) zones.add(zone);
  }
  return { accounts, zones };
}

/** The stack's own ids, narrowed to the configured ones when any are configured. */
function narrow(own: ReadonlySet<string>, configured: readonly string[]): Set<string> {
  return configured.length === 0 ? new Set(own) : new Set([...own].filter((id) => configured.includes(id)));
}

/** Why a resource is out of scope, or undefined when it is allowed. */
function outOfScope(resource: TokenResource, accounts: ReadonlySet<string>, zones: ReadonlySet<string>) {
  if (resource.parentAccountId !== undefined && !accounts.has(resource.parentAccountId)) {
    return "account outside the stack's scope";
  }
  switch (resource.kind) {
    case "account":
      return accounts.has(resource.id) ? undefined : "account outside the stack's scope";
    case "zone":
      return zones.has(resource.id) ? undefined : "zone outside the stack's scope";
    case "user":
      return "a user, not an account or zone";
    default:
      return "not an account or zone resource";
  }
}

const list = (ids: ReadonlySet<string>) => [...ids].sort().join(", ") || "none";

export const tokenAllowedScope: StackValidationPolicy = {
  name: "cloudflare-token-enforce-allowed-scope",
  description:
    "Every resource a Cloudflare token grants on must be an account or zone the stack's own resources live in " +
    "(the Worker script, KV namespace, R2 bucket, routes, custom hostnames). Works with no config; configured " +
    "allowedAccountIds / allowedZoneIds only narrow that scope. A dev token must not reach the prod account or a " +
    "zone nobody declared; wildcards and user resources are never in scope.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Point the token's resources at the stack's own account and zones only (scoped-edge derives them from " +
    "scoped-edge:accountId and scoped-edge:zones). To narrow further, list ids in allowedAccountIds / " +
    "allowedZoneIds in the environment's policy config.",
  configSchema: {
    properties: {
      allowedAccountIds: {
        type: "array",
        items: { type: "string", pattern: "^[0-9a-f]{32}$" },
        maxItems: 200,
        default: [],
        description:
          "Account ids (32 lowercase hex) tokens may grant on, narrowing the stack's own accounts. Empty: the " +
          "accounts the stack's resources live in.",
      },
      allowedZoneIds: {
        type: "array",
        items: { type: "string", pattern: "^[0-9a-f]{32}$" },
        maxItems: 200,
        default: [],
        description:
          "Zone ids (32 lowercase hex) tokens may grant on, narrowing the stack's own zones. Empty: the zones the " +
          "stack's resources live in.",
      },
    },
  },
  validateStack: reportingConfigErrors((args, reportViolation) => {
    const config = readPolicyConfig(args, ALLOWED_SCOPE_DEFAULTS);
    const tokens = args.resources.filter((resource) => isTokenType(resource.type));
    if (tokens.length === 0) args.notApplicable("The stack declares no Cloudflare API or account token.");
    const own = stackScope(args.resources);
    const accounts = narrow(own.accounts, config.allowedAccountIds);
    const zones = narrow(own.zones, config.allowedZoneIds);
    for (const token of tokens) {
      const read = readTokenPolicies(token.props);
      if (!read.ok) {
        reportViolation(`Token "${token.name}": ${read.error}. Fix the token's policies.`, token.urn);
        continue;
      }
      const findings: string[] = [];
      for (const policy of read.policies) {
        const grants = policyGrants(policy);
        if (!grants.ok) {
          reportViolation(
            `Token "${token.name}": ${grants.error}. Its scope cannot be checked; fix resources.`,
            token.urn,
          );
          continue;
        }
        if (policy.effect === "deny") continue;
        for (const grant of grants.grants) {
          const reason = outOfScope(grant.resource, accounts, zones);
          const line = `${describeResource(grant.resource)} (${reason})`;
          if (reason !== undefined && !findings.includes(line)) findings.push(line);
        }
      }
      if (findings.length > 0) {
        reportViolation(
          `Token "${token.name}" grants on resources outside the stack's scope: ${findings.join("; ")}. ` +
            `Scope it to the accounts (${list(accounts)}) and zones (${list(zones)}) the stack's own resources ` +
            `live in${config.allowedAccountIds.length + config.allowedZoneIds.length > 0 ? ", as narrowed by the policy config" : ""}.`,
          token.urn,
        );
      }
    }
  }),
};
