/**
 * Policy pack config as the Pulumi CLI prepares it for the analyzer's Configure call, for the
 * offline plan: parse the `--policy-pack-config` file (each policy maps to an enforcement level
 * string or an object with `enforcementLevel` and properties), start from every policy's schema
 * defaults and default enforcement level, apply the file on top (an `all` entry sets every
 * policy's level), then validate each policy's properties against its configSchema. A port of
 * pulumi/pulumi's `parsePolicyPackConfig` and `ReconcilePolicyPackConfig`. Pure.
 */
import { validateJsonSchema, type JsonSchema } from "./json-schema";

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

export interface ReconcileResult {
  readonly config: ReconciledPolicyConfig;
  /** Entries naming no policy of the pack (the CLI ignores them silently; the plan says so). */
  readonly unknownPolicies: readonly string[];
}

/**
 * Schema defaults and default levels, then `given` on top; throws PolicyConfigError listing every
 * schema violation, as the CLI refuses to run with an invalid config.
 */
export function reconcilePolicyPackConfig(
  policies: readonly PolicyInfo[],
  given: Readonly<Record<string, PolicyConfigEntry>>,
  source: string,
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

  const problems: string[] = [];
  for (const policy of policies) {
    if (policy.configSchema === undefined) continue;
    const schema: JsonSchema = {
      type: "object",
      ...(policy.configSchema.properties ? { properties: policy.configSchema.properties } : {}),
      ...(policy.configSchema.required ? { required: policy.configSchema.required } : {}),
    };
    for (const problem of validateJsonSchema(config[policy.name]!.properties, schema)) {
      problems.push(`${policy.name}: ${problem}`);
    }
  }
  if (problems.length > 0) {
    throw new PolicyConfigError(
      `${source} is not a valid config for the policy pack:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`,
    );
  }
  return { config, unknownPolicies };
}

/**
 * Sets the `now` property of every policy whose configSchema declares one (the pack's time-based
 * policies judge expiry and rotation against it), so the plan judges at the same instant the
 * program computed its rotation window.
 */
export function withNow(
  config: ReconciledPolicyConfig,
  policies: readonly PolicyInfo[],
  now: string,
): ReconciledPolicyConfig {
  const result: ReconciledPolicyConfig = { ...config };
  for (const policy of policies) {
    const current = result[policy.name];
    if (current === undefined || policy.configSchema?.properties?.["now"] === undefined) continue;
    result[policy.name] = { ...current, properties: { ...current.properties, now } };
  }
  return result;
}
