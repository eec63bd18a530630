/**
 * Which calls prove a token is exactly right for a stack. Pure: derived from the stack's config
 * through the same least-privilege derivation the program builds its token from, so the verifier
 * never keeps a hand-written list.
 *
 * - One positive probe per needed grant (grants that one read-only call proves are merged): the
 *   call must succeed. A read can only prove the read side of a Write permission; the verifier
 *   never writes.
 * - Negative probes: calls the stack's token has no business making; each must be refused.
 */
import { deriveGrants, type DerivedGrant } from "../../policies/lib/derive";
import { permissionByName } from "../../policies/lib/permission-catalog";
import { accountResource, zoneResource } from "../../policies/lib/resources";
import type { StackConfig } from "../../lib/config";
import { footprintOf } from "../../lib/footprint";
import { endpointPath } from "./endpoints";
import type { Endpoint, NegativeProbe, PositiveProbe, Probe } from "./types";

const ACCOUNT_PREFIX = "com.cloudflare.api.account.";
const ZONE_PREFIX = "com.cloudflare.api.account.zone.";

export interface ProbeOptions {
  /** A zone outside the stack the token must not reach. */
  readonly foreignZoneId?: string;
  /** An account other than the stack's the token must not reach. */
  readonly foreignAccountId?: string;
}

interface ProbeKind {
  readonly build: (id: string, config: StackConfig) => Endpoint;
  readonly label: (id: string, config: StackConfig) => string;
}

const zoneLabel = (id: string, config: StackConfig) => {
  const zone = config.zones.find((candidate) => candidate.id === id);
  return zone === undefined ? `zone ${id}` : `zone ${zone.name}`;
};

const accountKinds = {
  settings: {
    build: (accountId) => ({ kind: "account-settings", accountId }),
    label: () => "read account settings",
  },
  scripts: {
    build: (accountId) => ({ kind: "worker-scripts", accountId }),
    label: () => "list Worker scripts on the account",
  },
  kv: {
    build: (accountId) => ({ kind: "kv-namespaces", accountId }),
    label: () => "list KV namespaces on the account",
  },
  r2: {
    build: (accountId) => ({ kind: "r2-buckets", accountId }),
    label: () => "list R2 buckets on the account",
  },
  tails: {
    build: (accountId, config) => ({ kind: "worker-tails", accountId, script: config.worker.name }),
    label: (_id, config) => `list tails of Worker ${config.worker.name}`,
  },
  tokens: {
    build: (accountId) => ({ kind: "account-tokens", accountId }),
    label: () => "list account API tokens",
  },
} satisfies Record<string, ProbeKind>;

const zoneKinds = {
  zone: { build: (zoneId) => ({ kind: "zone", zoneId }), label: (id, c) => `read ${zoneLabel(id, c)}` },
  routes: {
    build: (zoneId) => ({ kind: "worker-routes", zoneId }),
    label: (id, c) => `list Worker routes on ${zoneLabel(id, c)}`,
  },
  dns: {
    build: (zoneId) => ({ kind: "dns-records", zoneId }),
    label: (id, c) => `list DNS records on ${zoneLabel(id, c)}`,
  },
  hostnames: {
    build: (zoneId) => ({ kind: "custom-hostnames", zoneId }),
    label: (id, c) => `list custom hostnames on ${zoneLabel(id, c)}`,
  },
} satisfies Record<string, ProbeKind>;

/**
 * The read-only call that proves each account- or zone-scoped permission the catalog knows.
 * (User-scoped permissions can never be part of a stack's grants.) A test keeps this complete.
 */
