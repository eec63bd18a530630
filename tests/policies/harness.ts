/**
 * Runs policies exactly as @pulumi/policy's analyzer server does, in process: the request is a real
 * analyzer protobuf message (`AnalyzeRequest` / `AnalyzeStackRequest`, properties as a protobuf
 * Struct), and the handler is the SDK's own `makeAnalyzeRpcFun` / `makeAnalyzeStackRpcFun` from
 * @pulumi/policy/server. So props are deserialized by the SDK, wrapped in its unknown-checking proxy,
 * violations are formatted by its reportViolation and unknown values are reported the way the SDK
 * reports them. Nothing here re-implements the SDK, so it cannot drift from it.
 *
 * The one thing the SDK keeps private is the Configure RPC's module state; per-policy config is
 * applied by wrapping `getConfig` (after a protobuf Struct round trip, as Configure does) and the
 * enforcement level by overriding the policy's, which is what the server does with configured levels.
 * The gRPC test (pack.grpc.test.ts) covers the real Configure.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import type {
  EnforcementLevel,
  Policies,
  ResourceValidation,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import * as analyzerpb from "@pulumi/pulumi/proto/analyzer_pb";
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

import { POLICY_PACK_NAME } from "../../policies/rules";

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

type Callback<T> = (error: Error | null | undefined, response?: T) => void;
type RpcFun<Req, Resp> = (call: { request: Req }, callback: Callback<Resp>) => Promise<void>;

interface ServerInternals {
  makeAnalyzeRpcFun(
    name: string,
    version: string,
    level: EnforcementLevel,
    policies: Policies,
  ): RpcFun<analyzerpb.AnalyzeRequest, analyzerpb.AnalyzeResponse>;
  makeAnalyzeStackRpcFun(
    name: string,
    version: string,
    level: EnforcementLevel,
    policies: Policies,
  ): RpcFun<analyzerpb.AnalyzeStackRequest, analyzerpb.AnalyzeResponse>;
}

/** The SDK's analyzer server module (its internals have no public typings). */
const server = (): ServerInternals => createRequire(__filename)("@pulumi/policy/server") as ServerInternals;

/** A policy-pack config as in policies/config/<env>.json: level string or {enforcementLevel?, ...props}. */
export type PackConfig = Record<string, unknown>;

export function loadConfig(env: "dev" | "staging" | "prod"): PackConfig {
  return JSON.parse(readFileSync(path.join(POLICIES_DIR, "config", `${env}.json`), "utf8")) as PackConfig;
}

/** `config` with `now` set for the time-based policies (as a user would set it in the config file). */
export function withNow(config: PackConfig, now: string): PackConfig {
  const result: PackConfig = { ...config };
  for (const name of ["cloudflare-token-enforce-expiry", "cloudflare-token-require-rotation-headroom"]) {
    const entry = result[name];
    result[name] = typeof entry === "object" && entry !== null ? { ...entry, now } : { now };
  }
  return result;
}

function splitConfig(entry: unknown): { level?: EnforcementLevel; props: Record<string, unknown> } {
  if (typeof entry === "string") return { level: entry as EnforcementLevel, props: {} };
  if (entry === null || typeof entry !== "object") return { props: {} };
  const { enforcementLevel, ...rest } = entry as Record<string, unknown>;
  // Configure receives the properties as a protobuf Struct and hands policies its toJavaScript().
  const props = Struct.fromJavaScript(rest as Record<string, never>).toJavaScript() as Record<
    string,
    unknown
  >;
  return {
    ...(typeof enforcementLevel === "string" ? { level: enforcementLevel as EnforcementLevel } : {}),
    props,
  };
}

function isStackPolicy(
  policy: ResourceValidationPolicy | StackValidationPolicy,
): policy is StackValidationPolicy {
  return (policy as StackValidationPolicy).validateStack !== undefined;
}

