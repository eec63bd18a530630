/**
 * Least-privilege derivation: which permissions a deploy token needs, derived from what the deploy
 * pipeline manages. The program builds its token from this; the policy pack checks tokens against
 * it. Pure: no Pulumi, no I/O.
 */
import { permissionByName } from "./permission-catalog";
import { accountResource, zoneResource } from "./resources";

/** What the deploy pipeline (wrangler in CI) manages for one stack. */
export interface DeploymentFootprint {
  readonly accountId: string;
  readonly workerScripts: number;
  readonly kvNamespaces: number;
  readonly r2Buckets: number;
  /** Zones the Worker has routes on. */
  readonly routeZoneIds: readonly string[];
  /** Zones with custom hostnames (Cloudflare for SaaS). */
  readonly customHostnameZoneIds: readonly string[];
}

/** One permission on one resource string. */
export interface Grant {
  readonly permission: string;
  readonly resource: string;
}

export interface DerivedGrant extends Grant {
  /** Why the stack needs it, in words a reviewer understands. */
  readonly reason: string;
  /** True when it comes from `extraPermissions` rather than the derivation. */
  readonly addedByHand: boolean;
}

export class DerivationError extends Error {
  override readonly name = "DerivationError";
}

const uniqueSorted = (values: readonly string[]): string[] => [...new Set(values)].sort();

/**
 * The exact grant set a deploy token needs for `footprint`, plus `extraPermissions` added on purpose
 * (account-scoped ones on the account, zone-scoped ones on every zone of the stack).
 */
export function deriveGrants(
  footprint: DeploymentFootprint,
  extraPermissions: readonly string[] = [],
): DerivedGrant[] {
  const account = accountResource(footprint.accountId);
  const routeZones = uniqueSorted(footprint.routeZoneIds).map(zoneResource);
  const hostnameZones = uniqueSorted(footprint.customHostnameZoneIds).map(zoneResource);
  const grants: DerivedGrant[] = [];
  const add = (permission: string, resources: readonly string[], reason: string, addedByHand = false) => {
    for (const resource of resources) grants.push({ permission, resource, reason, addedByHand });
  };

  // wrangler reads account settings on every deploy (`wrangler deploy` fails without it).
  add("Account Settings Read", [account], "wrangler reads the account's settings on every deploy");
  if (footprint.workerScripts > 0) {
    add("Workers Scripts Write", [account], "uploads the Worker script (account scope only)");
  }
  if (footprint.kvNamespaces > 0) {
    add("Workers KV Storage Write", [account], "manages the Worker's KV namespace");
  }
  if (footprint.r2Buckets > 0) {
    add("Workers R2 Storage Write", [account], "manages the Worker's R2 bucket");
  }
  add("Workers Routes Write", routeZones, "attaches the Worker's routes on this zone");
  add("Zone Read", routeZones, "resolves the zone its routes belong to");
  add(
    "SSL and Certificates Write",
    hostnameZones,
    "manages custom hostnames (Cloudflare for SaaS) on this zone",
  );

  const stackZones = uniqueSorted([...routeZones, ...hostnameZones]);
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
      throw new DerivationError(`"${group.name}" is zone-scoped but the stack deploys to no zone`);
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
    byPermission.set(grant.permission, [...(byPermission.get(grant.permission) ?? []), grant.resource]);
  }
  return [...byPermission.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([permission, resources]) => `${permission} on ${resources.sort().join(", ")}`)
    .join("; ");
}
