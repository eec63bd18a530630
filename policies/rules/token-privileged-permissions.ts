import type { ResourceValidationPolicy } from "@pulumi/policy";

import {
  MAX_LIST_ENTRIES,
  PERMISSION_ENTRY_SCHEMA,
  permissionIdSet,
  readPolicyConfig,
} from "../lib/policy-config";
import { readTokenPolicies } from "../lib/token";
import { describePermissionId } from "../lib/permission-catalog";
import { validateTokens } from "./support";

export interface PrivilegedPermissionsConfig {
  /** Permission-group names (from the catalog) or 32-hex ids a token must never grant. */
  readonly deniedPermissions: readonly string[];
}

/**
 * Permissions that let a token mint tokens, change who has access, read who has access, move money or
 * rewrite zones. Groups the offline catalog (lib/permission-catalog.ts) does not name are listed by
 * id, from Cloudflare's published permission-group list (cloudflare-docs, "API Tokens Permissions"),
 * so every entry matches: a name nothing resolves would be dropped silently.
 */
export const DEFAULT_DENIED_PERMISSIONS: readonly string[] = [
  "API Tokens Read",
  "API Tokens Write",
  "Account API Tokens Read",
  "Account API Tokens Write",
  "1af1fa2adc104452b74a9a3364202f20", // Account Settings Write
  "Memberships Read",
  "9201bc6f42d440968aaab0c6f17ebb1d", // Memberships Write
  "User Details Read",
  "55a5e17cc99e4a3fa1f3432d262f2e55", // User Details Write
  "7cf72faf220841aabcfdfab81c43c4f6", // Billing Read
  "6c80e02421494afc9ae14414ed442632", // Billing Write
  "Zone Write",
  "DNS Write",
];

export const PRIVILEGED_PERMISSIONS_DEFAULTS: PrivilegedPermissionsConfig = {
  deniedPermissions: DEFAULT_DENIED_PERMISSIONS,
};

export const tokenPrivilegedPermissions: ResourceValidationPolicy = {
  name: "cloudflare-token-disallow-privileged-permissions",
  description:
    "A Cloudflare token must not grant privileged permissions: minting or reading tokens, account settings, " +
    "memberships, user details, billing, zone settings or DNS. A deploy token holding any of them turns a " +
    "leaked CI secret into an account takeover. The deny list is configurable.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Remove the listed permission groups from the token's policies. If a stack truly needs one, give it its own " +
    "short-lived token outside CI rather than widening the deploy token.",
  configSchema: {
    properties: {
      deniedPermissions: {
        type: "array",
        items: PERMISSION_ENTRY_SCHEMA,
        maxItems: MAX_LIST_ENTRIES,
        default: [...DEFAULT_DENIED_PERMISSIONS],
        description:
          'Permission-group names (as in the Cloudflare dashboard, e.g. "DNS Write") or 32-hex permission-group ' +
          "ids a token must never grant. The list may add to the defaults, never drop one.",
      },
    },
  },
  validateResource: validateTokens((props, args, reportViolation) => {
    const config = readPolicyConfig(args, PRIVILEGED_PERMISSIONS_DEFAULTS);
    const denied = permissionIdSet(config.deniedPermissions);
    const read = readTokenPolicies(props);
    if (!read.ok) return; // unreadable policies: cloudflare-token-disallow-wildcard-resources reports them
    const found: string[] = [];
    for (const policy of read.policies) {
      if (policy.effect === "deny") continue;
      for (const id of policy.permissionIds) {
        if (denied.has(id)) found.push(`${describePermissionId(id)} (policies[${policy.index}])`);
      }
    }
    if (found.length > 0) {
      reportViolation(
        `The token grants privileged permissions a deploy token must never hold: ${[...new Set(found)].join(", ")}. ` +
          `Remove them from the token's policies.`,
      );
    }
  }),
};
