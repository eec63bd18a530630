/**
 * Every policy of the pack, in the order the README documents them. Tests and the offline plan import
 * this module; only ../index.ts constructs the PolicyPack (constructing one starts the gRPC server).
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

import { providerGlobalApiKey } from "./provider-global-api-key";
import { tokenAllowedScope } from "./token-allowed-scope";
import { tokenDerivedLeastPrivilege } from "./token-derived-least-privilege";
import { tokenExpiry } from "./token-expiry";
import { tokenIpRestriction } from "./token-ip-restriction";
import { tokenPermissionAllowlist } from "./token-permission-allowlist";
import { tokenPrivilegedPermissions } from "./token-privileged-permissions";
import { tokenRotationHeadroom } from "./token-rotation-headroom";
import { tokenWildcardResources } from "./token-wildcard-resources";
import { workerPlaintextSecrets } from "./worker-plaintext-secrets";

export {
  providerGlobalApiKey,
  tokenAllowedScope,
  tokenDerivedLeastPrivilege,
  tokenExpiry,
  tokenIpRestriction,
  tokenPermissionAllowlist,
  tokenPrivilegedPermissions,
  tokenRotationHeadroom,
  tokenWildcardResources,
  workerPlaintextSecrets,
};

export const POLICY_PACK_NAME = "scoped-edge-cloudflare";

export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  tokenExpiry,
  tokenRotationHeadroom,
  tokenWildcardResources,
  tokenPrivilegedPermissions,
  tokenPermissionAllowlist,
  tokenDerivedLeastPrivilege,
  tokenAllowedScope,
  tokenIpRestriction,
  workerPlaintextSecrets,
  providerGlobalApiKey,
];
