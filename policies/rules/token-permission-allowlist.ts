import type { ResourceValidationPolicy } from "@pulumi/policy";

import { DEPLOY_CALLS } from "../lib/deploy-calls";
import { describePermissionId } from "../lib/permission-catalog";
import {
  MAX_LIST_ENTRIES,
  PERMISSION_ENTRY_SCHEMA,
  permissionIdSet,
  readPolicyConfig,
} from "../lib/policy-config";
import { readTokenPolicies } from "../lib/token";
import { validateTokens } from "./support";

export interface PermissionAllowlistConfig {
  /** Permission-group names (from the catalog) or 32-hex ids a token may grant in this environment. */
  readonly allowedPermissions: readonly string[];
}

/**
 * Everything an application's deploy can ever be granted (the `grant` of every call in
 * policies/lib/deploy-calls.ts, the table the derivation reads), and nothing else.
 */
export const DEFAULT_ALLOWED_PERMISSIONS: readonly string[] = [
  ...new Set(DEPLOY_CALLS.flatMap((call) => (call.grant === undefined ? [] : [call.grant]))),
].sort();

export const PERMISSION_ALLOWLIST_DEFAULTS: PermissionAllowlistConfig = {
  allowedPermissions: DEFAULT_ALLOWED_PERMISSIONS,
};

export const tokenPermissionAllowlist: ResourceValidationPolicy = {
  name: "cloudflare-token-enforce-permission-allowlist",
  description:
    "Every permission group a Cloudflare token grants must be on the environment's allow-list. Permission " +
    "groups are recognised by id; an id the pack's catalog does not know is never allowed unless the " +
    "allow-list names that id.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Remove the listed permission groups from the token, or add them (by name or id) to allowedPermissions in " +
    "this environment's policy config (policies/config/<env>.json) when the environment really needs them.",
  configSchema: {
    properties: {
      allowedPermissions: {
        type: "array",
        items: PERMISSION_ENTRY_SCHEMA,
        maxItems: MAX_LIST_ENTRIES,
        default: [...DEFAULT_ALLOWED_PERMISSIONS],
        description:
          'Permission-group names (e.g. "Workers Scripts Write") or 32-hex permission-group ids a token may grant.',
      },
    },
  },
  validateResource: validateTokens((props, args, reportViolation) => {
    const config = readPolicyConfig(args, PERMISSION_ALLOWLIST_DEFAULTS);
    const allowed = permissionIdSet(config.allowedPermissions);
    const read = readTokenPolicies(props);
    if (!read.ok) return; // unreadable policies: cloudflare-token-disallow-wildcard-resources reports them
    const outside = new Set<string>();
    for (const policy of read.policies) {
      if (policy.effect === "deny") continue;
      for (const id of policy.permissionIds) if (!allowed.has(id)) outside.add(describePermissionId(id));
    }
    if (outside.size > 0) {
      reportViolation(
        `The token grants permissions outside this environment's allow-list: ${[...outside].join(", ")}. ` +
          `Remove them, or add them to allowedPermissions in the policy config if this environment needs them.`,
      );
    }
  }),
};
