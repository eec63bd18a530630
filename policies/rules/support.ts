/**
 * What the rules share: the token-resource filter, the `now` config property and the standard
 * remediation phrases. Not a policy.
 */
import type { ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";

import { isTokenType, TOKEN_TYPES } from "../lib/resource-types";
import { DAY_MS } from "../lib/rotation";

/** The `now` property of every time-based policy's configSchema. */
export const NOW_SCHEMA: PolicyConfigJSONSchema = {
  type: "string",
  default: "",
  description:
    'The instant to judge against, as an ISO 8601 UTC timestamp such as "2026-11-22T00:00:00Z". Empty (the ' +
    "default) means the real clock; set it for reproducible checks (tests, the offline plan's --now).",
};

/** Why a token policy does not apply to a resource (reported to the engine as "not applicable"). */
export const NOT_A_TOKEN = `Policy only applies to Cloudflare tokens (${TOKEN_TYPES.join(", ")})`;

export type TokenValidation = (
  props: Record<string, unknown>,
  args: ResourceValidationArgs,
  reportViolation: ReportViolation,
) => void;

/**
 * A resource validation that runs `check` on `ApiToken` and `AccountToken` resources and marks
 * the policy not applicable to every other type, as the SDK's own `validateResourceOfType` does.
 * `props` is the SDK's unknown-checking proxy: reading an unknown value throws the SDK's
 * UnknownValueError, which the SDK reports as "can't run policy ... during preview".
 */
export function validateTokens(check: TokenValidation): ResourceValidation {
  return (args, reportViolation) => {
    if (!isTokenType(args.type)) args.notApplicable(NOT_A_TOKEN);
    check(args.props, args, reportViolation);
  };
}

/** Days between two instants, to one decimal ("12.5"). */
export function daysBetween(from: Date, to: Date): string {
  return String(Math.round(((to.getTime() - from.getTime()) / DAY_MS) * 10) / 10);
}
