import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";

import { DerivationError, deriveGrants, describeGrants, type DerivedGrant, type Grant } from "../lib/derive";
import { compareGrants, describeTokenGrants } from "../lib/least-privilege";
import { readPolicyConfig } from "../lib/policy-config";
import { isTokenType } from "../lib/resource-types";
import { footprintsFromResources } from "../lib/stack-footprint";
import { policyGrants, readTokenPolicies, type TokenGrant } from "../lib/token";

export interface DerivedLeastPrivilegeConfig {
  /** Permission names a token may carry beyond the derived set (on the stack's account or zones). */
  readonly allowedExtraPermissions: readonly string[];
  /** Logical names of tokens in the stack that are not deploy tokens (not compared). */
  readonly exemptTokenNames: readonly string[];
}

export const DERIVED_LEAST_PRIVILEGE_DEFAULTS: DerivedLeastPrivilegeConfig = {
  allowedExtraPermissions: [],
  exemptTokenNames: [],
};

const key = (grant: Grant) => `${grant.permission}\u0000${grant.resource}`;

export const tokenDerivedLeastPrivilege: StackValidationPolicy = {
  name: "cloudflare-token-enforce-derived-least-privilege",
  description:
    "Each deploy token's grants must equal what the application's deploy needs, call by call " +
    "(docs/DEPLOY-CONTRACT.md): Workers Scripts Write on the account when the stack has a Worker script whose code " +
    "CI deploys; Workers Routes Write on each zone of a route in the published deploy contract " +
    "(SCOPED_EDGE_WRANGLER_CONFIG, routesDeployedBy: ci); Workers KV Storage Write only for a contract KV binding " +
    "without an id. Anything more is excess; anything less fails the deploy. Extras are allowed only when the " +
    "config lists them.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Make the token's policies match the derived grants (scoped-edge derives them for you from the stack config). " +
    "For a permission added on purpose, list its name in allowedExtraPermissions (and in scoped-edge:extraPermissions).",
  configSchema: {
    properties: {
      allowedExtraPermissions: {
        type: "array",
        items: { type: "string" },
        default: [],
        description:
          "Permission names a token may carry beyond the derived set, granted on the stack's account (account " +
          "permissions) or its zones (zone permissions). Not required: a token without them passes.",
      },
      exemptTokenNames: {
        type: "array",
        items: { type: "string" },
        default: [],
        description: "Logical names of tokens in the stack that are not deploy tokens and are not compared.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const config = readPolicyConfig(args, DERIVED_LEAST_PRIVILEGE_DEFAULTS);
    const tokens = args.resources.filter(
      (resource) => isTokenType(resource.type) && !config.exemptTokenNames.includes(resource.name),
    );
    if (tokens.length === 0) args.notApplicable("The stack declares no Cloudflare API or account token.");
    const fromResources = footprintsFromResources(args.resources);
    if (!fromResources.ok) {
      reportViolation(
        `The deploy contract cannot be read: ${fromResources.error}. Publish the wrangler config scoped-edge ` +
          `generates (npm run wrangler-config).`,
      );
      return;
    }
    const footprints = fromResources.footprints;
    if (footprints.length === 0) {
      args.notApplicable(
        "The stack declares no Worker script whose deploy a token's permissions derive from.",
      );
    }

    const needed = new Map<string, DerivedGrant>();
    for (const footprint of footprints)
      for (const grant of deriveGrants(footprint)) needed.set(key(grant), grant);
    const extras = new Map<string, Grant>();
    for (const name of config.allowedExtraPermissions) {
      try {
        for (const footprint of footprints) {
          for (const grant of deriveGrants(footprint, [name]))
            if (!needed.has(key(grant))) extras.set(key(grant), grant);
        }
      } catch (error) {
        if (!(error instanceof DerivationError)) throw error;
        reportViolation(
          `allowedExtraPermissions: ${error.message}. Fix the entry in the policy config (a catalog name such as ` +
            `"Workers Tail Read").`,
        );
      }
    }

    for (const token of tokens)
      checkToken(token, [...needed.values()], [...extras.values()], reportViolation);
  },
};

function checkToken(
  token: PolicyResource,
  needed: readonly DerivedGrant[],
  extras: readonly Grant[],
  reportViolation: (message: string, urn?: string) => void,
) {
  const read = readTokenPolicies(token.props);
  if (!read.ok) {
    reportViolation(
      `Token "${token.name}": ${read.error}; its grants cannot be derived. Fix the token's policies.`,
      token.urn,
    );
    return;
  }
  const actual: TokenGrant[] = [];
  for (const policy of read.policies) {
    const grants = policyGrants(policy);
    if (!grants.ok) {
      reportViolation(
        `Token "${token.name}": ${grants.error}; its grants cannot be compared with the stack's needs. Fix resources.`,
        token.urn,
      );
      return;
    }
    actual.push(...grants.grants);
  }
  const { excess, missing } = compareGrants(actual, needed, extras);
  if (excess.length > 0) {
    reportViolation(
      `Token "${token.name}" grants more than this stack needs: ${describeTokenGrants(excess)}. Remove them from ` +
        `the token's policies, or list a permission in allowedExtraPermissions if it is added on purpose.`,
      token.urn,
    );
  }
  if (missing.length > 0) {
    const reasons = [...new Set(missing.map((grant) => `${grant.permission}: ${grant.reason}`))].join("; ");
    reportViolation(
      `Insufficient permissions: token "${token.name}" lacks ${describeGrants(missing)}, and the deploy will fail ` +
        `without them (${reasons}). Add them to the token's policies.`,
      token.urn,
    );
  }
}
