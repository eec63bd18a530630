/**
 * Which calls prove a token is exactly right for a stack. Pure: the grants come from the same
 * derivation the program builds its token from (deriveGrants), the groups each call accepts from
 * Cloudflare's published OpenAPI (ENDPOINT_FACTS in endpoints.ts), so no grant set is restated here.
 *
 * - One positive probe per needed grant (grants that one read-only call proves are merged): the call
 *   of the grant's scope accepting it and the fewest other groups must succeed. A read can only
 *   prove the read side of a Write permission; the verifier never writes.
 * - Negative probes: every other call, on the stack's account and on each of its zones, none of
 *   whose accepted groups the stack's token holds, must be refused; plus other zones and accounts.
 */
import { deriveGrants, type DerivedGrant } from "../../policies/lib/derive";
import { permissionByName } from "../../policies/lib/permission-catalog";
import { accountResource, classifyResource, ZONE_PREFIX, zoneResource } from "../../policies/lib/resources";
import type { StackConfig } from "../../lib/config";
import { footprintOf } from "../../lib/footprint";
import { ENDPOINT_FACTS, endpointPath } from "./endpoints";
import type { Endpoint, NegativeProbe, PositiveProbe, Probe } from "./types";

export interface ProbeOptions {
  /** A zone outside the stack the token must not reach. */
  readonly foreignZoneId?: string;
  /** An account other than the stack's the token must not reach. */
  readonly foreignAccountId?: string;
}

type ProbeKind = keyof typeof ENDPOINT_FACTS;

const ACCOUNT_KINDS = [
  "account-settings",
  "worker-scripts",
  "kv-namespaces",
  "r2-buckets",
  "worker-tails",
  "account-tokens",
] as const satisfies readonly ProbeKind[];
const ZONE_KINDS = [
  "zone",
  "worker-routes",
  "dns-records",
  "custom-hostnames",
] as const satisfies readonly ProbeKind[];

const zoneLabel = (id: string, config: StackConfig) => {
  const zone = config.zones.find((candidate) => candidate.id === id);
  return zone === undefined ? `zone ${id}` : `zone ${zone.name}`;
};

function accountEndpoint(
  kind: (typeof ACCOUNT_KINDS)[number],
  accountId: string,
  config: StackConfig,
): Endpoint {
  return kind === "worker-tails" ? { kind, accountId, script: config.worker.name } : { kind, accountId };
}

const LABELS: Record<ProbeKind, (id: string, config: StackConfig) => string> = {
  "account-settings": () => "read account settings",
  "worker-scripts": () => "list Worker scripts on the account",
  "kv-namespaces": () => "list KV namespaces on the account",
  "r2-buckets": () => "list R2 buckets on the account",
  "worker-tails": (_id, config) => `list tails of Worker ${config.worker.name}`,
  "account-tokens": () => "list account API tokens",
  "user-tokens": () => "list the user's API tokens",
  zone: (id, config) => `read ${zoneLabel(id, config)}`,
  "worker-routes": (id, config) => `list Worker routes on ${zoneLabel(id, config)}`,
  "dns-records": (id, config) => `list DNS records on ${zoneLabel(id, config)}`,
  "custom-hostnames": (id, config) => `list custom hostnames on ${zoneLabel(id, config)}`,
};

/**
 * The read-only call that proves a permission: among the calls of its scope that accept it, the
 * one that accepts the fewest groups (so success says the most), preferring calls that need no
 * existing object. Undefined when no probe call accepts the permission.
 */
export function probeKindFor(permission: string): ProbeKind | undefined {
  const scope = permissionByName(permission)?.scope;
  const kinds: readonly ProbeKind[] =
    scope === "account" ? ACCOUNT_KINDS : scope === "zone" ? ZONE_KINDS : [];
  return kinds
    .filter((kind) => ENDPOINT_FACTS[kind].acceptedGroups.includes(permission))
    .sort(
      (a, b) =>
        Number(ENDPOINT_FACTS[a].needsObject) - Number(ENDPOINT_FACTS[b].needsObject) ||
        ENDPOINT_FACTS[a].acceptedGroups.length - ENDPOINT_FACTS[b].acceptedGroups.length,
    )[0];
}

export class PlanError extends Error {
  override readonly name = "PlanError";
}

function resourceId(resource: string): { scope: "account" | "zone"; id: string } {
  const { kind, id } = classifyResource(resource);
  if (kind === "zone" || kind === "account") return { scope: kind, id };
  throw new PlanError(`cannot probe resource ${resource}`);
}

