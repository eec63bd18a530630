import type { ResourceValidationPolicy } from "@pulumi/policy";

import { readPolicyConfig } from "../lib/policy-config";
import { readRequestIp } from "../lib/token";
import { validateTokens } from "./support";

export interface IpRestrictionConfig {
  /** Only an allow list (condition.requestIp.ins) counts; a deny list alone is not enough. */
  readonly requireAllowList: boolean;
}

export const IP_RESTRICTION_DEFAULTS: IpRestrictionConfig = { requireAllowList: false };

export const tokenIpRestriction: ResourceValidationPolicy = {
  name: "cloudflare-token-require-ip-restriction",
  description:
    "A Cloudflare token should carry a request-IP condition, so a leaked copy is useless from anywhere else. " +
    "Advisory by default because hosted CI runners have no fixed egress addresses; set the enforcement level " +
    "to mandatory where the deploy runs from known networks.",
  enforcementLevel: "advisory",
  severity: "medium",
  remediationSteps:
    "List the addresses that deploy in scoped-edge:tokenAllowedIps (the token's condition.requestIp.ins); " +
    "ranges that must never use the token go in scoped-edge:tokenDeniedIps (condition.requestIp.notIns).",
  configSchema: {
    properties: {
      requireAllowList: {
        type: "boolean",
        default: IP_RESTRICTION_DEFAULTS.requireAllowList,
        description:
          "Require an allow list (condition.requestIp.ins); a deny list alone then does not count.",
      },
    },
  },
  validateResource: validateTokens((props, args, reportViolation) => {
    const config = readPolicyConfig(args, IP_RESTRICTION_DEFAULTS);
    const { ins, notIns } = readRequestIp(props);
    if (ins.length === 0 && notIns.length === 0) {
      reportViolation(
        "The token has no request-IP condition: a leaked copy works from any address. Set " +
          "condition.requestIp.ins to the CIDRs your CI egresses from (scoped-edge:tokenAllowedIps).",
      );
    } else if (config.requireAllowList && ins.length === 0) {
      reportViolation(
        "The token restricts request IPs only with a deny list (condition.requestIp.notIns); this environment " +
          "requires an allow list. Set condition.requestIp.ins to the CIDRs your CI egresses from " +
          "(scoped-edge:tokenAllowedIps).",
      );
    }
  }),
};