/** The policies with their config applied (getConfig and enforcement level), as Configure would. */
function configure(policies: Policies, config: PackConfig): Policies {
  return policies.map((policy) => {
    const { level, props } = splitConfig(config[policy.name]);
    const enforcementLevel = level ?? policy.enforcementLevel;
    const getConfig = <T extends object>() => props as T;
    if (isStackPolicy(policy)) {
      const validateStack = policy.validateStack;
      return {
        ...policy,
        enforcementLevel,
        validateStack: (args, report) => validateStack({ ...args, getConfig }, report),
      };
    }
    const wrap =
      (validate: ResourceValidation): ResourceValidation =>
      (args, report) =>
        validate({ ...args, getConfig }, report);
    const validations = policy.validateResource;
    const validateResource =
      validations === undefined
        ? undefined
        : Array.isArray(validations)
          ? validations.map(wrap)
          : wrap(validations);
    return { ...policy, enforcementLevel, ...(validateResource ? { validateResource } : {}) };
  });
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

const LEVELS: Record<number, string> = {
  [analyzerpb.EnforcementLevel.ADVISORY]: "advisory",
  [analyzerpb.EnforcementLevel.MANDATORY]: "mandatory",
  [analyzerpb.EnforcementLevel.DISABLED]: "disabled",
  [analyzerpb.EnforcementLevel.REMEDIATE]: "remediate",
};

/** Reads an AnalyzeResponse (from the in-process server functions or over gRPC). */
export function readResponse(response: analyzerpb.AnalyzeResponse): AnalyzeResult {
  return {
    diagnostics: response.getDiagnosticsList().map((d) => {
      const prefix = `${d.getDescription()}\n`;
      const message = d.getMessage();
      return {
        policyName: d.getPolicyname(),
        enforcementLevel: LEVELS[d.getEnforcementlevel()] ?? String(d.getEnforcementlevel()),
        message,
        detail: message.startsWith(prefix) ? message.slice(prefix.length) : message,
        urn: d.getUrn(),
      };
    }),
    notApplicable: response
      .getNotApplicableList()
      .map((n) => ({ policyName: n.getPolicyName(), reason: n.getReason() })),
  };
}

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

function struct(props: Record<string, unknown>): Struct {
  return Struct.fromJavaScript(props as Record<string, never>);
}

function providerMessage(
  provider: NonNullable<ResourceInput["provider"]>,
): analyzerpb.AnalyzerProviderResource {
  const message = new analyzerpb.AnalyzerProviderResource();
  message.setType(provider.type);
  message.setName(provider.name);
  message.setUrn(urnOf(provider.type, provider.name));
  message.setProperties(struct(provider.props));
  return message;
}

/** An AnalyzeRequest as the engine builds it for one resource. */
export function analyzeRequest(resource: ResourceInput): analyzerpb.AnalyzeRequest {
  const request = new analyzerpb.AnalyzeRequest();
  request.setType(resource.type);
  request.setName(resource.name);
  request.setUrn(urnOf(resource.type, resource.name));
  request.setProperties(struct(resource.props));
  request.setOptions(new analyzerpb.AnalyzerResourceOptions());
  if (resource.provider) request.setProvider(providerMessage(resource.provider));
  return request;
}

/** An AnalyzeStackRequest as the engine builds it at the end of a preview or update. */
export function analyzeStackRequest(resources: readonly ResourceInput[]): analyzerpb.AnalyzeStackRequest {
  const request = new analyzerpb.AnalyzeStackRequest();
  request.setResourcesList(
    resources.map((resource) => {
      const message = new analyzerpb.AnalyzerResource();
      message.setType(resource.type);
      message.setName(resource.name);
      message.setUrn(urnOf(resource.type, resource.name));
      message.setProperties(struct(resource.props));
      message.setOptions(new analyzerpb.AnalyzerResourceOptions());
      if (resource.parent) message.setParent(resource.parent);
      if (resource.provider) message.setProvider(providerMessage(resource.provider));
      return message;
    }),
  );
  return request;
}

function call<Req>(fun: RpcFun<Req, analyzerpb.AnalyzeResponse>, request: Req): Promise<AnalyzeResult> {
  return new Promise((resolve, reject) => {
    void fun({ request }, (error, response) => {
      if (error) reject(error);
      else if (!response) reject(new Error("no response"));
      else resolve(readResponse(response));
    });
  });
}

export interface RunOptions {
  /** Policy-pack config (as in policies/config/<env>.json). */
  readonly config?: PackConfig;
}

const asList = (policies: Policies | Policies[number]): Policies =>
  Array.isArray(policies) ? policies : [policies];

/** Runs the Analyze RPC of the SDK's server over `policies` for one resource. */
export async function analyzeResource(
  policies: Policies | Policies[number],
  resource: ResourceInput,
  options: RunOptions = {},
): Promise<AnalyzeResult> {
  const { makeAnalyzeRpcFun } = server();
  const configured = configure(asList(policies), options.config ?? {});
  return call(
    makeAnalyzeRpcFun(POLICY_PACK_NAME, PACK_VERSION, "advisory", configured),
    analyzeRequest(resource),
  );
}

/** Runs the AnalyzeStack RPC of the SDK's server over `policies` for a stack. */
export async function analyzeStack(
  policies: Policies | Policies[number],
  resources: readonly ResourceInput[],
  options: RunOptions = {},
): Promise<AnalyzeResult> {
  const { makeAnalyzeStackRpcFun } = server();
  const configured = configure(asList(policies), options.config ?? {});
  return call(
    makeAnalyzeStackRpcFun(POLICY_PACK_NAME, PACK_VERSION, "advisory", configured),
    analyzeStackRequest(resources),
  );
}

/** Analyze for every resource plus AnalyzeStack: everything the engine would report for a stack. */
export async function analyzeAll(
  policies: Policies,
  resources: readonly ResourceInput[],
  options: RunOptions = {},
): Promise<Diagnostic[]> {
  const diagnostics: Diagnostic[] = [];
  for (const resource of resources)
    diagnostics.push(...(await analyzeResource(policies, resource, options)).diagnostics);
  diagnostics.push(...(await analyzeStack(policies, resources, options)).diagnostics);
  return diagnostics;
}
