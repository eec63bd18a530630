/**
 * The policy pack's analyzer, in process: @pulumi/policy's own server code (the Configure,
 * Analyze and AnalyzeStack RPC handlers a `pulumi preview --policy-pack` talks to) driven with
 * the same protobuf requests the engine sends, without a gRPC socket. Policies therefore get
 * their arguments exactly as the SDK shapes them (deserialized properties behind the
 * unknown-checking proxy, options, provider, getConfig, notApplicable, the stack's resource
 * graph) and report violations through the SDK's own reportViolation; nothing is re-implemented.
 *
 * Configure is the one handler server.js does not export: this module evaluates a private copy of
 * server.js with one line appended that exports it. The copy requires the same modules (the same
 * proto classes, policy helpers and UnknownValueError) and has its own policy-config state, so
 * analyzers never share configuration. A change in the SDK that removes the handler fails loudly.
 */
import { readFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname } from "node:path";

import type * as AnalyzerProto from "@pulumi/pulumi/proto/analyzer_pb";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type * as StructProto from "google-protobuf/google/protobuf/struct_pb";

import type { EnforcementLevel, ReconciledPolicyConfig } from "./policy-config";

export type Policy = ResourceValidationPolicy | StackValidationPolicy;

/** The engine's view of one resource, for Analyze (inputs) and AnalyzeStack (outputs). */
export interface AnalyzerResourceInput {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  /** Serialized (wire-form) inputs: secrets as signature objects, unknowns as sentinels. */
  readonly inputs: Record<string, unknown>;
  /** Serialized outputs, for AnalyzeStack. */
  readonly outputs: Record<string, unknown>;
  readonly options: {
    readonly protect: boolean;
    readonly ignoreChanges: readonly string[];
    readonly aliases: readonly string[];
    readonly deleteBeforeReplace: boolean;
    readonly additionalSecretOutputs: readonly string[];
  };
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
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
  readonly enforcementLevel: EnforcementLevel;
  /** The URN the policy named, if any. */
  readonly urn?: string;
}

type Callback = (error: unknown, response?: unknown) => void;
type RpcHandler = (call: { request: unknown }, callback: Callback) => void | Promise<void>;

interface ServerInternals {
  configure: RpcHandler;
  makeAnalyzeRpcFun(name: string, version: string, level: string, policies: readonly Policy[]): RpcHandler;
  makeAnalyzeStackRpcFun(
    name: string,
    version: string,
    level: string,
    policies: readonly Policy[],
  ): RpcHandler;
}

interface ProtoUtil {
  mapEnforcementLevel(level: string): number;
  convertEnforcementLevel(level: number): EnforcementLevel;
}

const requireHere = createRequire(__filename);
const SERVER_PATH = requireHere.resolve("@pulumi/policy/server.js");
/** Resolves exactly as server.js does, so protos and helpers are the instances it uses. */
const requireFromServer = createRequire(SERVER_PATH);
const analyzerproto = requireFromServer("@pulumi/pulumi/proto/analyzer_pb") as typeof AnalyzerProto;
const structproto = createRequire(requireFromServer.resolve("@pulumi/pulumi/proto/analyzer_pb"))(
  "google-protobuf/google/protobuf/struct_pb",
) as typeof StructProto;
const protoutil = requireFromServer("./protoutil") as ProtoUtil;

let serverSource: string | undefined;

/** A private instance of @pulumi/policy's server.js that also exports its Configure handler. */
function loadServer(): ServerInternals {
  serverSource ??= readFileSync(SERVER_PATH, "utf8");
  type CompilableModule = Module & { _compile(source: string, filename: string): void; paths: string[] };
  const ModuleClass = Module as unknown as {
    new (id: string, parent?: unknown): CompilableModule;
    _nodeModulePaths(from: string): string[];
  };
  const copy = new ModuleClass(SERVER_PATH);
  copy.filename = SERVER_PATH;
  copy.paths = ModuleClass._nodeModulePaths(dirname(SERVER_PATH));
  copy._compile(`${serverSource}\n;exports.__configure = configure;\n`, SERVER_PATH);
  const exported = copy.exports as Partial<ServerInternals> & { __configure?: RpcHandler };
  if (
    typeof exported.__configure !== "function" ||
    typeof exported.makeAnalyzeRpcFun !== "function" ||
    typeof exported.makeAnalyzeStackRpcFun !== "function"
  ) {
    throw new Error(
      `@pulumi/policy's server.js no longer has configure/makeAnalyzeRpcFun/makeAnalyzeStackRpcFun`,
    );
  }
  return {
    configure: exported.__configure,
    makeAnalyzeRpcFun: exported.makeAnalyzeRpcFun,
    makeAnalyzeStackRpcFun: exported.makeAnalyzeStackRpcFun,
  };
}

function invoke<T>(handler: RpcHandler, request: unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done: Callback = (error, response) => {
      if (error) {
        const details = (error as { details?: string }).details;
        reject(new Error(details ?? (error as Error).message ?? String(error)));
      } else {
        resolve(response as T);
      }
    };
    Promise.resolve(handler({ request }, done)).catch(reject);
  });
}

