/**
 * Which resource types a resource validation applies to, declared on the validation itself.
 *
 * The policy SDK's server builds every policy's arguments (the resource's properties copied behind
 * an unknown-checking proxy, options, provider) for every resource before the policy can say "not
 * applicable". It skips that only for a validation from validateResourceOfType, which carries one
 * `__pulumiType`; each rule of this pack covers two types (ApiToken and AccountToken, the two script
 * types) or is written without a resource class. `onlyFor` marks a validation with its types and its
 * "not applicable" reason, and still checks the type itself: the SDK's server, which does not read
 * the mark, gets exactly the answer it always got, and a driver that does read it
 * (tools/plan/analyzer.ts) answers "not applicable, <reason>" for other types without building the
 * arguments. The two answers are compared in tests/policies/applicability.test.ts (against the SDK's
 * handler) and tests/policies/pack.grpc.test.ts (against the pack as the CLI runs it).
 */
import type { ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";

/** The types a marked validation applies to, and what it answers for any other type. */
export interface Applicability {
  readonly types: readonly string[];
  readonly reason: string;
}

const APPLICABILITY = Symbol.for("scoped-edge.policy.applicability");

type Validate = (args: ResourceValidationArgs, reportViolation: ReportViolation) => void | Promise<void>;

/** `validate`, run for resources of `types`; every other resource gets args.notApplicable(reason). */
export function onlyFor(types: readonly string[], reason: string, validate: Validate): ResourceValidation {
  const validation: ResourceValidation = (args, reportViolation) => {
    if (!types.includes(args.type)) args.notApplicable(reason);
    return validate(args, reportViolation);
  };
  return Object.assign(validation, { [APPLICABILITY]: { types, reason } satisfies Applicability });
}

/** What `validation` declares with onlyFor, if it does. */
export function applicabilityOf(validation: ResourceValidation): Applicability | undefined {
  return (validation as { [APPLICABILITY]?: Applicability })[APPLICABILITY];
}
