import type { ResourceValidationPolicy } from "@pulumi/policy";

import { joinWords } from "../lib/policy-config";
import { accountResource, isWildcard, type TokenResource, zoneResource } from "../lib/resources";
import { policyGrants, readTokenPolicies, type TokenGrant } from "../lib/token";
import { validateTokens } from "./support";

const ACCOUNT = accountResource("<account id>");
const ZONE = zoneResource("<zone id>");
const ACCOUNT_FIX = `Replace it with "${ACCOUNT}" for the one account the token needs.`;
const ZONE_FIX = `List each zone the token needs as "${ZONE}".`;

/** What a wildcard or user resource reaches, and how to fix it; undefined when it is fine. */
function finding(resource: TokenResource, grants: readonly TokenGrant[]): string | undefined {
  if (resource.kind === "user") {
    const broad = grants.filter((grant) => grant.scope === "account" || grant.scope === "zone");
    if (broad.length === 0) return undefined;
    const names = joinWords([...new Set(broad.map((grant) => grant.permission))]);
    return (
      `grants ${names} on the user resource ${resource.key}, which reaches every account and zone the user ` +
      `can. Grant account permissions on "${ACCOUNT}" and zone permissions on "${ZONE}" instead.`
    );
  }
  if (!isWildcard(resource)) return undefined;
  const names = joinWords([...new Set(grants.map((grant) => grant.permission))]);
  if (resource.kind === "account") {
    return `grants ${names} on ${resource.key}, every account the token's owner can reach. ${ACCOUNT_FIX}`;
  }
  if (resource.kind === "zone" && resource.parentAccountId !== undefined) {
    return (
      `grants ${names} on ${resource.key} nested under ${accountResource(resource.parentAccountId)}, ` +
      `every zone of that account. ${ZONE_FIX}`
    );
  }
  if (resource.kind === "zone") {
    return `grants ${names} on ${resource.key}, every zone of every account. ${ZONE_FIX}`;
  }
  return `grants ${names} on the wildcard resource ${resource.key}. ${ACCOUNT_FIX}`;
}

export const tokenWildcardResources: ResourceValidationPolicy = {
  name: "cloudflare-token-disallow-wildcard-resources",
  description:
    "Cloudflare token policies must name the exact accounts and zones they apply to. Wildcards " +
    `(${accountResource("*")}, ${zoneResource("*")}, all zones nested under an account) and ` +
    "account or zone permissions granted on a user resource reach far beyond what one stack deploys. A " +
    "resources value that cannot be read is reported too.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    `Write resources as a JSON object of exact resource strings: {"${ACCOUNT}":"*"} ` +
    `for account permissions and {"${ZONE}":"*"} for zone permissions.`,
  configSchema: { properties: {} },
  validateResource: validateTokens((props, _args, reportViolation) => {
    const read = readTokenPolicies(props);
    if (!read.ok) {
      reportViolation(`${read.error}. Fix the token's policies.`);
      return;
    }
    for (const policy of read.policies) {
      const grants = policyGrants(policy);
      if (!grants.ok) {
        reportViolation(`${grants.error}. Set resources to a JSON object such as {"${ACCOUNT}":"*"}.`);
        continue;
      }
      // A deny policy on a wildcard only takes rights away: nothing to report.
      if (policy.effect === "deny") continue;
      const byResource = new Map<string, { resource: TokenResource; grants: TokenGrant[] }>();
      for (const grant of grants.grants) {
        const key = `${grant.resource.parentAccountId ?? ""} ${grant.resource.key}`;
        const entry = byResource.get(key) ?? { resource: grant.resource, grants: [] };
        entry.grants.push(grant);
        byResource.set(key, entry);
      }
      for (const { resource, grants: onResource } of byResource.values()) {
        const problem = finding(resource, onResource);
        if (problem !== undefined) reportViolation(`policies[${policy.index}] ${problem}`);
      }
    }
  }),
};
