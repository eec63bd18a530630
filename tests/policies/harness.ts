/**
 * Runs policies through the one policy-pack driver (tools/plan/analyzer.ts), as the offline plan
 * does: the config file is merged with each policy's schema defaults and validated as the CLI does
 * (tools/plan/policy-config.ts), sent as a ConfigureAnalyzerRequest, and every resource goes to
 * @pulumi/policy's own Analyze/AnalyzeStack handlers as the AnalyzeRequest the engine builds. So
 * props are deserialized by the SDK, wrapped in its unknown-checking proxy, violations are
 * formatted by its reportViolation and unknown values are reported the way the SDK reports them.
 * The gRPC test (pack.grpc.test.ts) sends the same requests to the pack started as the CLI starts it.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import type { Policies } from "@pulumi/policy";
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";

import { POLICY_CLOCK_ENV } from "../../policies/lib/clock";
import { POLICY_PACK_NAME } from "../../policies/rules";
import {
  analyzeRequest as engineAnalyzeRequest,
  analyzeStackRequest as engineAnalyzeStackRequest,
  configureRequest as engineConfigureRequest,
  createAnalyzer,
  policyInfos,
  readResponse as readAnalyzerResponse,
  type AnalyzerResourceInput,
  type AnalyzerResult,
} from "../../tools/plan/analyzer";
import { mergePolicyPackConfig, parsePolicyPackConfig } from "../../tools/plan/policy-config";
import type * as analyzerpb from "@pulumi/pulumi/proto/analyzer_pb";

export const POLICIES_DIR = path.resolve(__dirname, "../../policies");
export const PACK_VERSION: string = JSON.parse(
  readFileSync(path.join(POLICIES_DIR, "package.json"), "utf8"),
).version;
export { POLICY_PACK_NAME };

/**
 * The value the engine sends for every unknown property, whatever its type (the Go engine marshals
 * computed values as this string sentinel; the policy SDK's proxy recognises it).
 */
export const UNKNOWN: string = unknownValue;

/** A secret value as the engine marshals it (KeepSecrets: true). */
export function secret(value: unknown): Record<string, unknown> {
  return { [specialSigKey]: specialSecretSig, value };
}

/** A policy-pack config as in policies/config/<env>.json: level string or {enforcementLevel?, ...props}. */
export type PackConfig = Record<string, unknown>;

export function loadConfig(env: "dev" | "staging" | "prod"): PackConfig {
  return JSON.parse(readFileSync(path.join(POLICIES_DIR, "config", `${env}.json`), "utf8")) as PackConfig;
}

/**
 * `config` unchanged, with the time policies' clock pinned to `now` the way the offline plan pins
 * it (POLICY_CLOCK_ENV): the instant is not policy config.
 */
export function withNow(config: PackConfig, now: string): PackConfig {
  process.env[POLICY_CLOCK_ENV] = now;
  return config;
}

export interface Diagnostic {
  readonly policyName: string;
  readonly enforcementLevel: string;
  /** The message as the SDK sends it: the policy's description, a newline, then the violation text. */
  readonly message: string;
  /** The violation text alone (the message without the description prefix). */
  readonly detail: string;
  readonly urn: string;
}

export interface AnalyzeResult {
  readonly diagnostics: Diagnostic[];
  readonly notApplicable: { policyName: string; reason: string }[];
}

/** Reads an AnalyzeResponse (from the in-process handlers or over gRPC). */
export const readResponse = (response: analyzerpb.AnalyzeResponse): AnalyzeResult =>
  asResult(readAnalyzerResponse(response));

export interface ResourceInput {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
  readonly parent?: string;
  readonly provider?: { type: string; name: string; props: Record<string, unknown> };
}

export function urnOf(type: string, name: string, stack = "dev"): string {
  return `urn:pulumi:${stack}::scoped-edge::${type}::${name}`;
}

/** The engine's view of a test resource. */
function engineResource(resource: ResourceInput): AnalyzerResourceInput {
  return {
    urn: urnOf(resource.type, resource.name),
    type: resource.type,
    name: resource.name,
    inputs: resource.props,
    ...(resource.parent ? { parent: resource.parent } : {}),
    ...(resource.provider
      ? {
          provider: {
            urn: urnOf(resource.provider.type, resource.provider.name),
            type: resource.provider.type,
            name: resource.provider.name,
            inputs: resource.provider.props,
          },
        }
      : {}),
  };
}

/** An AnalyzeRequest as the engine builds it for one resource. */
export const analyzeRequest = (resource: ResourceInput) => engineAnalyzeRequest(engineResource(resource));

/** An AnalyzeStackRequest as the engine builds it at the end of a preview or update. */
export const analyzeStackRequest = (resources: readonly ResourceInput[]) =>
  engineAnalyzeStackRequest(resources.map(engineResource));

/** The ConfigureAnalyzerRequest the CLI sends for a --policy-pack-config file, over `policies`. */
export const configureRequest = (policies: Policies, config: PackConfig) =>
  engineConfigureRequest(reconciled(policies, config));

/**
 * `config` merged with the policies' schema defaults, as the CLI merges it. Not schema-validated
 * (the plan's tests cover that), so a test can hand a policy a value only its own checks refuse.
 */
function reconciled(policies: Policies, config: PackConfig) {
  return mergePolicyPackConfig(
    policyInfos(policies),
    parsePolicyPackConfig(JSON.stringify(config), "test policy config"),
  ).config;
}

export interface RunOptions {
  /** Policy-pack config (as in policies/config/<env>.json). */
  readonly config?: PackConfig;
}

const asList = (policies: Policies | Policies[number]): Policies =>
  Array.isArray(policies) ? policies : [policies];

function analyzerFor(policies: Policies | Policies[number], options: RunOptions) {
  const list = asList(policies);
  const analyzer = createAnalyzer(POLICY_PACK_NAME, PACK_VERSION, list);
  analyzer.configure(reconciled(list, options.config ?? {}));
  return analyzer;
}

function asResult({ diagnostics, notApplicable }: AnalyzerResult): AnalyzeResult {
  return {
    diagnostics: diagnostics.map((d) => ({
      policyName: d.policyName,
      enforcementLevel: d.enforcementLevel,
      message: d.message,
      detail: d.detail,
      urn: d.urn ?? "",
    })),
    notApplicable,
  };
}

/** Runs the Analyze RPC of the SDK's server over `policies` for one resource. */
export async function analyzeResource(
  policies: Policies | Policies[number],
  resource: ResourceInput,
  options: RunOptions = {},
): Promise<AnalyzeResult> {
  return asResult(await analyzerFor(policies, options).analyze(engineResource(resource)));
}

/** Runs the AnalyzeStack RPC of the SDK's server over `policies` for a stack. */
export async function analyzeStack(
  policies: Policies | Policies[number],
  resources: readonly ResourceInput[],
  options: RunOptions = {},
): Promise<AnalyzeResult> {
  return asResult(await analyzerFor(policies, options).analyzeStack(resources.map(engineResource)));
}

/** Analyze for every resource plus AnalyzeStack: everything the engine would report for a stack. */
export async function analyzeAll(
  policies: Policies,
  resources: readonly ResourceInput[],
  options: RunOptions = {},
): Promise<Diagnostic[]> {
  const analyzer = analyzerFor(policies, options);
  const diagnostics: Diagnostic[] = [];
  for (const resource of resources)
    diagnostics.push(...asResult(await analyzer.analyze(engineResource(resource))).diagnostics);
  diagnostics.push(...asResult(await analyzer.analyzeStack(resources.map(engineResource))).diagnostics);
  return diagnostics;
}
