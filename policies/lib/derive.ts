/**
 * Least-privilege derivation, call by call: a deploy token holds, for each Cloudflare API call the
 * application's deploy makes (deploy-calls.ts), a permission group Cloudflare accepts for it, on the
 * resource the call touches, and nothing else. The program builds its token from this; the policy
 * pack checks tokens against it. Pure: no Pulumi, no I/O.
 */
import { DEPLOY_CALLS, describeCall, type CallFlow, type DeployCall } from "./deploy-calls";
import { permissionByName } from "./permission-catalog";
import { accountResource, zoneResource } from "./resources";

/** What the application's deploy (wrangler in CI, under the deploy contract) does for one stack. */
export interface DeploymentFootprint {
  readonly accountId: string;
  /** Whether CI deploys the Worker's code (codeDeployedBy: ci). False: no deploy token at all. */
  readonly deploysCode: boolean;
  /** `kv_namespaces` bindings without an id in the app's wrangler config: wrangler creates them. */
  readonly kvNamespacesToCreate: number;
  /** Zones of the routes in the app's wrangler config (routesDeployedBy: ci). */
  readonly routeZoneIds: readonly string[];
  /** Zones of routes without `zone_id`, which wrangler looks up by name (never under the contract). */
  readonly zoneLookupZoneIds: readonly string[];
}

/** The footprint of a stack whose app deploys nothing: no calls, no grants. */
export function noDeployFootprint(accountId: string): DeploymentFootprint {
  return { accountId, deploysCode: false, kvNamespacesToCreate: 0, routeZoneIds: [], zoneLookupZoneIds: [] };
}

/** The parts of a wrangler config (JSON form) that decide which calls `wrangler deploy` makes. */
export interface WranglerConfigShape {
  readonly account_id: string;
  readonly kv_namespaces?: readonly { readonly binding: string; readonly id?: string }[];
  readonly routes?: readonly (string | { readonly pattern: string; readonly zone_id?: string })[];
}

/**
 * The footprint of an app deploying with `wrangler` (deploy, secret put, secret bulk) and this wrangler
 * config. A route without `zone_id` is an error: wrangler would look its zone up by name, and which
 * zone that is cannot be known offline (the contract always names it).
 */
export function footprintOfWranglerConfig(config: WranglerConfigShape): DeploymentFootprint {
  const routeZoneIds: string[] = [];
  for (const route of config.routes ?? []) {
    const zoneId = typeof route === "string" ? undefined : route.zone_id;
    if (zoneId === undefined || zoneId === "") {
      const pattern = typeof route === "string" ? route : route.pattern;
      throw new DerivationError(
        `route "${pattern}" has no zone_id: wrangler would need Zone Read to look its zone up; give it a zone_id`,
      );
    }
    routeZoneIds.push(zoneId);
  }
  return {
    accountId: config.account_id,
    deploysCode: true,
    kvNamespacesToCreate: (config.kv_namespaces ?? []).filter((kv) => kv.id === undefined || kv.id === "")
      .length,
    routeZoneIds: uniqueSorted(routeZoneIds),
    zoneLookupZoneIds: [],
  };
}

/** One permission on one resource string. */
export interface Grant {
  readonly permission: string;
  readonly resource: string;
}

export interface DerivedGrant extends Grant {
  /** The API call that needs it (method, path, which command), in words a reviewer understands. */
  readonly reason: string;
  /** True when it comes from `extraPermissions` rather than the derivation. */
  readonly addedByHand: boolean;
}

export class DerivationError extends Error {
  override readonly name = "DerivationError";
}

const uniqueSorted = (values: readonly string[]): string[] => [...new Set(values)].sort();

/** The flows of the app's deploy that `footprint` makes, each with the zones its zone calls touch. */
function activeFlows(footprint: DeploymentFootprint): Map<CallFlow, string[]> {
  const flows = new Map<CallFlow, string[]>();
  if (!footprint.deploysCode) return flows;
  flows.set("script", []);
  if (footprint.kvNamespacesToCreate > 0) flows.set("kv-create", []);
  if (footprint.routeZoneIds.length > 0) flows.set("routes", uniqueSorted(footprint.routeZoneIds));
  if (footprint.zoneLookupZoneIds.length > 0) {
    flows.set("route-zone-lookup", uniqueSorted(footprint.zoneLookupZoneIds));
  }
  return flows;
}

/** The calls the app's deploy makes for `footprint`, in table order. */
export function callsFor(footprint: DeploymentFootprint): DeployCall[] {
  const flows = activeFlows(footprint);
  return DEPLOY_CALLS.filter((call) => flows.has(call.flow));
}

/**
 * The exact grant set a deploy token needs for `footprint`: for each call the deploy makes, the group
 * the table grants for it, on the account or on each zone the call touches; plus `extraPermissions`
 * added on purpose (account-scoped ones on the account, zone-scoped ones on every zone of the deploy).
 * Empty when the app deploys nothing (codeDeployedBy: pulumi): no token exists then.
 */
