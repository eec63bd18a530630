import type { ResourceValidationPolicy } from "@pulumi/policy";

import { policyNow } from "../lib/clock";
import { NUMBER_BOUNDS, readPolicyConfig } from "../lib/policy-config";
import { DAY_MS, rotationWindow, toRfc3339 } from "../lib/rotation";
import { parseRfc3339, readTimestampField } from "../lib/token";
import { validateTokens } from "./support";

export interface RotationHeadroomConfig {
  /** Rotation period: a new token replaces the old one at the start of each window. */
  readonly rotationDays: number;
  /** How long a token must outlive its next scheduled rotation. */
  readonly graceDays: number;
}

export const ROTATION_HEADROOM_DEFAULTS: RotationHeadroomConfig = { rotationDays: 30, graceDays: 7 };

export const tokenRotationHeadroom: ResourceValidationPolicy = {
  name: "cloudflare-token-require-rotation-headroom",
  description:
    "A Cloudflare token must stay valid until its next scheduled rotation plus a grace period. Rotation " +
    "windows are anchored at the Unix epoch (the next rotation is the end of the window that contains now); " +
    "a token that expires before CI has replaced it breaks every deploy.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps:
    "Keep scoped-edge:tokenTtlDays above scoped-edge:rotationDays + scoped-edge:rotationGraceDays, so each " +
    "token outlives the next rotation by the grace period; this policy's rotationDays and graceDays must " +
    "match those two keys.",
  configSchema: {
    properties: {
      rotationDays: {
        type: "integer",
        minimum: NUMBER_BOUNDS["rotationDays"]![0],
        maximum: NUMBER_BOUNDS["rotationDays"]![1],
        default: ROTATION_HEADROOM_DEFAULTS.rotationDays,
        description: "Rotation period in days (the window length); must match the stack's rotationDays.",
      },
      graceDays: {
        type: "integer",
        minimum: NUMBER_BOUNDS["graceDays"]![0],
        maximum: NUMBER_BOUNDS["graceDays"]![1],
        default: ROTATION_HEADROOM_DEFAULTS.graceDays,
        description: "Days a token must stay valid after its next scheduled rotation.",
      },
    },
  },
  validateResource: validateTokens((props, args, reportViolation) => {
    const config = readPolicyConfig(args, ROTATION_HEADROOM_DEFAULTS);
    const clock = policyNow();
    if (!clock.ok) {
      reportViolation(`${clock.error}.`);
      return;
    }
    const { rotationDays, graceDays } = config;
    // A missing or malformed expiresOn is cloudflare-token-enforce-expiry's finding, not this one's.
    const expiresOn = readTimestampField(props, "expiresOn");
    const expires = expiresOn === undefined ? undefined : parseRfc3339(expiresOn);
    if (expiresOn === undefined || expires === undefined) return;
    const window = rotationWindow(clock.now, {
      rotationDays,
      graceDays,
      ttlDays: rotationDays + graceDays + 1,
    });
    const required = new Date(window.nextRotation.getTime() + graceDays * DAY_MS);
    if (expires.getTime() < required.getTime()) {
      reportViolation(
        `The token expires at ${expiresOn}, before its next scheduled rotation (${toRfc3339(window.nextRotation)}) ` +
          `plus the ${graceDays}-day grace period (${toRfc3339(required)}): if that rotation run fails, deploys ` +
          `break. Set expiresOn to ${toRfc3339(required)} or later (a TTL above ${rotationDays + graceDays} days ` +
          `from the window start ${toRfc3339(window.start)}).`,
      );
    }
  }),
};
