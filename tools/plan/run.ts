/**
 * The offline plan: reads a stack file as the CLI would, runs index.ts under Pulumi's mock runtime
 * (tools/shared/offline-runtime.ts), then hands every registration to the policy pack through the
 * one analyzer driver (analyzer.ts) exactly as the engine would: each resource's inputs to Analyze as it registers,
 * with its provider (explicit, or the default provider the engine creates for its package from the
 * stack's `<package>:` config), then every resource's outputs to AnalyzeStack.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

import * as pulumi from "@pulumi/pulumi";

import { CLOCK_ENV } from "../../lib/clock";
import { POLICY_CLOCK_ENV } from "../../policies/lib/clock";
import { ConfigError, parseStackConfig } from "../../lib/config";
import type { CredentialRow } from "../../lib/credentials";
import {
  PROVIDER_TYPE_PREFIX,
  providerUrnOf,
  runProgram,
  startOfflineRuntime,
  type RecordedInvoke,
  type RegisteredResource,
} from "../shared/offline-runtime";
import { withDynamicProvidersAs } from "../shared/pulumi-adapter";
import { readStackConfigMap, SECRET_PLACEHOLDER, StackFileError } from "../shared/stack-file";
import {
  createAnalyzer,
  policyInfos,
  type AnalyzerDiagnostic,
  type AnalyzerResourceInput,
  type Policy,
  type PolicyAnalyzer,
} from "./analyzer";
import {
  DYNAMIC_PROVIDER_PLACEHOLDER,
  maskResolved,
  maskWire,
  wireSecret,
  withoutProviderSource,
} from "./mask";
import { missingSecrets, placeholderIds } from "./placeholders";
import {
  parsePolicyPackConfig,
  PolicyConfigError,
  reconcilePolicyPackConfig,
  type EnforcementLevel,
} from "./policy-config";
import { inPlanOrder, policyMessage, type PlanReport, type PlanResource, type PlanViolation } from "./report";

/** The repository root: the program (index.ts) and the policy pack live here. */
export const REPO_ROOT = resolve(__dirname, "..", "..");

/** Bad input (stack file, config, policy config, usage): exit code 2, with this message. */
export class PlanInputError extends Error {
  override readonly name = "PlanInputError";
}

export interface PolicyPackSource {
  readonly name: string;
  readonly version: string;
  readonly policies: readonly Policy[];
  /** The pack's default enforcement level (the SDK's default: advisory). */
  readonly enforcementLevel?: EnforcementLevel;
}

export interface PlanOptions {
  /** Directory holding Pulumi.yaml and the Pulumi.<stack>.yaml files. */
  readonly root: string;
  readonly stack: string;
  /** The instant to plan at: the program's clock and the time-based policies' `now`. */
  readonly now: Date;
  /** Policy pack config file; default policies/config/<stack>.json, else .../<environment>.json. */
  readonly policyConfigFile?: string;
  /** The pack to apply; default the repository's own (policies/rules). */
  readonly pack?: PolicyPackSource;
}

export interface PlanTimings {
  /** Running the program under the mock runtime (registrations and invokes included). */
  readonly programMs: number;
  /** Configure, Analyze for every resource and AnalyzeStack. */
  readonly policyMs: number;
}

export interface PlanRun {
  readonly report: PlanReport;
  readonly invokes: readonly RecordedInvoke[];
  readonly timings: PlanTimings;
  /** Registrations the program made (the root Stack included; default providers not). */
  readonly registered: number;
  /** Those registrations as the engine received them (the benchmark replays them). */
  readonly registrations: readonly RegisteredResource[];
  /** urn -> each resource's outputs as the engine holds them after the run (serialized). */
  readonly engineOutputs: ReadonlyMap<string, Record<string, unknown>>;
}

type Program = () => Promise<Record<string, unknown>>;

let programCache: Program | undefined;

async function loadProgram(): Promise<Program> {
  if (programCache) return programCache;
  const module = (await import("../../index.js")) as unknown as { default?: Program } | Program;
  programCache = typeof module === "function" ? module : (module.default as Program);
  return programCache;
}

/** The repository's policy pack: its exported policy array and the name and version it serves. */
export async function repositoryPack(): Promise<PolicyPackSource> {
  const rules = (await import("../../policies/rules/index.js")) as {
    policies: Policy[];
    POLICY_PACK_NAME: string;
  };
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "policies", "package.json"), "utf8")) as {
    version: string;
  };
  return { name: rules.POLICY_PACK_NAME, version: manifest.version, policies: rules.policies };
}

