import type { ResourceValidationPolicy } from "@pulumi/policy";

import { readPolicyConfig } from "../lib/policy-config";
import { describeResource } from "../lib/least-privilege";
import type { TokenResource } from "../lib/resources";
import { policyGrants, readTokenPolicies } from "../lib/token";
import { validateTokens } from "./support";

export interface AllowedScopeConfig {
  /** Cloudflare account ids (32 hex) tokens may grant on. */
  readonly allowedAccountIds: readonly string[];
  /** Cloudflare zone ids (32 hex) tokens may grant on. */
  readonly allowedZoneIds: readonly string[];
}

export const ALLOWED_SCOPE_DEFAULTS: AllowedScopeConfig = { allowedAccountIds: [], allowedZoneIds: [] };

/** Why a resource is out of scope, or undefined when it is allowed. */
function outOfScope(resource: TokenResource, accounts: ReadonlySet<string>, zones: ReadonlySet<string>) {
  if (resource.parentAccountId !== undefined && !accounts.has(resource.parentAccountId)) {
    return "account not in allowedAccountIds";
  }
  switch (resource.kind) {
    case "account":
      return accounts.has(resource.id) ? undefined : "account not in allowedAccountIds";
    case "zone":
      return zones.has(resource.id) ? undefined : "zone not in allowedZoneIds";
    case "user":
      return "a user, not an account or zone";
    default:
      return "not an account or zone resource";
  }
}

export const tokenAllowedScope: ResourceValidationPolicy = {
  name: "cloudflare-token-enforce-allowed-scope",
  description:
    "Every resource a Cloudflare token grants on must be an account or zone this environment allows. A token " +
    "for dev must not reach the prod account or a zone nobody declared; wildcards and user resources are never " +
    "in scope.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Point the token's resources at this environment's account and zones only, or add the id to " +
    "allowedAccountIds / allowedZoneIds in the environment's policy config (policies/config/<env>.json).",
  configSchema: {
    properties: {
      allowedAccountIds: {
        type: "array",
        items: { type: "string", pattern: "^[0-9a-f]{32}$" },
        default: [],
        description:
          "Account ids (32 lowercase hex) tokens may grant on. Empty allows none: set it per environment.",
      },
      allowedZoneIds: {
        type: "array",
        items: { type: "string", pattern: "^[0-9a-f]{32}$" },
        default: [],
        description:
          "Zone ids (32 lowercase hex) tokens may grant on. Empty allows none: set it per environment.",
      },
    },
  },
  validateResource: validateTokens((props, args, reportViolation) => {
    const config = readPolicyConfig(args, ALLOWED_SCOPE_DEFAULTS);
    const accounts = new Set(config.allowedAccountIds);
    const zones = new Set(config.allowedZoneIds);
    const read = readTokenPolicies(props);
    if (!read.ok) {
      reportViolation(`${read.error}. Fix the token's policies.`);
      return;
    }
    const findings: string[] = [];
    for (const policy of read.policies) {
      const grants = policyGrants(policy);
      if (!grants.ok) {
        reportViolation(`${grants.error}. Its scope cannot be checked; fix resources.`);
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
      const none =
        accounts.size === 0 && zones.size === 0
          ? " No account or zone is allowed yet: set allowedAccountIds and allowedZoneIds in this environment's policy config."
          : "";
      reportViolation(
        `The token grants on resources outside this environment's scope: ${findings.join("; ")}. ` +
          `Scope it to the allowed accounts (${[...accounts].join(", ") || "none"}) and zones ` +
          `(${[...zones].join(", ") || "none"}).${none}`,
      );
    }
  }),
};
