/**
 * Cloudflare token resource strings: building them and reading them back.
 *
 * A token policy's `resources` is a JSON string since @pulumi/cloudflare 6.12
 * (`'{"com.cloudflare.api.account.<id>":"*"}'`); older stacks carry the same thing as a map. Both
 * are accepted here. Nested objects express "all zones of one account":
 * `{"com.cloudflare.api.account.<id>": {"com.cloudflare.api.account.zone.*": "*"}}`.
 */

/** The resource-string prefixes Cloudflare's token API uses; every other module builds on these. */
export const ACCOUNT_PREFIX = "com.cloudflare.api.account.";
export const ZONE_PREFIX = "com.cloudflare.api.account.zone.";
export const USER_PREFIX = "com.cloudflare.api.user.";

export function accountResource(accountId: string): string {
  return `${ACCOUNT_PREFIX}${accountId}`;
}

export function zoneResource(zoneId: string): string {
  return `${ZONE_PREFIX}${zoneId}`;
}

/** One resource a token policy applies to. `id` is "*" for a wildcard. */
export interface TokenResource {
  readonly kind: "account" | "zone" | "user" | "unknown";
  readonly id: string;
  /** For a zone nested under an account (`{account: {zone.*: "*"}}`), that account's id. */
  readonly parentAccountId?: string;
  /** The key as written, for messages. */
  readonly key: string;
}

export function isWildcard(resource: TokenResource): boolean {
  return resource.id === "*" || resource.id.includes("*");
}

/** What one resource string names (a zone key also starts with the account prefix: zone first). */
export function classifyResource(key: string, parentAccountId?: string): TokenResource {
  const base = parentAccountId === undefined ? {} : { parentAccountId };
  if (key.startsWith(ZONE_PREFIX)) return { kind: "zone", id: key.slice(ZONE_PREFIX.length), key, ...base };
  if (key.startsWith(ACCOUNT_PREFIX))
    return { kind: "account", id: key.slice(ACCOUNT_PREFIX.length), key, ...base };
  if (key.startsWith(USER_PREFIX)) return { kind: "user", id: key.slice(USER_PREFIX.length), key, ...base };
  return { kind: "unknown", id: key, key, ...base };
}

export type ParsedResources =
  { readonly ok: true; readonly resources: TokenResource[] } | { readonly ok: false; readonly error: string };

/**
 * Reads a policy's `resources` in either form. Never throws: malformed input comes back as
 * `{ ok: false, error }` so a policy can report it as a violation.
 */
export function parseResources(value: unknown): ParsedResources {
  let tree: unknown = value;
  if (typeof value === "string") {
    try {
      tree = JSON.parse(value);
    } catch (error) {
      return { ok: false, error: `resources is not valid JSON (${(error as Error).message})` };
    }
  }
  if (tree === null || typeof tree !== "object" || Array.isArray(tree)) {
    return { ok: false, error: 'resources must be a JSON object mapping resource strings to "*"' };
  }
  const resources: TokenResource[] = [];
  for (const [key, nested] of Object.entries(tree as Record<string, unknown>)) {
    const outer = classifyResource(key);
    if (typeof nested === "string") {
      resources.push(outer);
      continue;
    }
    if (nested === null || typeof nested !== "object" || Array.isArray(nested)) {
      return { ok: false, error: `resources["${key}"] must be "*" or an object of nested resources` };
    }
    // Nested form: the inner keys are scoped to the outer account.
    const parent = outer.kind === "account" ? outer.id : undefined;
    for (const [innerKey, innerValue] of Object.entries(nested as Record<string, unknown>)) {
      if (typeof innerValue !== "string") {
        return { ok: false, error: `resources["${key}"]["${innerKey}"] must be "*"` };
      }
      resources.push(classifyResource(innerKey, parent));
    }
  }
  if (resources.length === 0) return { ok: false, error: "resources is empty: the policy grants nothing" };
  return { ok: true, resources };
}

/** Canonical JSON-string form for a list of resource strings, sorted so diffs stay stable. */
export function resourcesJson(resourceStrings: readonly string[]): string {
  const sorted = [...new Set(resourceStrings)].sort();
  return JSON.stringify(Object.fromEntries(sorted.map((resource) => [resource, "*"])));
}
