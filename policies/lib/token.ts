/**
 * Reading a Cloudflare token (`ApiToken` or `AccountToken`) from resource properties, as the
 * policy SDK hands them over: plain JSON behind the SDK's unknown-checking proxy.
 *
 * Each reader touches only the fields it needs, so an unknown value elsewhere in the resource
 * (during preview) does not stop a policy that does not need it; an unknown value a policy does
 * need throws the SDK's own UnknownValueError, which the SDK turns into "can't run policy ...
 * during preview". Nothing here catches that error. Malformed values come back as problems, never
 * as exceptions.
 */
import { describePermissionId, permissionById, type PermissionScope } from "./permission-catalog";
import { parseResources, type TokenResource } from "./resources";

/** One entry of a token's `policies`. */
export interface TokenPolicyEntry {
  /** Position in `policies`, for messages (`policies[0]`). */
  readonly index: number;
  /** "allow" or "deny" (anything else is kept as written). */
  readonly effect: string;
  /** Permission-group ids, in order. */
  readonly permissionIds: readonly string[];
  /** `resources` as found: a JSON string (@pulumi/cloudflare >= 6.12) or a map (older). */
  readonly resources: unknown;
}

export type TokenPoliciesResult =
  | { readonly ok: true; readonly policies: readonly TokenPolicyEntry[] }
  | { readonly ok: false; readonly error: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** A token's `policies`, with permission groups as `[{id}]` (provider 5+) or `["id"]` (older). */
export function readTokenPolicies(props: Record<string, unknown>): TokenPoliciesResult {
  const raw = props["policies"];
  if (raw === undefined || raw === null) return { ok: true, policies: [] };
  if (!Array.isArray(raw)) return { ok: false, error: "policies must be a list of token policies" };
  const policies: TokenPolicyEntry[] = [];
  for (let index = 0; index < raw.length; index++) {
    const entry: unknown = raw[index];
    if (!isRecord(entry)) return { ok: false, error: `policies[${index}] must be an object` };
    const groups = entry["permissionGroups"];
    const permissionIds: string[] = [];
    if (groups !== undefined && groups !== null) {
      if (!Array.isArray(groups)) {
        return { ok: false, error: `policies[${index}].permissionGroups must be a list` };
      }
      for (let g = 0; g < groups.length; g++) {
        const group: unknown = groups[g];
        const id = typeof group === "string" ? group : isRecord(group) ? group["id"] : undefined;
        if (typeof id !== "string" || id === "") {
          return { ok: false, error: `policies[${index}].permissionGroups[${g}] has no permission-group id` };
        }
        permissionIds.push(id);
      }
    }
    const effect = entry["effect"];
    policies.push({
      index,
      effect: typeof effect === "string" ? effect : "allow",
      permissionIds,
      resources: entry["resources"],
    });
  }
  return { ok: true, policies };
}

/** One permission group of a token policy on one resource. */
export interface TokenGrant {
  readonly policyIndex: number;
  readonly effect: string;
  readonly permissionId: string;
  /** Catalog name, or "unknown permission group <id>". */
  readonly permission: string;
  /** Catalog scope; undefined for an id the catalog does not know. */
  readonly scope?: PermissionScope;
  readonly resource: TokenResource;
}

export type TokenGrantsResult =
  | { readonly ok: true; readonly grants: readonly TokenGrant[] }
  | { readonly ok: false; readonly error: string };

/** Every (permission, resource) pair of one token policy. Malformed `resources` is a problem. */
export function policyGrants(policy: TokenPolicyEntry): TokenGrantsResult {
  const parsed = parseResources(policy.resources);
  if (!parsed.ok) return { ok: false, error: `policies[${policy.index}]: ${parsed.error}` };
  const grants: TokenGrant[] = [];
  for (const permissionId of policy.permissionIds) {
    const group = permissionById(permissionId);
    for (const resource of parsed.resources) {
      grants.push({
        policyIndex: policy.index,
        effect: policy.effect,
        permissionId,
        permission: describePermissionId(permissionId),
        ...(group ? { scope: group.scope } : {}),
        resource,
      });
    }
  }
  return { ok: true, grants };
}

/** A token's `expiresOn` / `notBefore`: absent, or the string as written. */
export function readTimestampField(
  props: Record<string, unknown>,
  field: "expiresOn" | "notBefore",
): string | undefined {
  const value = props[field];
  if (value === undefined || value === null || value === "") return undefined;
  return typeof value === "string" ? value : String(value);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 timestamp (the form Cloudflare's API accepts) as a Date, or undefined. */
export function parseRfc3339(value: string): Date | undefined {
  if (!RFC3339.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** A token's request-IP condition: `condition.requestIp.ins` / `.notIns` (empty lists when absent). */
export function readRequestIp(props: Record<string, unknown>): { ins: string[]; notIns: string[] } {
  const condition = props["condition"];
  const requestIp = isRecord(condition) ? condition["requestIp"] : undefined;
  const list = (value: unknown): string[] =>
    Array.isArray(value)
      ? value.filter((item): item is string => typeof item === "string" && item !== "")
      : [];
  if (!isRecord(requestIp)) return { ins: [], notIns: [] };
  return { ins: list(requestIp["ins"]), notIns: list(requestIp["notIns"]) };
}
