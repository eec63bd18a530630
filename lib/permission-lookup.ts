/**
 * Resolving permission names to the ids Cloudflare's permission-group lookup returns. Pure: the
 * program passes in the lookup's results (one invoke per stack), tests pass fixtures.
 */
import { closestNames, permissionByName, type PermissionScope } from "../policies/lib/permission-catalog";
import { ACCOUNT_PREFIX, USER_PREFIX, ZONE_PREFIX } from "../policies/lib/resources";

/** One row of getApiTokenPermissionGroupsList / getAccountApiTokenPermissionGroupsList. */
export interface PermissionGroupRow {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
}

export class UnknownPermissionError extends Error {
  override readonly name = "UnknownPermissionError";
}

/** Cloudflare's scope keys are the resource-string prefixes without their trailing dot. */
const SCOPE_PREFIX: Record<PermissionScope, string> = {
  account: ACCOUNT_PREFIX.slice(0, -1),
  zone: ZONE_PREFIX.slice(0, -1),
  user: USER_PREFIX.slice(0, -1),
};

/**
 * Maps each name to its id in `rows`. Where Cloudflare lists a name more than once (one per scope),
 * the row whose scope matches the group's known scope wins. Throws, naming the closest known names,
 * when a name is not in the lookup.
 */
export function resolvePermissionIds(
  names: readonly string[],
  rows: readonly PermissionGroupRow[],
): Map<string, string> {
  const resolved = new Map<string, string>();
  const missing: string[] = [];
  for (const name of names) {
    const candidates = rows.filter((row) => row.name.toLowerCase() === name.toLowerCase());
    const scope = permissionByName(name)?.scope;
    const preferred =
      scope === undefined ? undefined : candidates.find((row) => row.scopes.includes(SCOPE_PREFIX[scope]));
    const row = preferred ?? candidates[0];
    if (row) resolved.set(name, row.id);
    else missing.push(name);
  }
  if (missing.length > 0) {
    const known = [...new Set(rows.map((row) => row.name))];
    throw new UnknownPermissionError(
      missing
        .map(
          (name) =>
            `Cloudflare's permission-group lookup has no "${name}"; closest known: ${closestNames(name, known).join(", ")}`,
        )
        .join("\n"),
    );
  }
  return resolved;
}
