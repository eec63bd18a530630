/**
 * The typed floor of npm run bench: what the SDKs alone cost to send the engine exactly what the
 * plan's program sent. Every registration is replayed through its provider package's own class
 * (`cloudflare:index/workersScript:WorkersScript` -> `require("@pulumi/cloudflare").WorkersScript`,
 * `pulumi:providers:github` -> `require("@pulumi/github").Provider`) with the same name, inputs,
 * parent, explicit provider, resource options and dependencies; every component's and the stack's
 * outputs are registered again, and every provider function the program invoked is invoked again
 * through its package's own function, with the same arguments. No project code runs (no config,
 * validation, derivation, components' logic or policies). tests/bench/typed-floor.test.ts checks
 * that the engine receives the same traffic from the replay as from the plan.
 */
import * as pulumi from "@pulumi/pulumi";
import type { CustomResourceOptions, Inputs, Resource } from "@pulumi/pulumi";
import { rootPulumiStackTypeName } from "@pulumi/pulumi/runtime/stack";

import { SECRET_SIG, SIG_KEY } from "../plan/mask";
import {
  PROVIDER_TYPE_PREFIX,
  providerUrnOf,
  type RecordedInvoke,
  type RegisteredResource,
} from "../shared/offline-runtime";

type ResourceClass = new (name: string, args: Inputs, opts: CustomResourceOptions) => Resource;
type ProviderFunction = (args: Inputs) => Promise<unknown>;

/**
 * The class of each custom resource type among `registrations`, looked up once, before timing (as
 * the program's modules are loaded once): the provider package's class where there is one,
 * otherwise (a dynamic resource: `pulumi-nodejs:dynamic:Resource`) the SDK's own CustomResource
 * under that type, which is what the SDK's dynamic.Resource registers.
 */
export async function floorClasses(
  registrations: readonly RegisteredResource[],
): Promise<Map<string, ResourceClass>> {
  const classes = new Map<string, ResourceClass>();
  for (const { type, custom } of registrations) {
    if (!custom || classes.has(type)) continue;
    const [pkg, name] = type.startsWith(PROVIDER_TYPE_PREFIX)
      ? [type.slice(PROVIDER_TYPE_PREFIX.length), "Provider"]
      : [type.split(":")[0]!, type.split(":")[2]!];
    const sdk = (await import(`@pulumi/${pkg}`).catch(() => ({}))) as Record<string, ResourceClass>;
    classes.set(
      type,
      sdk[name] ??
        (class extends pulumi.CustomResource {
          constructor(resourceName: string, args: Inputs, opts: CustomResourceOptions) {
            super(type, resourceName, args, opts);
          }
        } as ResourceClass),
    );
  }
  return classes;
}

/**
 * The function of each invoke token among `invokes`, looked up once, before timing: the provider
 * package's own (`cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList`
 * -> `require("@pulumi/cloudflare").getApiTokenPermissionGroupsList`).
 */
export async function floorFunctions(
  invokes: readonly RecordedInvoke[],
): Promise<Map<string, ProviderFunction>> {
  const functions = new Map<string, ProviderFunction>();
  for (const { token } of invokes) {
    if (functions.has(token)) continue;
    const [pkg, , name] = token.split(":");
    const sdk = (await import(`@pulumi/${pkg}`)) as Record<string, unknown>;
    const fn = sdk[name!];
    if (typeof fn !== "function") throw new Error(`typed floor: @pulumi/${pkg} has no function ${name}`);
    functions.set(token, fn as ProviderFunction);
  }
  return functions;
}

/** A component of the program, replayed: registered as the program's was, outputs last. */
class ReplayedComponent extends pulumi.ComponentResource {
  finish(outputs: Record<string, unknown>): void {
    this.registerOutputs(outputs);
  }
}

/** A deserialized input as a program passes it: each secret as `pulumi.secret` of its value. */
function asProgramInput(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asProgramInput);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (record[SIG_KEY] === SECRET_SIG) return pulumi.secret(asProgramInput(record["value"]));
  return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, asProgramInput(inner)]));
}