/**
 * policies/config/<stack>.json when it exists, else the file of the stack's environment; looked
 * up in the plan's root first (a repository of its own), then in this repository's pack.
 */
function defaultPolicyConfigFile(
  root: string,
  stack: string,
  config: Readonly<Record<string, string>>,
  project: string,
): string {
  const directories = [...new Set([join(root, "policies", "config"), join(REPO_ROOT, "policies", "config")])];
  const environment = config[`${project}:environment`];
  const names = [
    stack,
    ...(environment !== undefined && /^[a-z0-9_-]+$/i.test(environment) ? [environment] : []),
  ];
  for (const name of names) {
    for (const directory of directories) {
      const file = join(directory, `${name}.json`);
      if (existsSync(file)) return file;
    }
  }
  const tried = names.flatMap((name) =>
    directories.map((directory) => relative(process.cwd(), join(directory, `${name}.json`))),
  );
  throw new PlanInputError(
    `no policy config for stack "${stack}": none of ${tried.join(", ")} exists; pass --policy-config <file>`,
  );
}

function fakeProviderId(urn: string): string {
  return createHash("sha256").update(urn).digest("hex").slice(0, 32);
}

interface ProviderInfo {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

/**
 * The resource list the engine works on: the program's registrations, plus a default provider
 * (`pulumi:providers:<pkg>` named `default_<version>`, inputs from the stack's `<pkg>:` config)
 * for each package used without an explicit provider, placed before its first user.
 */
function engineResources(
  registered: readonly RegisteredResource[],
  outputs: ReadonlyMap<string, Record<string, unknown>>,
  config: Readonly<Record<string, string>>,
  secretKeys: ReadonlySet<string>,
  project: string,
  stack: string,
): AnalyzerResourceInput[] {
  const byUrn = new Map(registered.map((resource) => [resource.urn, resource]));
  const defaults = new Map<string, ProviderInfo>();
  const result: AnalyzerResourceInput[] = [];

  const providerOf = (resource: RegisteredResource): ProviderInfo | undefined => {
    if (resource.provider !== undefined) {
      const urn = providerUrnOf(resource.provider);
      const provider = byUrn.get(urn);
      return provider === undefined
        ? undefined
        : { urn, type: provider.type, name: provider.name, inputs: provider.serializedInputs };
    }
    if (!resource.custom || resource.type.startsWith(PROVIDER_TYPE_PREFIX)) return undefined;
    const pkg = resource.type.split(":")[0]!;
    const name = resource.version === "" ? "default" : `default_${resource.version.replace(/[.-]/g, "_")}`;
    const key = `${pkg}::${name}`;
    const existing = defaults.get(key);
    if (existing) return existing;
    const inputs: Record<string, unknown> = {};
    for (const [fullKey, value] of Object.entries(config)) {
      if (!fullKey.startsWith(`${pkg}:`)) continue;
      const bare = fullKey.slice(pkg.length + 1);
      inputs[bare] = secretKeys.has(fullKey) ? wireSecret(value) : value;
    }
    if (resource.version !== "") inputs["version"] = resource.version;
    const type = `${PROVIDER_TYPE_PREFIX}${pkg}`;
    const provider = { urn: `urn:pulumi:${stack}::${project}::${type}::${name}`, type, name, inputs };
    defaults.set(key, provider);
    // The engine registers (and analyzes) the default provider before the first resource using it.
    result.push({
      urn: provider.urn,
      type,
      name,
      inputs,
      outputs: { ...inputs, id: fakeProviderId(provider.urn) },
      options: {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        deleteBeforeReplace: false,
        additionalSecretOutputs: [],
      },
      dependencies: [],
      propertyDependencies: {},
    });
    return provider;
  };

  for (const resource of registered) {
    const provider = providerOf(resource);
    result.push({
      urn: resource.urn,
      type: resource.type,
      name: resource.name,
      ...(resource.parent === undefined ? {} : { parent: resource.parent }),
      inputs: resource.serializedInputs,
      outputs: outputs.get(resource.urn) ?? resource.serializedInputs,
      options: {
        protect: resource.protect,
        ignoreChanges: resource.ignoreChanges,
        aliases: resource.aliasUrns,
        deleteBeforeReplace: resource.deleteBeforeReplace,
        additionalSecretOutputs: resource.additionalSecretOutputs,
      },
      dependencies: resource.dependencies,
      propertyDependencies: resource.propertyDependencies,
      ...(provider === undefined ? {} : { provider }),
    });
  }
  return result;
}

function isInputError(error: unknown): boolean {
  return (
    error instanceof ConfigError ||
    error instanceof StackFileError ||
    error instanceof PolicyConfigError ||
    error instanceof PlanInputError ||
    pulumi.RunError.isInstance(error)
  );
}

/** Set to keep stack traces (and their source mapping) during a plan, to debug an internal error. */
export const PLAN_DEBUG_ENV = "SCOPED_EDGE_PLAN_DEBUG";

/**
 * Runs `work` the way the offline plan runs: without stack traces. The SDK captures one for every
 * resource and promise (for leak reports and source positions only the engine reads) and the
 * policy SDK one for every not-applicable result; with tsx's source mapping on, that was most of a
 * 1,000-zone plan's time. Both settings are restored afterwards. The benchmark's floor runs under
 * this too, so the comparison stays fair.
 */
export async function withoutStackTraces<T>(work: () => Promise<T>): Promise<T> {
  if (process.env[PLAN_DEBUG_ENV]) return work();
  const sourceMaps = process.sourceMapsEnabled;
  const limit = Error.stackTraceLimit;
  process.setSourceMapsEnabled(false);
  Error.stackTraceLimit = 0;
  try {
    return await work();
  } finally {
    Error.stackTraceLimit = limit;
    process.setSourceMapsEnabled(sourceMaps);
  }
}

/** Runs `work` with `variables` set in process.env, restoring the previous values afterwards. */
async function withEnv<T>(variables: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const previous = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  Object.assign(process.env, variables);
  try {
    return await work();
  } finally {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** A pack configured from one policy config file: the reconciled config and the analyzer serving it. */
interface ConfiguredPolicies {
  readonly pack: PolicyPackSource;
  readonly file: string;
  readonly text: string;
  readonly reconciled: ReturnType<typeof reconcilePolicyPackConfig>;
  readonly analyzer: PolicyAnalyzer;
}

/**
 * The last pack configured in this process. The analyzer holds no state between plans (each call
 * answers its request alone) and the reconciled config is a function of the pack and the file's
 * text, so a process that plans again with both unchanged (tests, the benchmark) reuses them.
 */
let lastConfigured: ConfiguredPolicies | undefined;

/** `pack` configured from `file` (its `text`): reconciled as the CLI does, and Configure applied. */
function configuredPolicies(pack: PolicyPackSource, file: string, text: string): ConfiguredPolicies {
  const last = lastConfigured;
  if (last !== undefined && last.pack === pack && last.file === file && last.text === text) return last;
  const reconciled = reconcilePolicyPackConfig(
    policyInfos(pack.policies, pack.enforcementLevel),
    parsePolicyPackConfig(text, file),
    file,
  );
  const analyzer = createAnalyzer(pack.name, pack.version, pack.policies, pack.enforcementLevel);
  analyzer.configure(reconciled.config);
  return (lastConfigured = { pack, file, text, reconciled, analyzer });
}

/** `now` as the plan prints it and pins both clocks to it: ISO 8601 UTC, whole seconds without ms. */
const isoInstant = (now: Date) => now.toISOString().replace(/\.000Z$/, "Z");

/**
 * Runs the plan. Throws PlanInputError for bad input; anything else is a bug. The program's clock
 * (CLOCK_ENV) and the time policies' clock (POLICY_CLOCK_ENV) are both pinned to `options.now`.
 */
export async function runPlan(options: PlanOptions): Promise<PlanRun> {
  const now = isoInstant(options.now);
  try {
    return await withEnv({ [CLOCK_ENV]: now, [POLICY_CLOCK_ENV]: now }, () =>
      withoutStackTraces(() => plan(options)),
    );
  } catch (error) {
    if (error instanceof PlanInputError) throw error;
    if (isInputError(error)) throw new PlanInputError((error as Error).message, { cause: error });
    throw error;
  }
}

async function plan(options: PlanOptions): Promise<PlanRun> {
  const { stack } = options;
  const nowIso = isoInstant(options.now);
  const base = readStackConfigMap(options.root, stack);
  const project = base.project;

  // Missing secrets stand in as "[secret]" so the plan runs; they are listed as to-dos.
  const missing = [...missingSecrets(base.config, stack), ...placeholderIds(base.config, stack)];
  const config: Record<string, string> = { ...base.config };
  const secretKeys = new Set(base.secretKeys);
  for (const item of missing) {
    if (item.kind !== "secret") continue;
    config[item.key] = SECRET_PLACEHOLDER;
    secretKeys.add(item.key);
  }

  // The program validates the stack's config before it registers anything. On an error path the
  // plan validates it here first, so a bad key (an unknown environment, say) is reported as itself
  // with its structured problems, not as a missing policy config or as the program's RunError text.
  const explainConfig = () => parseStackConfig(config, { stack, secretKeys });

  // The policy config: a bad file is a usage error and nothing needs to run.
  const pack = options.pack ?? (await repositoryPack());
  let policyConfigFile: string;
  let policies: ConfiguredPolicies;
  try {
    policyConfigFile =
      options.policyConfigFile ?? defaultPolicyConfigFile(options.root, stack, base.config, project);
    if (!existsSync(policyConfigFile))
      throw new PlanInputError(`policy config ${policyConfigFile} does not exist`);
    policies = configuredPolicies(pack, policyConfigFile, readFileSync(policyConfigFile, "utf8"));
  } catch (error) {
    explainConfig();
    throw error;
  }
  const { reconciled, analyzer } = policies;

  // ---- the program ----------------------------------------------------------------------------
  const programStart = performance.now();
  const runtime = await startOfflineRuntime({ project, stack, config, secretKeys: [...secretKeys] });
  let outputs: Record<string, unknown>;
  try {
    // The report shows a dynamic provider's serialized text as a placeholder (mask.ts): the plan
    // registers that placeholder instead of paying for Pulumi's closure serialization.
    const program = await loadProgram();
    // The report shows only the credentials table of the stack's outputs.
    outputs = await withDynamicProvidersAs(DYNAMIC_PROVIDER_PLACEHOLDER, () =>
      runProgram(program, ["credentials"]),
    );
  } catch (error) {
    if (pulumi.RunError.isInstance(error)) explainConfig();
    throw error;
  }
  const programMs = performance.now() - programStart;

  // ---- the policies ---------------------------------------------------------------------------
  const policyStart = performance.now();
  const engineOutputs = runtime.outputs();
  const resources = engineResources(runtime.resources, engineOutputs, config, secretKeys, project, stack);
  const diagnostics: { diagnostic: AnalyzerDiagnostic; resource: string | null }[] = [];
  for (const resource of resources) {
    for (const diagnostic of (await analyzer.analyze(resource)).diagnostics) {
      diagnostics.push({ diagnostic, resource: diagnostic.urn ?? resource.urn });
    }
  }
  for (const diagnostic of (await analyzer.analyzeStack(resources)).diagnostics) {
    diagnostics.push({ diagnostic, resource: diagnostic.urn ?? null });
  }
  const policyMs = performance.now() - policyStart;

  const remediation = new Map(pack.policies.map((policy) => [policy.name, policy.remediationSteps]));
  const violations: PlanViolation[] = diagnostics.map(({ diagnostic, resource }) => {
    const steps = remediation.get(diagnostic.policyName);
    return {
      policy: diagnostic.policyName,
      level: diagnostic.enforcementLevel,
      message: policyMessage(diagnostic.message, diagnostic.description),
      resource,
      ...(steps === undefined ? {} : { remediation: steps }),
    };
  });
  const planResources: PlanResource[] = inPlanOrder(
    resources.map((resource) => ({
      urn: resource.urn,
      type: resource.type,
      name: resource.name,
      ...(resource.parent === undefined ? {} : { parent: resource.parent }),
      inputs: withoutProviderSource(resource.type, maskWire(resource.inputs) as Record<string, unknown>),
    })),
  );
  const credentials = maskResolved(outputs["credentials"] ?? []) as CredentialRow[];

  return {
    report: {
      project,
      stack,
      now: nowIso,
      policyConfigFile: relative(process.cwd(), policyConfigFile) || policyConfigFile,
      resources: planResources,
      violations,
      missing,
      credentials,
      notes: reconciled.unknownPolicies.map(
        (name) =>
          `${relative(process.cwd(), policyConfigFile)} configures "${name}", which is not a policy of the pack`,
      ),
    },
    invokes: runtime.mocks.invokes,
    timings: { programMs, policyMs },
    registered: runtime.resources.length,
    registrations: runtime.resources,
    engineOutputs,
  };
}
