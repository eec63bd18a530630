import type { ResourceValidationPolicy } from "@pulumi/policy";

import { policyNow } from "../lib/clock";
import { NUMBER_BOUNDS, readPolicyConfig } from "../lib/policy-config";
import { DAY_MS, MAX_TTL_DAYS, toRfc3339 } from "../lib/rotation";
import { parseRfc3339, readTimestampField } from "../lib/token";
import { daysBetween, validateTokens } from "./support";

export interface TokenExpiryConfig {
  /** The longest a token may live, counted from now. */
  readonly maxTtlDays: number;
}

/** With no config, the longest lifetime any environment allows. */
export const TOKEN_EXPIRY_DEFAULTS: TokenExpiryConfig = {
  maxTtlDays: Math.max(...Object.values(MAX_TTL_DAYS)),
};

export const tokenExpiry: ResourceValidationPolicy = {
  name: "cloudflare-token-enforce-expiry",
  description:
    "Every Cloudflare API token and account token must expire. Its expiresOn must be set, lie in the future, " +
    "and lie no further from now than the environment's maximum token lifetime, so a leaked token stops " +
    "working on its own.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Set expiresOn on the token to an RFC 3339 UTC time (e.g. 2026-12-01T00:00:00Z) no more than maxTtlDays " +
    "days from now. In scoped-edge, set scoped-edge:tokenTtlDays; the program computes expiresOn from the " +
    "rotation window.",
  configSchema: {
    properties: {
      maxTtlDays: {
        type: "integer",
        minimum: NUMBER_BOUNDS["maxTtlDays"]![0],
        maximum: NUMBER_BOUNDS["maxTtlDays"]![1],
        default: TOKEN_EXPIRY_DEFAULTS.maxTtlDays,
        description: "The longest a token may live, in days from now.",
      },
    },
  },
  validateResource: validateTokens((props, args, reportViolation) => {
    const config = readPolicyConfig(args, TOKEN_EXPIRY_DEFAULTS);
    const clock = policyNow();
    if (!clock.ok) {
      reportViolation(`${clock.error}.`);
      return;
    }
    const now = clock.now;
    const limit = toRfc3339(new Date(now.getTime() + config.maxTtlDays * DAY_MS));
    const expiresOn = readTimestampField(props, "expiresOn");
    if (expiresOn === undefined) {
      reportViolation(
        `The token has no expiresOn, so it never expires. Set expiresOn to an RFC 3339 UTC time at most ` +
          `${config.maxTtlDays} days from now (no later than ${limit}).`,
      );
      return;
    }
    const expires = parseRfc3339(expiresOn);
    if (expires === undefined) {
      reportViolation(
        `expiresOn "${expiresOn}" is not an RFC 3339 timestamp. Set it like "2026-12-01T00:00:00Z", at most ` +
          `${config.maxTtlDays} days from now (no later than ${limit}).`,
      );
      return;
    }
    if (expires.getTime() <= now.getTime()) {
      reportViolation(
        `The token expired at ${expiresOn} (now is ${toRfc3339(now)}). Set expiresOn to a future time no later ` +
          `than ${limit} and let the next rotation replace the token.`,
      );
      return;
    }
    if (expires.getTime() > now.getTime() + config.maxTtlDays * DAY_MS) {
      reportViolation(
        `expiresOn ${expiresOn} is ${daysBetween(now, expires)} days from now, beyond this environment's ` +
          `maximum token lifetime of ${config.maxTtlDays} days. Set expiresOn no later than ${limit} ` +
          `(lower the token's TTL).`,
      );
    }
  }),
};