function struct(value: Record<string, unknown>): StructProto.Struct {
  return structproto.Struct.fromJavaScript(value as Record<string, StructProto.JavaScriptValue>);
}

function resourceOptions(resource: AnalyzerResourceInput): AnalyzerProto.AnalyzerResourceOptions {
  const options = new analyzerproto.AnalyzerResourceOptions();
  options.setProtect(resource.options.protect);
  options.setIgnorechangesList([...resource.options.ignoreChanges]);
  options.setAliasesList([...resource.options.aliases]);
  options.setDeletebeforereplace(resource.options.deleteBeforeReplace);
  options.setDeletebeforereplacedefined(true);
  options.setAdditionalsecretoutputsList([...resource.options.additionalSecretOutputs]);
  options.setCustomtimeouts(new analyzerproto.AnalyzerResourceOptions.CustomTimeouts());
  if (resource.parent !== undefined) options.setParent(resource.parent);
  return options;
}

function providerResource(
  resource: AnalyzerResourceInput,
): AnalyzerProto.AnalyzerProviderResource | undefined {
  if (resource.provider === undefined) return undefined;
  const provider = new analyzerproto.AnalyzerProviderResource();
  provider.setType(resource.provider.type);
  provider.setName(resource.provider.name);
  provider.setUrn(resource.provider.urn);
  provider.setProperties(struct(resource.provider.inputs));
  return provider;
}

function diagnostics(response: AnalyzerProto.AnalyzeResponse): AnalyzerDiagnostic[] {
  return response.getDiagnosticsList().map((diagnostic) => ({
    policyName: diagnostic.getPolicyname(),
    policyPackName: diagnostic.getPolicypackname(),
    description: diagnostic.getDescription(),
    message: diagnostic.getMessage(),
    enforcementLevel: protoutil.convertEnforcementLevel(diagnostic.getEnforcementlevel()),
    ...(diagnostic.getUrn() === "" ? {} : { urn: diagnostic.getUrn() }),
  }));
}

export interface PolicyAnalyzer {
  /** The Configure RPC: every policy's enforcement level and properties. */
  configure(config: ReconciledPolicyConfig): Promise<void>;
  /** The Analyze RPC for one resource's inputs. */
  analyze(resource: AnalyzerResourceInput): Promise<AnalyzerDiagnostic[]>;
  /** The AnalyzeStack RPC over every resource's outputs. */
  analyzeStack(resources: readonly AnalyzerResourceInput[]): Promise<AnalyzerDiagnostic[]>;
}

/** An analyzer serving `policies` as the pack `packName`@`packVersion` would. */
export function createAnalyzer(
  packName: string,
  packVersion: string,
  policies: readonly Policy[],
  packEnforcementLevel: EnforcementLevel = "advisory",
): PolicyAnalyzer {
  const server = loadServer();
  const analyzeRpc = server.makeAnalyzeRpcFun(packName, packVersion, packEnforcementLevel, policies);
  const analyzeStackRpc = server.makeAnalyzeStackRpcFun(
    packName,
    packVersion,
    packEnforcementLevel,
    policies,
  );
  return {
    async configure(config) {
      const request = new analyzerproto.ConfigureAnalyzerRequest();
      const map = request.getPolicyconfigMap();
      for (const [name, entry] of Object.entries(config)) {
        const policyConfig = new analyzerproto.PolicyConfig();
        policyConfig.setEnforcementlevel(protoutil.mapEnforcementLevel(entry.enforcementLevel) as never);
        policyConfig.setProperties(struct(entry.properties));
        map.set(name, policyConfig);
      }
      await invoke(server.configure, request);
    },
    async analyze(resource) {
      const request = new analyzerproto.AnalyzeRequest();
      request.setType(resource.type);
      request.setProperties(struct(resource.inputs));
      request.setUrn(resource.urn);
      request.setName(resource.name);
      request.setOptions(resourceOptions(resource));
      const provider = providerResource(resource);
      if (provider) request.setProvider(provider);
      return diagnostics(await invoke<AnalyzerProto.AnalyzeResponse>(analyzeRpc, request));
    },
    async analyzeStack(resources) {
      const request = new analyzerproto.AnalyzeStackRequest();
      request.setResourcesList(
        resources.map((resource) => {
          const entry = new analyzerproto.AnalyzerResource();
          entry.setType(resource.type);
          entry.setProperties(struct(resource.outputs));
          entry.setUrn(resource.urn);
          entry.setName(resource.name);
          entry.setOptions(resourceOptions(resource));
          const provider = providerResource(resource);
          if (provider) entry.setProvider(provider);
          if (resource.parent !== undefined) entry.setParent(resource.parent);
          entry.setDependenciesList([...resource.dependencies]);
          const dependencies = entry.getPropertydependenciesMap();
          for (const [key, urns] of Object.entries(resource.propertyDependencies)) {
            const value = new analyzerproto.AnalyzerPropertyDependencies();
            value.setUrnsList([...urns]);
            dependencies.set(key, value);
          }
          return entry;
        }),
      );
      return diagnostics(await invoke<AnalyzerProto.AnalyzeResponse>(analyzeStackRpc, request));
    },
  };
}