/** The grants the stack's deploy token must carry (derived + extraPermissions). */
export function stackGrants(config: StackConfig): DerivedGrant[] {
  return deriveGrants(footprintOf(config), config.token.extraPermissions);
}

/** "Workers KV Storage Write on com.cloudflare.api.account.<id>" */
export function grantPhrase(grant: { permission: string; resource: string }): string {
  return `${grant.permission} on ${grant.resource}`;
}

export function positiveProbes(config: StackConfig): PositiveProbe[] {
  const byPath = new Map<string, { endpoint: Endpoint; name: string; grants: DerivedGrant[] }>();
  for (const grant of stackGrants(config)) {
    const kind = probeKindFor(grant.permission);
    if (kind === undefined) {
      throw new PlanError(`no read-only probe is known for "${grant.permission}"`);
    }
    const { id } = resourceId(grant.resource);
    const endpoint: Endpoint =
      kind === "user-tokens"
        ? { kind }
        : (ZONE_KINDS as readonly string[]).includes(kind)
          ? ({ kind, zoneId: id } as Endpoint)
          : accountEndpoint(kind as (typeof ACCOUNT_KINDS)[number], id, config);
    const path = endpointPath(endpoint);
    const entry = byPath.get(path) ?? { endpoint, name: LABELS[kind](id, config), grants: [] };
    entry.grants.push(grant);
    byPath.set(path, entry);
  }
  return [...byPath.values()].map(({ endpoint, name, grants }) => {
    const reasons = [...new Set(grants.map((grant) => grant.reason))].join("; ");
    const permissions = [...new Set(grants.map((grant) => grant.permission))].join(" + ");
    return {
      type: "positive",
      name,
      endpoint,
      grants: grants.map(({ permission, resource }) => ({ permission, resource })),
      why: `needs ${permissions}: ${reasons}`,
    };
  });
}

/** Zone ids the stack's token is meant to reach (those its grants name). */
export function grantZoneIds(config: StackConfig): string[] {
  const ids = stackGrants(config)
    .map((grant) => resourceId(grant.resource))
    .filter((resource) => resource.scope === "zone")
    .map((resource) => resource.id);
  return [...new Set(ids)].sort();
}

const IN_STACK_REFUSALS = [401, 403] as const;
/** An id outside the stack may also come back as "no such object" (400 code 7003, 404). */
const FOREIGN_REFUSALS = [400, 401, 403, 404] as const;

/**
 * Whether the stack's token would be let through `kind` on `resource`: it holds one of the call's
 * accepted groups there. A group of the other scope (an account group a zone call accepts) counts
 * wherever it is held: how Cloudflare applies it across scopes is not published, so the call is
 * not probed rather than risk a false alarm.
 */
function stackMayCall(kind: ProbeKind, resource: string, grants: readonly DerivedGrant[]): boolean {
  const accepted = new Set(ENDPOINT_FACTS[kind].acceptedGroups);
  const callScope = resource.startsWith(ZONE_PREFIX) ? "zone" : "account";
  return grants.some(
    (grant) =>
      accepted.has(grant.permission) &&
      (grant.resource === resource || permissionByName(grant.permission)?.scope !== callScope),
  );
}

/** "DNS Read or DNS Write": the catalog's groups of the call's scope that it accepts. */
function excessGroups(kind: ProbeKind, scope: "account" | "zone" | "user"): string {
  const names = ENDPOINT_FACTS[kind].acceptedGroups.filter((name) => permissionByName(name)?.scope === scope);
  return [...new Set(names)].join(" or ");
}

const NEGATIVE_WHY: Partial<Record<ProbeKind, string>> = {
  "account-tokens": "a deploy token must not read or create account tokens: it could mint itself wider ones",
  "user-tokens": "a deploy token must not read or create API tokens: it could mint itself wider ones",
  "dns-records": "deploying a Worker never touches DNS; a token that can read DNS can usually change it too",
  "kv-namespaces":
    "the app's deploy binds the KV namespace Pulumi created by id; it never lists or creates one",
  "r2-buckets": "the app's deploy never manages R2 buckets",
  "worker-routes": "the app's deploy attaches no routes on this zone",
  "custom-hostnames": "the app's deploy never manages custom hostnames",
};

