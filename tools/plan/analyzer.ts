/**
 * The one driver of the policy pack, for the offline plan and the pack's tests. Requests are the
 * analyzer protobuf messages the engine sends (ConfigureAnalyzerRequest, AnalyzeRequest,
 * AnalyzeStackRequest); they are answered either over gRPC by the pack the CLI starts
 * (tests/policies/pack.grpc.test.ts builds its requests here) or in process by @pulumi/policy's own
 * Analyze/AnalyzeStack handlers (tools/shared/pulumi-adapter.ts). Policies therefore get their
 * arguments exactly as the SDK shapes them (deserialized properties behind the unknown-checking
 * proxy, options, provider, notApplicable) and report through the SDK's own reportViolation.
 *
 * In process, Configure is applied the way server.js applies it: each policy's level from the
 * request, and getConfig returning the request's properties (read back from the protobuf Struct).
 * Analyze does not call a policy for a type the policy declares, with onlyFor
 * (policies/lib/applicability.ts), that it does not cover; it answers in its place what the policy
 * answers the SDK for that type: not applicable, with the declared reason.
 */
import type {
  Policies,
  ResourceValidation,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import * as analyzerproto from "@pulumi/pulumi/proto/analyzer_pb";
import { Struct, Value, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";

import { applicabilityOf } from "../../policies/lib/applicability";
import { deepFreeze } from "../shared/deep-freeze";
import { isStructJavaScript } from "../shared/struct-javascript";
import { policyHandlers, withPulumiTypeOf, type AnalyzerRpc } from "../shared/pulumi-adapter";
import {
  ENFORCEMENT_LEVELS,
  type EnforcementLevel,
  type PolicyInfo,
  type ReconciledPolicyConfig,
} from "./policy-config";

export type Policy = ResourceValidationPolicy | StackValidationPolicy;

/** The engine's view of one resource, for Analyze (inputs) and AnalyzeStack (outputs). */
export interface AnalyzerResourceInput {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  /** Serialized (wire-form) inputs: secrets as signature objects, unknowns as sentinels. */
  readonly inputs: Record<string, unknown>;
  /** Serialized outputs, for AnalyzeStack (default: the inputs). */
  readonly outputs?: Record<string, unknown>;
  readonly options?: {
    readonly protect: boolean;
    readonly ignoreChanges: readonly string[];
    readonly aliases: readonly string[];
    readonly deleteBeforeReplace: boolean;
    readonly additionalSecretOutputs: readonly string[];
  };
  readonly dependencies?: readonly string[];
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
  /** The resource's provider (explicit, or the engine's default provider for its package). */
  readonly provider?: {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
  };
}

/** One diagnostic as the analyzer returns it. */
export interface AnalyzerDiagnostic {
  readonly policyName: string;
  readonly policyPackName: string;
  readonly description: string;
  /** As the SDK builds it: the policy's description, a newline, then the reported message. */
  readonly message: string;
  /** The reported message alone (the message without the description prefix). */
  readonly detail: string;
  readonly enforcementLevel: EnforcementLevel;
  /** The URN the policy named, if any. */
  readonly urn?: string;
}

export interface AnalyzerResult {
  readonly diagnostics: AnalyzerDiagnostic[];
  readonly notApplicable: { policyName: string; reason: string }[];
}

/** GetAnalyzerInfo's view of each policy: name, default level, config schema. */
export function policyInfos(
  policies: readonly Policy[],
  packEnforcementLevel: EnforcementLevel = "advisory",
): PolicyInfo[] {
  return policies.map((policy) => ({
    name: policy.name,
    enforcementLevel: (policy.enforcementLevel ?? packEnforcementLevel) as EnforcementLevel,
    ...(policy.configSchema === undefined
      ? {}
      : { configSchema: policy.configSchema as unknown as NonNullable<PolicyInfo["configSchema"]> }),
  }));
}

// ---- messages, as the engine builds them ------------------------------------------------------

const PROTO_LEVEL: Record<EnforcementLevel, analyzerproto.EnforcementLevel> = {
  advisory: analyzerproto.EnforcementLevel.ADVISORY,
  mandatory: analyzerproto.EnforcementLevel.MANDATORY,
  remediate: analyzerproto.EnforcementLevel.REMEDIATE,
  disabled: analyzerproto.EnforcementLevel.DISABLED,
};
const LEVEL_OF = new Map(ENFORCEMENT_LEVELS.map((level) => [PROTO_LEVEL[level], level]));

/**
 * `value` as a Struct holds it: what `Struct.fromJavaScript(value).toJavaScript()` returns (each
 * object's keys in the Struct map's sorted order), with Value.fromJavaScript's error for anything a
 * Struct cannot hold (undefined, a function, a hole in an array).
 */
function structValue(value: unknown): JavaScriptValue {
  if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return value;
  if (Array.isArray(value)) {
    const list: JavaScriptValue[] = [];
    for (let index = 0; index < value.length; index++) list.push(structValue(value[index]));
    return list;
  }
  if (typeof value === "object") {
    const keys: string[] = [];
    // for...in, as Struct.fromJavaScript reads an object.
    for (const key in value) keys.push(key);
    keys.sort();
    const fields: Record<string, JavaScriptValue> = {};
    for (const key of keys) fields[key] = structValue((value as Record<string, unknown>)[key]);
    return fields;
  }
  throw new Error("Unexpected struct type.");
}

/**
 * A request's Struct, built lazily. The SDK's handlers only read a request's properties (and its
 * provider's) through toJavaScript(), once per policy, each through deserializeProperties, which
 * copies what it reads: so the JavaScript form is computed once, frozen (a reader that wrote to it
 * would fail instead of leaking to the next) and shared. A value that already is a Struct's own
 * JavaScript form (the offline runtime's registrations and states, tools/shared/struct-javascript.ts)
 * is that form, frozen in place, not copied. The protobuf fields, which cost more than
 * the rest of a request together, are built only when something reads them (getFieldsMap: the
 * binary serializer on the gRPC path, toObject).
 */
class LazyStruct extends Struct {
  readonly #javaScript: Record<string, JavaScriptValue>;
  #built = false;

  constructor(value: Record<string, unknown>) {
    super();
    // A Struct's own JavaScript form is already canonical: no copy.
    this.#javaScript = deepFreeze(
      (isStructJavaScript(value) ? value : structValue(value)) as Record<string, JavaScriptValue>,
    );
  }

  // Once built, the map exists, so the serializer's getFieldsMap(true) (no lazy create) gets it too.
  override getFieldsMap(): ReturnType<Struct["getFieldsMap"]> {
    if (!this.#built) {
      this.#built = true;
      const fields = super.getFieldsMap();
      for (const [key, inner] of Object.entries(this.#javaScript))
        fields.set(key, Value.fromJavaScript(inner));
    }
    return super.getFieldsMap();
  }

  override toJavaScript(): Record<string, JavaScriptValue> {
    return this.#javaScript;
  }
}

const struct = (value: Record<string, unknown>): Struct => new LazyStruct(value);

/** The ConfigureAnalyzerRequest the CLI sends with a reconciled policy pack config. */
export function configureRequest(config: ReconciledPolicyConfig): analyzerproto.ConfigureAnalyzerRequest {
  const request = new analyzerproto.ConfigureAnalyzerRequest();
  const map = request.getPolicyconfigMap();
  for (const [name, entry] of Object.entries(config)) {
    const policyConfig = new analyzerproto.PolicyConfig();
    policyConfig.setEnforcementlevel(PROTO_LEVEL[entry.enforcementLevel]);
    policyConfig.setProperties(struct(entry.properties));
    map.set(name, policyConfig);
  }
  return request;
}

function resourceOptions(resource: AnalyzerResourceInput): analyzerproto.AnalyzerResourceOptions {
  const options = new analyzerproto.AnalyzerResourceOptions();
  if (resource.options) {
    options.setProtect(resource.options.protect);
    options.setIgnorechangesList([...resource.options.ignoreChanges]);
    options.setAliasesList([...resource.options.aliases]);
    options.setDeletebeforereplace(resource.options.deleteBeforeReplace);
    options.setDeletebeforereplacedefined(true);
    options.setAdditionalsecretoutputsList([...resource.options.additionalSecretOutputs]);
    options.setCustomtimeouts(new analyzerproto.AnalyzerResourceOptions.CustomTimeouts());
  }
  if (resource.parent !== undefined) options.setParent(resource.parent);
  return options;
}

/**
 * Provider property Structs by the provider's inputs object: one provider serves many resources, and
 * its inputs are not changed once handed to the analyzer.
 */
export type ProviderStructs = WeakMap<Record<string, unknown>, Struct>;

function providerResource(
  resource: AnalyzerResourceInput,
  providerStructs: ProviderStructs,
): analyzerproto.AnalyzerProviderResource | undefined {
  if (resource.provider === undefined) return undefined;
  const provider = new analyzerproto.AnalyzerProviderResource();
  provider.setType(resource.provider.type);
  provider.setName(resource.provider.name);
  provider.setUrn(resource.provider.urn);
  const { inputs } = resource.provider;
  let properties = providerStructs.get(inputs);
  if (properties === undefined) providerStructs.set(inputs, (properties = struct(inputs)));
  provider.setProperties(properties);
  return provider;
}

/** The AnalyzeRequest the engine sends for one resource's inputs. */
export function analyzeRequest(
  resource: AnalyzerResourceInput,
  providerStructs: ProviderStructs = new WeakMap(),
): analyzerproto.AnalyzeRequest {
  const request = new analyzerproto.AnalyzeRequest();
  request.setType(resource.type);
  request.setProperties(struct(resource.inputs));
  request.setUrn(resource.urn);
  request.setName(resource.name);
  request.setOptions(resourceOptions(resource));
  const provider = providerResource(resource, providerStructs);
  if (provider) request.setProvider(provider);
  return request;
}

/** The AnalyzeStackRequest the engine sends with every resource's outputs at the end of a run. */
export function analyzeStackRequest(
  resources: readonly AnalyzerResourceInput[],
  providerStructs: ProviderStructs = new WeakMap(),
): analyzerproto.AnalyzeStackRequest {
  const request = new analyzerproto.AnalyzeStackRequest();
  request.setResourcesList(
    resources.map((resource) => {
      const entry = new analyzerproto.AnalyzerResource();
      entry.setType(resource.type);
      entry.setProperties(struct(resource.outputs ?? resource.inputs));
      entry.setUrn(resource.urn);
      entry.setName(resource.name);
      entry.setOptions(resourceOptions(resource));
      const provider = providerResource(resource, providerStructs);
      if (provider) entry.setProvider(provider);
      if (resource.parent !== undefined) entry.setParent(resource.parent);
      entry.setDependenciesList([...(resource.dependencies ?? [])]);
      const dependencies = entry.getPropertydependenciesMap();
      for (const [key, urns] of Object.entries(resource.propertyDependencies ?? {})) {
        const value = new analyzerproto.AnalyzerPropertyDependencies();
        value.setUrnsList([...urns]);
        dependencies.set(key, value);
      }
      return entry;
    }),
  );
  return request;
}

/** An AnalyzeResponse, from the in-process handlers or over gRPC. */
export function readResponse(response: analyzerproto.AnalyzeResponse): AnalyzerResult {
  return {
    diagnostics: response.getDiagnosticsList().map((diagnostic) => {
      const prefix = `${diagnostic.getDescription()}\n`;
      const message = diagnostic.getMessage();
      return {
        policyName: diagnostic.getPolicyname(),
        policyPackName: diagnostic.getPolicypackname(),
        description: diagnostic.getDescription(),
        message,
        detail: message.startsWith(prefix) ? message.slice(prefix.length) : message,
        enforcementLevel: LEVEL_OF.get(diagnostic.getEnforcementlevel()) ?? "advisory",
        ...(diagnostic.getUrn() === "" ? {} : { urn: diagnostic.getUrn() }),
      };
    }),
    notApplicable: response
      .getNotApplicableList()
      .map((entry) => ({ policyName: entry.getPolicyName(), reason: entry.getReason() })),
  };
}

// ---- in process --------------------------------------------------------------------------------

function isStackPolicy(policy: Policy): policy is StackValidationPolicy {
  return typeof (policy as StackValidationPolicy).validateStack === "function";
}

/**
 * `policies` as Configure leaves them: each policy's level and getConfig from the request. The
 * server builds a fresh args object for every call, so getConfig is set on it in place.
 */
function configured(policies: readonly Policy[], request: analyzerproto.ConfigureAnalyzerRequest): Policies {
  const entries = request.getPolicyconfigMap();
  return policies.map((policy): Policy => {
    const entry = entries.get(policy.name);
    if (entry === undefined) return policy;
    const properties = entry.getProperties()?.toJavaScript() ?? {};
    const enforcementLevel = LEVEL_OF.get(entry.getEnforcementlevel()) ?? policy.enforcementLevel;
    const getConfig = <T extends object>() => properties as T;
    if (isStackPolicy(policy)) {
      const validate = policy.validateStack;
      return {
        ...policy,
        enforcementLevel,
        validateStack: (args, report) => validate(Object.assign(args, { getConfig }), report),
      };
    }
    const wrap = (validate: ResourceValidation): ResourceValidation =>
      withPulumiTypeOf(validate, (args, report) => validate(Object.assign(args, { getConfig }), report));
    const validations = policy.validateResource;
    return {
      ...policy,
      enforcementLevel,
      ...(validations === undefined
        ? {}
        : { validateResource: Array.isArray(validations) ? validations.map(wrap) : wrap(validations) }),
    };
  });
}

function call<Request>(rpc: AnalyzerRpc<Request>, request: Request): Promise<AnalyzerResult> {
  return new Promise((resolve, reject) => {
    Promise.resolve(
      rpc({ request }, (error, response) => {
        if (error) {
          const details = (error as { details?: string }).details;
          reject(new Error(details ?? (error as Error).message ?? String(error)));
        } else resolve(readResponse(response!));
      }),
    ).catch(reject);
  });
}

export interface PolicyAnalyzer {
  /** The Configure RPC: every policy's enforcement level and properties. */
  configure(config: ReconciledPolicyConfig): void;
  /** The Analyze RPC for one resource's inputs. */
  analyze(resource: AnalyzerResourceInput): Promise<AnalyzerResult>;
  /** The AnalyzeStack RPC over every resource's outputs. */
  analyzeStack(resources: readonly AnalyzerResourceInput[]): Promise<AnalyzerResult>;
}

/** A resource policy's place in the pack, skipped for a type its validation declares it does not cover. */
interface Skipped {
  readonly index: number;
  readonly policyName: string;
  readonly reason: string;
}

/**
 * What Analyze runs for resources of one type: the SDK's handler over the pack's policies, less
 * those whose one validation declares, with onlyFor (policies/lib/applicability.ts), that it covers
 * other types only; in their place the answer the SDK gets when it calls them: not applicable, with
 * the declared reason. This is the SDK's own fast path for validateResourceOfType's `__pulumiType`,
 * for a declared set of types. A disabled policy stays with the SDK, which skips it silently.
 */
function analysisFor(
  type: string,
  policies: readonly Policy[],
  served: Policies,
  makeRpc: (policies: Policies) => AnalyzerRpc<analyzerproto.AnalyzeRequest>,
  packEnforcementLevel: EnforcementLevel,
): { rpc: AnalyzerRpc<analyzerproto.AnalyzeRequest> | undefined; skipped: readonly Skipped[] } {
  const kept: Policy[] = [];
  const skipped: Skipped[] = [];
  served.forEach((policy, index) => {
    const declared = policies[index] as Partial<ResourceValidationPolicy>;
    const applicability =
      typeof declared.validateResource === "function"
        ? applicabilityOf(declared.validateResource)
        : undefined;
    const level = policy.enforcementLevel ?? packEnforcementLevel;
    if (applicability !== undefined && level !== "disabled" && !applicability.types.includes(type)) {
      skipped.push({ index, policyName: policy.name, reason: applicability.reason });
    } else kept.push(policy);
  });
  // The handler passes over a stack policy and a disabled one without a word: with only those left
  // it would answer nothing, so it is not called (and no request built).
  const answers = kept.some(
    (policy) =>
      (policy.enforcementLevel ?? packEnforcementLevel) !== "disabled" &&
      ((policy as ResourceValidationPolicy).validateResource !== undefined ||
        (policy as { remediateResource?: unknown }).remediateResource !== undefined),
  );
  return { rpc: answers ? makeRpc(kept) : undefined, skipped };
}

/** `result` with `skipped`'s answers merged in, in policy order, as the SDK lists them. */
function withSkipped(
  result: AnalyzerResult,
  skipped: readonly Skipped[],
  order: ReadonlyMap<string, number>,
) {
  if (skipped.length === 0) return result;
  const notApplicable = [
    ...result.notApplicable.map((entry) => ({ entry, index: order.get(entry.policyName) ?? -1 })),
    ...skipped.map(({ index, policyName, reason }) => ({ entry: { policyName, reason }, index })),
  ]
    .sort((a, b) => a.index - b.index)
    .map(({ entry }) => entry);
  return { diagnostics: result.diagnostics, notApplicable };
}

/** The pack `packName`@`packVersion` serving `policies`, in process. */
export function createAnalyzer(
  packName: string,
  packVersion: string,
  policies: readonly Policy[],
  packEnforcementLevel: EnforcementLevel = "advisory",
): PolicyAnalyzer {
  const handlers = policyHandlers();
  const providerStructs: ProviderStructs = new WeakMap();
  const order = new Map(policies.map((policy, index) => [policy.name, index]));
  let served: Policies = [...policies];
  let byType = new Map<string, ReturnType<typeof analysisFor>>();
  const makeRpc = (subset: Policies) =>
    handlers.makeAnalyzeRpcFun(packName, packVersion, packEnforcementLevel, subset);
  return {
    configure(config) {
      served = configured(policies, configureRequest(config));
      byType = new Map();
    },
    analyze: async (resource) => {
      let analysis = byType.get(resource.type);
      if (analysis === undefined) {
        analysis = analysisFor(resource.type, policies, served, makeRpc, packEnforcementLevel);
        byType.set(resource.type, analysis);
      }
      const result =
        analysis.rpc === undefined
          ? { diagnostics: [], notApplicable: [] }
          : await call(analysis.rpc, analyzeRequest(resource, providerStructs));
      return withSkipped(result, analysis.skipped, order);
    },
    analyzeStack: (resources) =>
      call(
        handlers.makeAnalyzeStackRpcFun(packName, packVersion, packEnforcementLevel, served),
        analyzeStackRequest(resources, providerStructs),
      ),
  };
}
