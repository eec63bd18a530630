/**
 * Every use of an SDK internal in this repository, in one place. The offline plan needs five things
 * the SDKs do not publish:
 *   1. each registration as the engine receives it (parent, options, property dependencies, inputs
 *      in wire form): @pulumi/pulumi's mock monitor (installed by the public `setMocks`) sees the
 *      RegisterResourceRequest, its public `Mocks.newResource` only a subset (no parent, no options);
 *   2. the URN the mock monitor gives a resource, and each resource's state after the run;
 *   3. `waitForRPCs`, to know every registration has been answered;
 *   4. an Output's value with unknowns kept (`apply` skips unknowns);
 *   5. @pulumi/policy's Analyze/AnalyzeStack RPC handlers (server.js; what `serve` puts behind its
 *      gRPC server), so the pack runs in process exactly as the CLI's analyzer would run it.
 *   6. a way to skip a dynamic resource's provider serialization: @pulumi/pulumi's dynamic.Resource
 *      serializes its provider with runtime/closure/serializeClosure's `serializeFunction` (the
 *      inspector walks the closure: ~1 s of a cold plan) and no setting turns that off
 *      (`cacheDynamicProviders` only reuses a result within one process).
 * tests/shared/pulumi-adapter.test.ts is the canary: `sdkDrift()` lists what an upgrade broke,
 * naming the package, its version and the member, and the test fails with that list.
 */
import { createRequire, Module } from "node:module";

import type { Policies, ResourceValidation } from "@pulumi/policy";
import * as pulumi from "@pulumi/pulumi";
import type * as AnalyzerProto from "@pulumi/pulumi/proto/analyzer_pb";

import { structJavaScript } from "./struct-javascript";

const requireHere = createRequire(__filename);
const versionOf = (pkg: string) => (requireHere(`${pkg}/package.json`) as { version: string }).version;

export const PULUMI_VERSION = versionOf("@pulumi/pulumi");
export const POLICY_VERSION = versionOf("@pulumi/policy");

/** The message every drift produces: what changed and where to fix it. */
export function driftMessage(pkg: "@pulumi/pulumi" | "@pulumi/policy", what: string): string {
  const version = pkg === "@pulumi/pulumi" ? PULUMI_VERSION : POLICY_VERSION;
  return `${pkg} ${version} changed ${what}; update tools/shared/pulumi-adapter.ts`;
}

// ---- 1, 2: the mock monitor ---------------------------------------------------------------------

/** The RegisterResourceRequest getters read here (@pulumi/pulumi/proto/resource_pb). */
export interface RegisterResourceRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  getDeletebeforereplace(): boolean;
  getAdditionalsecretoutputsList(): string[];
  getDependenciesList(): string[];
  getPropertydependenciesMap(): {
    forEach(callback: (value: { getUrnsList(): string[] }, key: string) => void): void;
  };
  getProvider(): string;
  getVersion(): string;
  getProtect(): boolean | undefined;
  getIgnorechangesList(): string[];
  getAliasurnsList(): string[];
  getReplaceonchangesList(): string[];
}

interface MockMonitorInternals {
  registerResource(request: RegisterResourceRequest, callback: (...args: unknown[]) => void): unknown;
  newUrn(parent: string, type: string, name: string): string;
  getRegisteredResources(): Map<string, { urn: string; id: string | null; state: unknown }>;
}

const REQUEST_GETTERS = [
  "getType",
  "getName",
  "getParent",
  "getCustom",
  "getObject",
  "getDeletebeforereplace",
  "getAdditionalsecretoutputsList",
  "getDependenciesList",
  "getPropertydependenciesMap",
  "getProvider",
  "getVersion",
  "getProtect",
  "getIgnorechangesList",
  "getAliasurnsList",
  "getReplaceonchangesList",
] as const;

function mockMonitor(): MockMonitorInternals {
  const monitor = pulumi.runtime.getMonitor() as unknown as Partial<MockMonitorInternals> | undefined;
  for (const member of ["registerResource", "newUrn", "getRegisteredResources"] as const) {
    if (typeof monitor?.[member] !== "function") {
      throw new Error(driftMessage("@pulumi/pulumi", `the mock monitor's ${member} (after setMocks)`));
    }
  }
  return monitor as MockMonitorInternals;
}

export interface MonitorView {
  /** The URN the mock monitor gives a registration. */
  urnOf(request: RegisterResourceRequest): string;
  /** urn -> state: serialized outputs (custom resources) or registerOutputs' Struct (components). */
  states(): Map<string, Record<string, unknown>>;
}

