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
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";

import type { ConfigProblem } from "../../lib/config";

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
  /** Schema violations, one per key (`<policy>.<property path>`); empty for a file that does not parse. */
  readonly problems: readonly ConfigProblem[];
  constructor(message: string, problems: readonly ConfigProblem[] = []) {
    super(message);
    this.problems = problems;
  }
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
  const problems: ConfigProblem[] = [];
  for (const policy of policies) {
    if (policy.configSchema === undefined) continue;
    const properties = config[policy.name]!.properties;
    const validate = validatorFor(policy.configSchema);
    if (validate(properties)) continue;
    for (const error of validate.errors ?? []) {
      problems.push(schemaProblem(policy, properties, error, source));
    }
  }
  if (problems.length > 0) {
    throw new PolicyConfigError(
      `${source} is not a valid config for the policy pack: ` +
        problems.map(({ key, problem }) => `${key} ${problem}`).join("; "),
      problems,
    );
  }
  return { config, unknownPolicies };
}

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

/** What ajv's error says the value must be, in words (ajv's own message where it reads well). */
function requirement(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "type":
      return `must be ${String(params["type"]).split(",").map(article).join(" or ")}`;
    case "enum":
      return `must be one of ${(params["allowedValues"] as unknown[]).map((value) => JSON.stringify(value)).join(", ")}`;
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return `must be ${String(params["comparison"])} ${String(params["limit"])}`;
    default:
      return error.message ?? `must satisfy the schema's ${error.keyword}`;
  }
}

/** Cut to `width` characters, the cut marked with "…". */
const short = (text: string, width = 120) => (text.length <= width ? text : `${text.slice(0, width - 1)}…`);

/**
 * One ajv error as key, problem and fix: the key is `<policy>.<property path>` as the file spells it,
 * the problem the value and what it must be, the fix the property's schema to follow.
 */
function schemaProblem(
  policy: PolicyInfo,
  properties: Record<string, unknown>,
  error: ErrorObject,
  source: string,
): ConfigProblem {
  const params = error.params as Record<string, unknown>;
  const segments = error.instancePath
    .split("/")
    .slice(1)
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (error.keyword === "required") segments.push(String(params["missingProperty"]));
  if (error.keyword === "additionalProperties") segments.push(String(params["additionalProperty"]));
  const key = [policy.name, ...segments].join(".");
  const property = segments[0];
  const schema = property === undefined ? undefined : policy.configSchema?.properties?.[property];
  // What the value must satisfy; the description and default are the policy's documentation.
  const { description: _description, default: _default, ...rules } = schema ?? {};
  const schemaText = schema === undefined ? "" : `; it must match ${short(JSON.stringify(rules))}`;
  if (error.keyword === "required") {
    return { key, problem: `is missing in ${source}`, fix: `set ${key} in ${source}${schemaText}` };
  }
  if (error.keyword === "additionalProperties") {
    const known = Object.keys(policy.configSchema?.properties ?? {});
    return {
      key,
      problem: `is not a property of ${policy.name} (in ${source})`,
      fix: `remove it from ${source}, or use one of ${known.join(", ")}`,
    };
  }
  let value: unknown = properties;
  for (const segment of segments) value = (value as Record<string, unknown> | undefined)?.[segment];
  return {
    key,
    problem: `is ${short(JSON.stringify(value) ?? "undefined", 60)} in ${source}; it ${requirement(error)}`,
    fix: `correct ${key} in ${source}${schemaText}`,
  };
}