/** What the replay sends: the plan's traffic and the SDK classes and functions to send it with. */
export interface FloorTraffic {
  readonly registrations: readonly RegisteredResource[];
  /** urn -> outputs as the engine held them after the plan. */
  readonly outputs: ReadonlyMap<string, Record<string, unknown>>;
  /** The program's invokes, in order (it awaits them before it registers anything). */
  readonly invokes: readonly RecordedInvoke[];
  readonly classes: ReadonlyMap<string, ResourceClass>;
  readonly functions: ReadonlyMap<string, ProviderFunction>;
}

/**
 * The replay as a Pulumi program for runProgram: invokes each of `invokes` and awaits them, then
 * registers `registrations` and each component's outputs, and returns the stack's outputs. Inputs
 * whose values came from other resources are passed as Outputs of those resources (the property
 * dependencies the engine saw); any other dependency as `dependsOn`.
 */
export function replayProgram(traffic: FloorTraffic): () => Promise<Record<string, unknown>> {
  const { registrations, outputs, invokes, classes, functions } = traffic;
  return async () => {
    for (const { token, inputs } of invokes) await functions.get(token)!(inputs);
    const byUrn = new Map<string, Resource>();
    const resourceOf = (urn: string) => {
      const resource = byUrn.get(urn);
      if (resource === undefined) throw new Error(`typed floor: ${urn} is used before it is registered`);
      return resource;
    };
    const components: [ReplayedComponent, Record<string, unknown>][] = [];
    let stackUrn: string | undefined;
    for (const registration of registrations) {
      // The root Stack is runProgram's own; everything is registered under it.
      if (registration.type === rootPulumiStackTypeName) {
        stackUrn = registration.urn;
        continue;
      }
      const inputs = asProgramInput(registration.inputs) as Record<string, unknown>;
      const viaInputs = new Set<string>();
      for (const [key, urns] of Object.entries(registration.propertyDependencies)) {
        if (urns.length === 0 || !(key in inputs)) continue;
        const value = inputs[key];
        for (const urn of urns) viaInputs.add(urn);
        inputs[key] = pulumi.all(urns.map((urn) => resourceOf(urn).urn)).apply(() => value);
      }
      const dependsOn = registration.dependencies.filter((urn) => !viaInputs.has(urn)).map(resourceOf);
      const opts: CustomResourceOptions = {
        // Under the root Stack: no parent option, as in the program.
        ...(registration.parent === undefined || registration.parent === stackUrn
          ? {}
          : { parent: resourceOf(registration.parent) }),
        ...(registration.provider === undefined
          ? {}
          : { provider: resourceOf(providerUrnOf(registration.provider)) as pulumi.ProviderResource }),
        ...(dependsOn.length === 0 ? {} : { dependsOn }),
        ...(registration.ignoreChanges.length === 0 ? {} : { ignoreChanges: registration.ignoreChanges }),
        ...(registration.replaceOnChanges.length === 0
          ? {}
          : { replaceOnChanges: registration.replaceOnChanges }),
        // The class adds its own secret outputs again; the engine reads the list as a set.
        ...(registration.additionalSecretOutputs.length === 0
          ? {}
          : { additionalSecretOutputs: [...new Set(registration.additionalSecretOutputs)] }),
        ...(registration.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
        ...(registration.protect ? { protect: true } : {}),
        ...(registration.aliasUrns.length === 0 ? {} : { aliases: registration.aliasUrns }),
      };
      const Class = classes.get(registration.type);
      if (Class === undefined) {
        const component = new ReplayedComponent(registration.type, registration.name, {}, opts);
        components.push([component, outputs.get(registration.urn) ?? {}]);
        byUrn.set(registration.urn, component);
      } else {
        byUrn.set(registration.urn, new Class(registration.name, inputs, opts));
      }
    }
    for (const [component, registered] of components) component.finish(registered);
    return stackUrn === undefined ? {} : (outputs.get(stackUrn) ?? {});
  };
}
