/**
 * Comparing the grants a token actually carries with the grants its stack needs (the program's
 * derivation, policies/lib/derive.ts). Pure.
 *
 * - Missing: a needed grant that no effective allow grant covers. A grant covers a need when it is
 *   the same permission (or its Write counterpart: Write includes Read) on the same resource, or on
 *   a wildcard / user resource that includes it. A deny grant that covers the need removes it.
 * - Excess: an effective allow grant that is not exactly a needed or allowed-extra grant. A Read
 *   grant is not excess when the same resource needs (or may have) the matching Write, which
 *   includes it. Wildcards are always excess: they reach beyond the stack.
 */
import type { DerivedGrant, Grant } from "./derive";
import { permissionByName } from "./permission-catalog";
import { accountResource, isWildcard, type TokenResource, ZONE_PREFIX } from "./resources";
import type { TokenGrant } from "./token";

/** "Zone Write" for "Zone Read" when the catalog knows both; undefined otherwise. */
export function writeCounterpart(permission: string): string | undefined {
  if (!permission.endsWith(" Read")) return undefined;
  return permissionByName(`${permission.slice(0, -" Read".length)} Write`)?.name;
}

/** How a token resource reads in a message. */
export function describeResource(resource: TokenResource): string {
  return resource.parentAccountId === undefined
    ? resource.key
    : `${resource.key} under ${accountResource(resource.parentAccountId)}`;
}

function resourceCovers(resource: TokenResource, needed: string): boolean {
  if (!isWildcard(resource) && resource.kind !== "user") return resource.key === needed;
  const neededIsZone = needed.startsWith(ZONE_PREFIX);
  switch (resource.kind) {
    case "user":
      return true; // account or zone permissions on a user: every account / zone the user can reach
    case "account":
      return !neededIsZone;
    case "zone":
      return neededIsZone;
    default:
      return false;
  }
}

function grantCovers(grant: TokenGrant, needed: Grant, writeIncludesRead = true): boolean {
  const samePermission =
    grant.permission === needed.permission ||
    (writeIncludesRead && grant.permission === writeCounterpart(needed.permission));
  return samePermission && resourceCovers(grant.resource, needed.resource);
}

function asGrant(grant: TokenGrant): Grant | undefined {
  // Only concrete resources can be denied exactly; a wildcard allow stays (partly) effective.
  return isWildcard(grant.resource) || grant.resource.kind === "user"
    ? undefined
    : { permission: grant.permission, resource: grant.resource.key };
}

export interface GrantComparison {
  /** Effective allow grants beyond what the stack needs or the config allows. */
  readonly excess: readonly TokenGrant[];
  /** Needed grants the token does not carry. */
  readonly missing: readonly DerivedGrant[];
}

/** Grants indexed for coverage checks: concrete ones by resource key, the rest scanned. */
class GrantIndex {
  private readonly byResource = new Map<string, TokenGrant[]>();
  private readonly broad: TokenGrant[] = [];

  constructor(grants: readonly TokenGrant[]) {
    for (const grant of grants) {
      if (isWildcard(grant.resource) || grant.resource.kind === "user") {
        this.broad.push(grant);
      } else {
        const list = this.byResource.get(grant.resource.key) ?? [];
        list.push(grant);
        this.byResource.set(grant.resource.key, list);
      }
    }
  }

  /** Whether any grant covers `needed` (a concrete grant only covers its own resource key). */
  covers(needed: Grant, writeIncludesRead: boolean): boolean {
    const concrete = this.byResource.get(needed.resource) ?? [];
    return (
      concrete.some((grant) => grantCovers(grant, needed, writeIncludesRead)) ||
      this.broad.some((grant) => grantCovers(grant, needed, writeIncludesRead))
    );
  }
}

export function compareGrants(
  actual: readonly TokenGrant[],
  needed: readonly DerivedGrant[],
  allowedExtra: readonly Grant[] = [],
): GrantComparison {
  // Indexed by resource: a 1,000-zone token has thousands of grants, and pairwise checks were
  // the bulk of the plan's policy time.
  const denies = new GrantIndex(actual.filter((grant) => grant.effect === "deny"));
  const effective = actual.filter((grant) => {
    if (grant.effect !== "allow") return false;
    const concrete = asGrant(grant);
    return concrete === undefined || !denies.covers(concrete, false);
  });
  const effectiveIndex = new GrantIndex(effective);
  const permitted = new Set([...needed, ...allowedExtra].map((g) => `${g.permission}\u0000${g.resource}`));
  const isPermitted = (permission: string, resource: string) =>
    permitted.has(`${permission}\u0000${resource}`);
  const excess = effective.filter((grant) => {
    if (isWildcard(grant.resource) || grant.resource.kind === "user") return true;
    const resource = grant.resource.key;
    if (isPermitted(grant.permission, resource)) return false;
    const write = writeCounterpart(grant.permission);
    return !(write !== undefined && isPermitted(write, resource));
  });
  const missing = needed.filter((need) => !effectiveIndex.covers(need, true) || denies.covers(need, false));
  return { excess, missing };
}

/** "Zone Write on a, b; DNS Write on c" for token grants (one phrase per permission, sorted). */
export function describeTokenGrants(grants: readonly TokenGrant[]): string {
  const byPermission = new Map<string, Set<string>>();
  for (const grant of grants) {
    const set = byPermission.get(grant.permission) ?? new Set<string>();
    set.add(describeResource(grant.resource));
    byPermission.set(grant.permission, set);
  }
  return [...byPermission.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([permission, resources]) => `${permission} on ${[...resources].sort().join(", ")}`)
    .join("; ");
}
