/**
 * Runs the Pulumi program with no engine, no cloud and no credentials: Pulumi's own mock runtime
 * (`pulumi.runtime.setMocks`), observed through tools/shared/pulumi-adapter.ts so every registration
 * is recorded as the engine would see it (type, name, parent, inputs with secrets still marked,
 * resource options, property dependencies). Provider functions are answered offline: the
 * permission-group lookups from the bundled catalog; anything else throws, so a new invoke cannot
 * slip in unnoticed.
 */
import { createHash } from "node:crypto";

import * as pulumi from "@pulumi/pulumi";

import { PERMISSION_GROUPS } from "../../policies/lib/permission-catalog";
import { isTokenType } from "../../policies/lib/resource-types";
import { ACCOUNT_PREFIX, USER_PREFIX, ZONE_PREFIX } from "../../policies/lib/resources";
import { observeRegistrations, outputState, waitForRegistrations } from "./pulumi-adapter";
import { structJavaScript } from "./struct-javascript";

export const PERMISSION_LOOKUP_TOKENS = [
  "cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList",
  "cloudflare:index/getAccountApiTokenPermissionGroupsList:getAccountApiTokenPermissionGroupsList",
] as const;

/** The type prefix of provider resources (`pulumi:providers:<package>`). */
export const PROVIDER_TYPE_PREFIX = "pulumi:providers:";

/** The provider's URN in a registration's provider reference (`<urn>::<id>`). */
export const providerUrnOf = (reference: string): string => reference.slice(0, reference.lastIndexOf("::"));

/** A resource registration as the engine receives it. */
export interface RegisteredResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly parent: string | undefined;
  /** Inputs; secret values stay wrapped as Pulumi's RPC secret objects (see isRpcSecret). */
  readonly inputs: Record<string, unknown>;
  readonly deleteBeforeReplace: boolean;
  readonly replaceOnChanges: string[];
  readonly additionalSecretOutputs: string[];
  readonly dependencies: string[];
  readonly propertyDependencies: Record<string, string[]>;
  readonly provider: string | undefined;
  /**
   * Inputs exactly as serialized on the wire (secrets as signature objects), for the policy analyzer:
   * the request Struct's own JavaScript form, which the analyzer freezes in place (read-only after).
   */
  readonly serializedInputs: Record<string, unknown>;
  /** Version of the resource's package (names the engine's default provider, e.g. default_6_22_1). */
  readonly version: string;
  readonly protect: boolean;
  readonly ignoreChanges: string[];
  readonly aliasUrns: string[];
}

export interface RecordedInvoke {
  readonly token: string;
  readonly inputs: Record<string, unknown>;
}

/** A catalog scope as the lookup names it: the resource-string prefix without its final dot. */
const CATALOG_SCOPE: Record<string, string> = {
  account: ACCOUNT_PREFIX.slice(0, -1),
  zone: ZONE_PREFIX.slice(0, -1),
  user: USER_PREFIX.slice(0, -1),
};

/** Deterministic fake ids and generated values, so repeated runs produce identical plans. */
function fakeId(type: string, name: string): string {
  return createHash("sha256").update(`${type}::${name}`).digest("hex").slice(0, 32);
}

/** A permission-group row as the provider's lookup returns it. */
export interface LookupRow {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
}

/** The offline answer to the permission-group lookups: the bundled catalog. */
export function catalogLookupRows(): LookupRow[] {
  return PERMISSION_GROUPS.map((group) => ({
    id: group.id,
    name: group.name,
    scopes: [CATALOG_SCOPE[group.scope]!],
  }));
}

export class OfflineMocks implements pulumi.runtime.Mocks {
  readonly invokes: RecordedInvoke[] = [];

  /** @param lookupRows what the permission-group lookups answer (default: the bundled catalog). */
  constructor(private readonly lookupRows: readonly LookupRow[] = catalogLookupRows()) {}