export function deriveGrants(
  footprint: DeploymentFootprint,
  extraPermissions: readonly string[] = [],
): DerivedGrant[] {
  if (!footprint.deploysCode) return [];
  const account = accountResource(footprint.accountId);
  const flows = activeFlows(footprint);
  const calls = callsFor(footprint);
  const grants: DerivedGrant[] = [];
  const add = (permission: string, resources: readonly string[], reason: string, addedByHand = false) => {
    for (const resource of resources) grants.push({ permission, resource, reason, addedByHand });
  };

  for (const call of calls) {
    if (call.grant === undefined) continue;
    const resources =
      call.resource === "account" ? [account] : (flows.get(call.flow) ?? []).map(zoneResource);
    const others = calls.filter((other) => other !== call && other.grant === call.grant).length;
    const more =
      others === 0 ? "" : `, and ${others} more call${others === 1 ? "" : "s"} (docs/DEPLOY-CONTRACT.md)`;
    add(call.grant, resources, `${describeCall(call)}${more}`);
  }

  const stackZones = uniqueSorted([...footprint.routeZoneIds, ...footprint.zoneLookupZoneIds]).map(
    zoneResource,
  );
  for (const name of extraPermissions) {
    const group = permissionByName(name);
    if (!group) throw new DerivationError(`unknown permission "${name}"`);
    if (group.scope === "user") {
      throw new DerivationError(
        `"${group.name}" is a user-level permission: a deploy token scoped to an account and its zones cannot carry it`,
      );
    }
    const targets = group.scope === "account" ? [account] : stackZones;
    if (targets.length === 0) {
      throw new DerivationError(`"${group.name}" is zone-scoped but the app's deploy touches no zone`);
    }
    add(group.name, targets, "added on purpose (extraPermissions)", true);
  }
  return dedupe(grants);
}

function grantKey(grant: Grant): string {
  return `${grant.permission}\u0000${grant.resource}`;
}

/** Keeps the first of each (permission, resource) pair; derived grants come before hand-added ones. */
function dedupe<T extends Grant>(grants: readonly T[]): T[] {
  const seen = new Map<string, T>();
  for (const grant of grants) if (!seen.has(grantKey(grant))) seen.set(grantKey(grant), grant);
  return [...seen.values()].sort(
    (a, b) => a.resource.localeCompare(b.resource) || a.permission.localeCompare(b.permission),
  );
}

/** A token policy in names: the permission groups and the resource strings they apply to. */
export interface PolicySpec {
  readonly permissions: readonly string[];
  readonly resources: readonly string[];
}

/**
 * Groups grants into as few token policies as possible: permissions that apply to the same set of
 * resources share a policy. Deterministic order (account policy first, then zone policies).
 */
export function grantsToPolicies(grants: readonly Grant[]): PolicySpec[] {
  const resourcesByPermission = new Map<string, Set<string>>();
  for (const grant of grants) {
    const set = resourcesByPermission.get(grant.permission) ?? new Set<string>();
    set.add(grant.resource);
    resourcesByPermission.set(grant.permission, set);
  }
  const permissionsByResourceSet = new Map<string, { resources: string[]; permissions: string[] }>();
  for (const [permission, resourceSet] of resourcesByPermission) {
    const resources = [...resourceSet].sort();
    const key = resources.join(",");
    const entry = permissionsByResourceSet.get(key) ?? { resources, permissions: [] };
    entry.permissions.push(permission);
    permissionsByResourceSet.set(key, entry);
  }
  return [...permissionsByResourceSet.values()]
    .map((entry) => ({ permissions: entry.permissions.sort(), resources: entry.resources }))
    .sort((a, b) => a.resources.join(",").localeCompare(b.resources.join(",")));
}

/** Grants that are in `actual` but not `expected` (excess) and the other way round (missing). */
export function diffGrants(
  actual: readonly Grant[],
  expected: readonly Grant[],
): { excess: Grant[]; missing: Grant[] } {
  const actualKeys = new Set(actual.map(grantKey));
  const expectedKeys = new Set(expected.map(grantKey));
  return {
    excess: dedupe(actual.filter((grant) => !expectedKeys.has(grantKey(grant)))),
    missing: dedupe(expected.filter((grant) => !actualKeys.has(grantKey(grant)))),
  };
}

/** "Workers Routes Write on com.cloudflare.api.account.zone.a, …" — one phrase per permission. */
export function describeGrants(grants: readonly Grant[]): string {
  const byPermission = new Map<string, string[]>();
  for (const grant of grants) {
    const resources = byPermission.get(grant.permission);
    if (resources === undefined) byPermission.set(grant.permission, [grant.resource]);
    else resources.push(grant.resource);
  }
  return [...byPermission.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([permission, resources]) => `${permission} on ${resources.sort().join(", ")}`)
    .join("; ");
}