export function negativeProbes(config: StackConfig, options: ProbeOptions = {}): Probe[] {
  const grants = stackGrants(config);
  const positivePaths = new Set(positiveProbes(config).map((probe) => endpointPath(probe.endpoint)));
  const probes: Probe[] = [];
  const add = (probe: NegativeProbe) => {
    if (!positivePaths.has(endpointPath(probe.endpoint))) probes.push(probe);
  };
  const negative = (
    kind: ProbeKind,
    endpoint: Endpoint,
    id: string,
    resource: string,
    scope: "account" | "zone",
  ) => {
    if (stackMayCall(kind, resource, grants)) return;
    const groups = excessGroups(kind, scope);
    if (groups === "") return; // accepts no group the catalog knows: nothing to name
    add({
      type: "negative",
      name: LABELS[kind](id, config),
      endpoint,
      excess: `${groups} on ${resource}`,
      why: NEGATIVE_WHY[kind] ?? "the stack's grants include no group this call accepts",
      refusedStatuses: IN_STACK_REFUSALS,
    });
  };

  if (config.token.owner === "user") {
    add({
      type: "negative",
      name: LABELS["user-tokens"]("", config),
      endpoint: { kind: "user-tokens" },
      excess: `${excessGroups("user-tokens", "user")} (user level)`,
      why: NEGATIVE_WHY["user-tokens"]!,
      refusedStatuses: IN_STACK_REFUSALS,
    });
  }
  const account = accountResource(config.accountId);
  for (const kind of ACCOUNT_KINDS) {
    negative(kind, accountEndpoint(kind, config.accountId, config), config.accountId, account, "account");
  }
  for (const zone of config.zones) {
    for (const kind of ZONE_KINDS) {
      negative(kind, { kind, zoneId: zone.id } as Endpoint, zone.id, zoneResource(zone.id), "zone");
    }
  }
  if (options.foreignZoneId !== undefined) {
    add({
      type: "negative",
      name: `read zone ${options.foreignZoneId} (outside the stack)`,
      endpoint: { kind: "zone", zoneId: options.foreignZoneId },
      excess: `zone permissions beyond the stack's zones (a policy on all zones, or on ${zoneResource(options.foreignZoneId)})`,
      why: "the token must reach only the zones the stack deploys to",
      refusedStatuses: FOREIGN_REFUSALS,
    });
  } else {
    probes.push({
      type: "zone-visibility",
      name: "list zones: only the stack's zones are visible",
      endpoint: { kind: "zones-list" },
      allowedZoneIds: grantZoneIds(config),
      why: "the token must reach only the zones the stack deploys to",
    });
  }
  if (options.foreignAccountId !== undefined) {
    const foreign = accountResource(options.foreignAccountId);
    const excess = `account permissions beyond the stack's account (a policy on all accounts, or on ${foreign})`;
    add({
      type: "negative",
      name: `read settings of account ${options.foreignAccountId} (not the stack's)`,
      endpoint: { kind: "account-settings", accountId: options.foreignAccountId },
      excess,
      why: "the token must reach only the stack's account",
      refusedStatuses: FOREIGN_REFUSALS,
    });
    add({
      type: "negative",
      name: `list Worker scripts on account ${options.foreignAccountId} (not the stack's)`,
      endpoint: { kind: "worker-scripts", accountId: options.foreignAccountId },
      excess,
      why: "the token must reach only the stack's account",
      refusedStatuses: FOREIGN_REFUSALS,
    });
  }
  return probes;
}

/** Every probe for the stack: positive first, then negative. */
export function planProbes(config: StackConfig, options: ProbeOptions = {}): Probe[] {
  if (config.codeDeployedBy === "pulumi") {
    throw new PlanError(
      `stack ${config.stack} has codeDeployedBy: pulumi, so it has no deploy token to verify; ` +
        `check the admin credential instead: npm run verify-token -- --stack ${config.stack} --admin`,
    );
  }
  if (options.foreignZoneId !== undefined && config.zones.some((zone) => zone.id === options.foreignZoneId)) {
    throw new PlanError(`--foreign-zone ${options.foreignZoneId} is one of the stack's own zones`);
  }
  if (options.foreignAccountId !== undefined && options.foreignAccountId === config.accountId) {
    throw new PlanError(`--foreign-account ${options.foreignAccountId} is the stack's own account`);
  }
  return [...positiveProbes(config), ...negativeProbes(config, options)];
}

/** The catalog permissions (account and zone scope) no probe call accepts; empty while the facts cover them. */
export function unprobedPermissions(names: readonly string[]): string[] {
  return names.filter((name) => {
    const group = permissionByName(name);
    return group !== undefined && group.scope !== "user" && probeKindFor(group.name) === undefined;
  });
}