export const PROBE_FOR_PERMISSION: Readonly<Record<string, ProbeKind>> = {
  "Account Settings Read": accountKinds.settings,
  "Workers Scripts Read": accountKinds.scripts,
  "Workers Scripts Write": accountKinds.scripts,
  "Workers KV Storage Read": accountKinds.kv,
  "Workers KV Storage Write": accountKinds.kv,
  "Workers R2 Storage Read": accountKinds.r2,
  "Workers R2 Storage Write": accountKinds.r2,
  "Workers Tail Read": accountKinds.tails,
  "Account API Tokens Read": accountKinds.tokens,
  "Account API Tokens Write": accountKinds.tokens,
  "Zone Read": zoneKinds.zone,
  "Zone Write": zoneKinds.zone,
  "Workers Routes Read": zoneKinds.routes,
  "Workers Routes Write": zoneKinds.routes,
  "DNS Read": zoneKinds.dns,
  "DNS Write": zoneKinds.dns,
  "SSL and Certificates Read": zoneKinds.hostnames,
  "SSL and Certificates Write": zoneKinds.hostnames,
};

export class PlanError extends Error {
  override readonly name = "PlanError";
}

function resourceId(resource: string): { scope: "account" | "zone"; id: string } {
  if (resource.startsWith(ZONE_PREFIX)) return { scope: "zone", id: resource.slice(ZONE_PREFIX.length) };
  if (resource.startsWith(ACCOUNT_PREFIX)) {
    return { scope: "account", id: resource.slice(ACCOUNT_PREFIX.length) };
  }
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
    const kind = PROBE_FOR_PERMISSION[grant.permission];
    if (kind === undefined) {
      throw new PlanError(`no read-only probe is known for "${grant.permission}"`);
    }
    const { id } = resourceId(grant.resource);
    const endpoint = kind.build(id, config);
    const path = endpointPath(endpoint);
    const entry = byPath.get(path) ?? { endpoint, name: kind.label(id, config), grants: [] };
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

export function negativeProbes(config: StackConfig, options: ProbeOptions = {}): Probe[] {
  const positivePaths = new Set(positiveProbes(config).map((probe) => endpointPath(probe.endpoint)));
  const probes: Probe[] = [];
  const add = (probe: NegativeProbe) => {
    if (!positivePaths.has(endpointPath(probe.endpoint))) probes.push(probe);
  };
  const account = accountResource(config.accountId);

  if (config.token.owner === "user") {
    add({
      type: "negative",
      name: "list the user's API tokens",
      endpoint: { kind: "user-tokens" },
      excess: "API Tokens Read or API Tokens Write (user level)",
      why: "a deploy token must not read or create API tokens: it could mint itself wider ones",
      refusedStatuses: IN_STACK_REFUSALS,
    });
  }
  add({
    type: "negative",
    name: "list account API tokens",
    endpoint: { kind: "account-tokens", accountId: config.accountId },
    excess: `Account API Tokens Read or Account API Tokens Write on ${account}`,
    why: "a deploy token must not read or create account tokens: it could mint itself wider ones",
    refusedStatuses: IN_STACK_REFUSALS,
  });
  for (const zone of config.zones) {
    add({
      type: "negative",
      name: `list DNS records on zone ${zone.name}`,
      endpoint: { kind: "dns-records", zoneId: zone.id },
      excess: `DNS Read or DNS Write on ${zoneResource(zone.id)}`,
      why: "deploying a Worker never touches DNS; a token that can read DNS can usually change it too",
      refusedStatuses: IN_STACK_REFUSALS,
    });
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
  if (options.foreignZoneId !== undefined && config.zones.some((zone) => zone.id === options.foreignZoneId)) {
    throw new PlanError(`--foreign-zone ${options.foreignZoneId} is one of the stack's own zones`);
  }
  if (options.foreignAccountId !== undefined && options.foreignAccountId === config.accountId) {
    throw new PlanError(`--foreign-account ${options.foreignAccountId} is the stack's own account`);
  }
  return [...positiveProbes(config), ...negativeProbes(config, options)];
}

/** The catalog permissions (account and zone scope) with no probe; empty while the map is complete. */
export function unprobedPermissions(names: readonly string[]): string[] {
  return names.filter((name) => {
    const group = permissionByName(name);
    return group !== undefined && group.scope !== "user" && PROBE_FOR_PERMISSION[group.name] === undefined;
  });
}
