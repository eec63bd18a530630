/**
 * Policy pack config as the Pulumi CLI prepares it for the analyzer's Configure call, for the
 * offline plan: parse the `--policy-pack-config` file (each policy maps to an enforcement level
 * string or an object with `enforcementLevel` and properties), start from every policy's schema
 * defaults and default enforcement level, apply the file on top (an `all` entry sets every
 * policy's level), then validate each policy's properties against its configSchema. Mirrors
 * pulumi/pulumi pkg/resource/analyzer/config.go (`parsePolicyPackConfig`,
 * `ReconcilePolicyPackConfig`, `applyConfig`, `validatePolicyConfig`); the CLI validates with
 * gojsonschema, this with ajv. Pure.
 */
import Ajv, { type ValidateFunction } from "ajv";

type JsonSchema = Readonly<Record<string, unknown>>;

export const ENFORCEMENT_LEVELS = ["advisory", "mandatory", "remediate", "disabled"] as const;
export type EnforcementLevel = (typeof ENFORCEMENT_LEVELS)[number];

/** What the CLI learns about a policy from GetAnalyzerInfo. */
export interface PolicyInfo {
  readonly name: string;
  readonly enforcementLevel: EnforcementLevel;
  readonly configSchema?: {
    readonly properties?: Readonly<Record<string, JsonSchema>>;
    readonly required?: readonly string[];
  };
}

/** One policy's entry in a config file, or in the reconciled config. */
export interface PolicyConfigEntry {
  readonly enforcementLevel?: EnforcementLevel;
  readonly properties?: Readonly<Record<string, unknown>>;
}

/** What Configure receives: every policy with its level and complete properties. */
export type ReconciledPolicyConfig = Record<
  string,
  { readonly enforcementLevel: EnforcementLevel; readonly properties: Record<string, unknown> }
>;

export class PolicyConfigError extends Error {
  override readonly name = "PolicyConfigError";
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

const isLevel = (value: unknown): value is EnforcementLevel =>
  typeof value === "string" && (ENFORCEMENT_LEVELS as readonly string[]).includes(value);

/** Parses a policy pack config file's text. `source` names the file in messages. */
export function parsePolicyPackConfig(text: string, source: string): Record<string, PolicyConfigEntry> {
  if (text.trim() === "") return {};
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new PolicyConfigError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(document)) throw new PolicyConfigError(`${source} must be a JSON object of policy names`);
  const result: Record<string, PolicyConfigEntry> = {};
  for (const [policy, value] of Object.entries(document)) {
    if (typeof value === "string") {
      if (!isLevel(value)) {
        throw new PolicyConfigError(
          `${source}: parsing enforcement level for "${policy}": "${value}" is not a valid enforcement level ` +
            `(use one of ${ENFORCEMENT_LEVELS.join(", ")})`,
        );
      }
      result[policy] = { enforcementLevel: value };
    } else if (isRecord(value)) {
      const { enforcementLevel, ...properties } = value;
      if (enforcementLevel !== undefined && !isLevel(enforcementLevel)) {
        throw new PolicyConfigError(
          `${source}: parsing enforcement level for "${policy}": ${JSON.stringify(enforcementLevel)} is not a valid ` +
            `enforcement level (use one of ${ENFORCEMENT_LEVELS.join(", ")})`,
        );
      }
      if (enforcementLevel === undefined && Object.keys(properties).length === 0) continue;
      result[policy] = {
        ...(enforcementLevel === undefined ? {} : { enforcementLevel }),
        ...(Object.keys(properties).length === 0 ? {} : { properties }),
      };
    } else {
      throw new PolicyConfigError(
        `${source}: parsing "${policy}": ${JSON.stringify(value)} is not a valid value; must be a string or object`,
      );
    }
  }
  return result;
}

// strict: false lets schemas carry annotations ajv does not know; allErrors lists every problem.
const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new WeakMap<object, ValidateFunction>();

/** The schema the CLI validates a policy's properties against (config.go's convertSchema). */
function validatorFor(configSchema: NonNullable<PolicyInfo["configSchema"]>): ValidateFunction {
  let validate = validators.get(configSchema);
  if (validate === undefined) {
    validate = ajv.compile({
      type: "object",
      ...(configSchema.properties ? { properties: configSchema.properties } : {}),
      ...(configSchema.required ? { required: configSchema.required } : {}),
    });
    validators.set(configSchema, validate);
  }
  return validate;
}

export interface ReconcileResult {
  readonly config: ReconciledPolicyConfig;
  /** Entries naming no policy of the pack (the CLI ignores them silently; the plan says so). */
  readonly unknownPolicies: readonly string[];
}

/** Schema defaults and default levels, then `given` on top (config.go's applyConfig); no validation. */
export function mergePolicyPackConfig(
  policies: readonly PolicyInfo[],
  given: Readonly<Record<string, PolicyConfigEntry>>,
): ReconcileResult {
  const config: ReconciledPolicyConfig = {};
  for (const policy of policies) {
    const properties: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
      if ("default" in schema) properties[key] = structuredClone(schema.default);
    }
    config[policy.name] = { enforcementLevel: policy.enforcementLevel, properties };
  }
  const all = given["all"]?.enforcementLevel;
  if (all !== undefined) {
    for (const name of Object.keys(config)) config[name] = { ...config[name]!, enforcementLevel: all };
  }
  const unknownPolicies: string[] = [];
  for (const [name, entry] of Object.entries(given)) {
    if (name === "all") continue;
    const current = config[name];
    if (current === undefined) {
      unknownPolicies.push(name);
      continue;
    }
    config[name] = {
      enforcementLevel: entry.enforcementLevel ?? current.enforcementLevel,
      properties: { ...current.properties, ...entry.properties },
    };
  }
  return { config, unknownPolicies };
}

/**
 * mergePolicyPackConfig, then each policy's properties validated against its configSchema; throws
 * PolicyConfigError listing every violation, as the CLI refuses to run with an invalid config.
 */
export function reconcilePolicyPackConfig(
  policies: readonly PolicyInfo[],
  given: Readonly<Record<string, PolicyConfigEntry>>,
  source: string,
): ReconcileResult {
  const { config, unknownPolicies } = mergePolicyPackConfig(policies, given);
  const problems: string[] = [];
  for (const policy of policies) {
    if (policy.configSchema === undefined) continue;
    const validate = validatorFor(policy.configSchema);
    if (validate(config[policy.name]!.properties)) continue;
    for (const error of validate.errors ?? []) {
      const path = error.instancePath.slice(1).replace(/\//g, ".");
      problems.push(`${policy.name}: ${path === "" ? "" : `${path}: `}${error.message ?? error.keyword}`);
    }
  }
  if (problems.length > 0) {
    throw new PolicyConfigError(
      `${source} is not a valid config for the policy pack:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`,
    );
  }
  return { config, unknownPolicies };
}