/** Calls `onRegister` with every RegisterResourceRequest the mock monitor receives. After setMocks. */
export function observeRegistrations(onRegister: (request: RegisterResourceRequest) => void): MonitorView {
  const monitor = mockMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    onRegister(request);
    return register(request, callback);
  };
  return {
    urnOf: (request) => monitor.newUrn(request.getParent(), request.getType(), request.getName()),
    states() {
      const result = new Map<string, Record<string, unknown>>();
      for (const [urn, { state }] of monitor.getRegisteredResources()) {
        const struct = state as { toJavaScript?: () => Record<string, unknown> } | null | undefined;
        result.set(
          urn,
          typeof struct?.toJavaScript === "function"
            ? structJavaScript(struct as { toJavaScript: () => Record<string, unknown> })
            : ((state as Record<string, unknown> | null | undefined) ?? {}),
        );
      }
      return result;
    },
  };
}

// ---- 3: waitForRPCs -----------------------------------------------------------------------------

/** Waits until every outstanding registration and invoke has been answered. */
export async function waitForRegistrations(): Promise<void> {
  // Exported by @pulumi/pulumi's runtime, marked internal in its typings.
  const waitForRPCs = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  if (typeof waitForRPCs !== "function")
    throw new Error(driftMessage("@pulumi/pulumi", "runtime.waitForRPCs"));
  await waitForRPCs();
}

// ---- 4: Output internals ------------------------------------------------------------------------

interface OutputInternals {
  promise?: (withUnknowns?: boolean) => Promise<unknown>;
  isKnown?: Promise<boolean>;
}

/** An Output's value (unknowns included), whether it is known, and whether it is secret. */
export async function outputState(
  output: pulumi.Output<unknown>,
): Promise<{ value: unknown; known: boolean; secret: boolean }> {
  const internals = output as unknown as OutputInternals;
  if (typeof internals.promise !== "function" || !(internals.isKnown instanceof Promise)) {
    throw new Error(driftMessage("@pulumi/pulumi", "Output's promise(withUnknowns)/isKnown members"));
  }
  const [value, known, secret] = await Promise.all([
    internals.promise(true),
    internals.isKnown,
    pulumi.isSecret(output),
  ]);
  return { value, known, secret };
}

// ---- 5: @pulumi/policy's analyzer handlers ------------------------------------------------------

type Callback = (error: unknown, response?: AnalyzerProto.AnalyzeResponse) => void;
export type AnalyzerRpc<Request> = (call: { request: Request }, callback: Callback) => unknown;

interface PolicyServerInternals {
  makeAnalyzeRpcFun(
    name: string,
    version: string,
    level: string,
    policies: Policies,
  ): AnalyzerRpc<AnalyzerProto.AnalyzeRequest>;
  makeAnalyzeStackRpcFun(
    name: string,
    version: string,
    level: string,
    policies: Policies,
  ): AnalyzerRpc<AnalyzerProto.AnalyzeStackRequest>;
}

/** server.js's Analyze and AnalyzeStack handlers, as `serve` registers them with its gRPC server. */
export function policyHandlers(): PolicyServerInternals {
  const server = requireHere("@pulumi/policy/server") as Partial<PolicyServerInternals>;
  for (const member of ["makeAnalyzeRpcFun", "makeAnalyzeStackRpcFun"] as const) {
    if (typeof server[member] !== "function") {
      throw new Error(driftMessage("@pulumi/policy", `server.js's export ${member}`));
    }
  }
  return server as PolicyServerInternals;
}

/**
 * `wrapper` marked with `validation`'s resource type, as validateResourceOfType marks it: the
 * server skips a typed validation for other types without calling it (its "not applicable" path).
 */
export function withPulumiTypeOf(
  validation: ResourceValidation,
  wrapper: ResourceValidation,
): ResourceValidation {
  const type = (validation as { __pulumiType?: unknown }).__pulumiType;
  return typeof type === "string" ? Object.assign(wrapper, { __pulumiType: type }) : wrapper;
}

// ---- 6: dynamic providers' closure serialization -----------------------------------------------

/** The module dynamic.Resource loads (on first use) to serialize its provider (dynamic/index.js). */
const SERIALIZE_CLOSURE = "@pulumi/pulumi/runtime/closure/serializeClosure";

type SerializeFunction = (
  func: () => unknown,
  args?: unknown,
) => Promise<{ text: string; exportName: string; containsSecrets: boolean }>;

/**
 * Runs `work` with every dynamic resource's provider "serialized" as `text`, without Pulumi's closure
 * serializer, which is loaded lazily and costs ~1 s of a cold plan. The serializer is restored (or,
 * when it was never loaded, left unloaded) afterwards, so a real `pulumi up` and any later code still
 * serialize for real. Whether the provider does serialize is tested where it matters: as `pulumi up`
 * runs it (tests/pulumi-load.test.ts).
 *
 * dynamic.Resource caches each provider object's serialization for the life of the process
 * (dynamic/index.js providerCache, on unless PULUMI_NODEJS_CACHE_DYNAMIC_PROVIDERS=false); the cache
 * is switched off during `work`, so a stand-in is never kept for a later real registration of the
 * same provider, nor an earlier real one reused in its place.
 */