  newResource(args: pulumi.runtime.MockResourceArgs): {
    id: string | undefined;
    state: Record<string, unknown>;
  } {
    const state: Record<string, unknown> = { ...args.inputs };
    const id = fakeId(args.type, args.name);
    if (isTokenType(args.type)) {
      // A stand-in value; additionalSecretOutputs is not applied by mocks, so mark it here.
      state.value = pulumi.secret(`offline-token-${id}`);
      state.status = "active";
    } else if (args.type === "random:index/randomId:RandomId") {
      const keepers = JSON.stringify(args.inputs.keepers ?? {});
      const hex = createHash("sha256").update(`${args.name}::${keepers}`).digest("hex");
      state.hex = hex.slice(0, 2 * Number(args.inputs.byteLength ?? 4));
      state.b64Url = Buffer.from(String(state.hex), "hex").toString("base64url");
    }
    return { id: args.custom ? id : undefined, state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    this.invokes.push({ token: args.token, inputs: args.inputs });
    if ((PERMISSION_LOOKUP_TOKENS as readonly string[]).includes(args.token)) {
      return {
        ...args.inputs,
        results: this.lookupRows.map((row) => ({ ...row, category: "offline", isSelectable: true })),
      };
    }
    throw new Error(`offline runtime: no offline answer for invoke ${args.token}`);
  }
}

export interface OfflineRuntime {
  readonly mocks: OfflineMocks;
  readonly resources: RegisteredResource[];
  /**
   * Each resource's outputs as the engine would hold them after the run, serialized (secrets as
   * signature objects): the mocks' state for custom resources, registerOutputs for components.
   */
  outputs(): Map<string, Record<string, unknown>>;
}

export interface OfflineRuntimeOptions {
  readonly project: string;
  readonly stack: string;
  /** Config map as the CLI passes it (`project:key` -> string). */
  readonly config: Record<string, string>;
  readonly secretKeys: readonly string[];
  /** Run as a preview (`pulumi preview`) rather than an update. */
  readonly preview?: boolean;
  /** What the permission-group lookups answer (default: the bundled catalog). */
  readonly lookupRows?: readonly LookupRow[];
}

/** Installs the mock runtime and config; returns what it records. Call before importing the program. */
export async function startOfflineRuntime(options: OfflineRuntimeOptions): Promise<OfflineRuntime> {
  const mocks = new OfflineMocks(options.lookupRows);
  const resources: RegisteredResource[] = [];
  await pulumi.runtime.setMocks(mocks, options.project, options.stack, options.preview ?? false);
  pulumi.runtime.setAllConfig(options.config, [...options.secretKeys]);

  const monitor = observeRegistrations((request) => {
    const propertyDependencies: Record<string, string[]> = {};
    request.getPropertydependenciesMap().forEach((value, key) => {
      propertyDependencies[key] = value.getUrnsList();
    });
    const object = request.getObject();
    let inputs: Record<string, unknown> | undefined;
    resources.push({
      urn: monitor.urnOf(request),
      type: request.getType(),
      name: request.getName(),
      custom: request.getCustom(),
      parent: request.getParent() || undefined,
      // Deserialized only when read: the plan works on the wire form alone.
      get inputs() {
        return (inputs ??= object
          ? (pulumi.runtime.deserializeProperties(object as never) as Record<string, unknown>)
          : {});
      },
      deleteBeforeReplace: request.getDeletebeforereplace(),
      replaceOnChanges: request.getReplaceonchangesList(),
      additionalSecretOutputs: request.getAdditionalsecretoutputsList(),
      dependencies: request.getDependenciesList(),
      propertyDependencies,
      provider: request.getProvider() || undefined,
      serializedInputs: object ? structJavaScript(object) : {},
      version: request.getVersion(),
      protect: request.getProtect() ?? false,
      ignoreChanges: request.getIgnorechangesList(),
      aliasUrns: request.getAliasurnsList(),
    });
  });
  const outputs = () => monitor.states();
  return { mocks, resources, outputs };
}

/** What an unknown value (e.g. an id during preview) resolves to. */
export const UNKNOWN = "[unknown]";

/** Resolves every Output (deeply) in a program's returned outputs, keeping secrecy visible. */
export async function resolveOutputs(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    const { value: inner, known, secret } = await outputState(value as pulumi.Output<unknown>);
    const resolved = known ? await resolveOutputs(inner) : UNKNOWN;
    return secret ? { secret: true, value: resolved } : resolved;
  }
  if (Array.isArray(value)) return Promise.all(value.map(resolveOutputs));
  if (value !== null && typeof value === "object") {
    const entries = await Promise.all(
      Object.entries(value as Record<string, unknown>).map(async ([key, inner]) => [
        key,
        await resolveOutputs(inner),
      ]),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/**
 * Runs `program` (a Pulumi program's exported function) inside a root Stack, as the CLI does, waits
 * for every registration, and returns its outputs resolved: all of them, or only the keys in `only`
 * (the Stack itself has awaited every output by then, so a failing one still fails the run). Throws
 * what the program throws.
 */
export async function runProgram(
  program: () => Promise<Record<string, unknown>>,
  only?: readonly string[],
): Promise<Record<string, unknown>> {
  let outputs: Record<string, unknown> = {};
  let failure: unknown;
  await pulumi.runtime.runInPulumiStack(async () => {
    try {
      outputs = await program();
    } catch (error) {
      failure = error;
    }
    return outputs;
  });
  await waitForRegistrations();
  if (failure !== undefined) throw failure;
  const wanted =
    only === undefined
      ? outputs
      : Object.fromEntries(only.filter((key) => key in outputs).map((key) => [key, outputs[key]]));
  return (await resolveOutputs(wanted)) as Record<string, unknown>;
}
