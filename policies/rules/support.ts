/**
 * What the rules share: the token-resource filter, config errors reported as violations, and the
 * standard remediation phrases. Not a policy.
 */
import type { ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";

import { onlyFor } from "../lib/applicability";
import { PolicyConfigError } from "../lib/policy-config";
import { TOKEN_TYPES } from "../lib/resource-types";
import { DAY_MS } from "../lib/rotation";

/** Why a token policy does not apply to a resource (reported to the engine as "not applicable"). */
export const NOT_A_TOKEN = `Policy only applies to Cloudflare tokens (${TOKEN_TYPES.join(", ")})`;

export type TokenValidation = (
  props: Record<string, unknown>,
  args: ResourceValidationArgs,
  reportViolation: ReportViolation,
) => void;

/**
 * A resource validation that runs `check` on `ApiToken` and `AccountToken` resources and marks
 * the policy not applicable to every other type, as the SDK's own `validateResourceOfType` does
 * (declared with onlyFor, so a driver can skip the other types). `props` is the SDK's
 * unknown-checking proxy: reading an unknown value throws the SDK's UnknownValueError, which the
 * SDK reports as "can't run policy ... during preview".
 */
export function validateTokens(check: TokenValidation): ResourceValidation {
  return onlyFor(
    TOKEN_TYPES,
    NOT_A_TOKEN,
    reportingConfigErrors((args, reportViolation) => check(args.props, args, reportViolation)),
  );
}

/**
 * A validation whose refused config (PolicyConfigError from readPolicyConfig) is reported as this
 * policy's violation: a bad value fails the policy instead of silently weakening it.
 */
export function reportingConfigErrors<A, R extends ReportViolation>(
  validate: (args: A, reportViolation: R) => void | Promise<void>,
): (args: A, reportViolation: R) => Promise<void> {
  return async (args, reportViolation) => {
    try {
      await validate(args, reportViolation);
    } catch (error) {
      if (!(error instanceof PolicyConfigError)) throw error;
      (reportViolation as ReportViolation)(`${error.message}. Fix this policy's entry in the policy config.`);
    }
  };
}

/** Days between two instants, to one decimal ("12.5"). */
export function daysBetween(from: Date, to: Date): string {
  return String(Math.round(((to.getTime() - from.getTime()) / DAY_MS) * 10) / 10);
}