export async function withDynamicProvidersAs<T>(text: string, work: () => Promise<T>): Promise<T> {
  const options = runtimeOptions();
  const caching = options.cacheDynamicProviders;
  options.cacheDynamicProviders = false;
  try {
    return await withSerializerAs(text, work);
  } finally {
    options.cacheDynamicProviders = caching;
  }
}

/** The SDK's per-process runtime options (runtime/state.js getStore().settings.options). */
function runtimeOptions(): { cacheDynamicProviders?: boolean } {
  const state = requireHere("@pulumi/pulumi/runtime/state") as {
    getStore?: () => { settings?: { options?: { cacheDynamicProviders?: boolean } } };
  };
  const options = state.getStore?.().settings?.options;
  if (options === undefined || typeof options.cacheDynamicProviders !== "boolean")
    throw new Error(
      driftMessage("@pulumi/pulumi", "runtime/state getStore().settings.options.cacheDynamicProviders"),
    );
  return options;
}

async function withSerializerAs<T>(text: string, work: () => Promise<T>): Promise<T> {
  const standIn: SerializeFunction = () =>
    Promise.resolve({ text, exportName: "handler", containsSecrets: false });
  const path = requireHere.resolve(SERIALIZE_CLOSURE);
  const cache = requireHere.cache;
  const loaded = cache[path];
  if (loaded !== undefined) {
    const exports = loaded.exports as { serializeFunction?: SerializeFunction };
    const original = exports.serializeFunction;
    if (typeof original !== "function")
      throw new Error(driftMessage("@pulumi/pulumi", `${SERIALIZE_CLOSURE}'s serializeFunction`));
    exports.serializeFunction = standIn;
    try {
      return await work();
    } finally {
      exports.serializeFunction = original;
    }
  }
  // Not loaded yet: what `require` returns for it during `work` is a module holding the stand-in.
  const module = new Module(path);
  Object.assign(module, { filename: path, loaded: true, exports: { serializeFunction: standIn } });
  cache[path] = module;
  try {
    return await work();
  } finally {
    if (cache[path] === module) delete cache[path];
  }
}

// ---- the canary ---------------------------------------------------------------------------------

/** What an SDK upgrade broke, as messages naming package, version and member; empty when all holds. */
export function sdkDrift(): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, pkg: "@pulumi/pulumi" | "@pulumi/policy", what: string) => {
    if (!ok) problems.push(driftMessage(pkg, what));
  };
  const resourcePb = requireHere("@pulumi/pulumi/proto/resource_pb") as {
    RegisterResourceRequest?: { prototype: Record<string, unknown> };
  };
  for (const getter of REQUEST_GETTERS) {
    check(
      typeof resourcePb.RegisterResourceRequest?.prototype[getter] === "function",
      "@pulumi/pulumi",
      `RegisterResourceRequest.${getter}`,
    );
  }
  const mocks = requireHere("@pulumi/pulumi/runtime/mocks") as {
    MockMonitor?: { prototype: Record<string, unknown> };
  };
  for (const member of ["registerResource", "newUrn", "getRegisteredResources"]) {
    check(
      typeof mocks.MockMonitor?.prototype[member] === "function",
      "@pulumi/pulumi",
      `MockMonitor.${member}`,
    );
  }
  check(
    typeof (pulumi.runtime as unknown as Record<string, unknown>)["waitForRPCs"] === "function",
    "@pulumi/pulumi",
    "runtime.waitForRPCs",
  );
  const output = pulumi.output(1) as unknown as OutputInternals;
  check(
    typeof output.promise === "function" && output.isKnown instanceof Promise,
    "@pulumi/pulumi",
    "Output's promise(withUnknowns)/isKnown members",
  );
  const server = requireHere("@pulumi/policy/server") as Record<string, unknown>;
  for (const member of ["makeAnalyzeRpcFun", "makeAnalyzeStackRpcFun"]) {
    check(typeof server[member] === "function", "@pulumi/policy", `server.js's export ${member}`);
  }
  try {
    runtimeOptions();
  } catch (error) {
    problems.push((error as Error).message);
  }
  const closure = requireHere(SERIALIZE_CLOSURE) as { serializeFunction?: unknown };
  check(
    typeof closure.serializeFunction === "function",
    "@pulumi/pulumi",
    `${SERIALIZE_CLOSURE}'s serializeFunction`,
  );
  const policy = requireHere("@pulumi/policy") as typeof import("@pulumi/policy");
  const typed = policy.validateResourceOfType(
    { __pulumiType: "canary:index:Canary" } as never,
    () => undefined,
  );
  check(
    (typed as { __pulumiType?: unknown }).__pulumiType === "canary:index:Canary",
    "@pulumi/policy",
    "validateResourceOfType's __pulumiType mark",
  );
  return problems;
}
