/**
 * The deployment footprint of a stack, computed from the stack's own resources as the policy SDK
 * hands them to a stack policy: what a deploy token for this stack needs to manage. One footprint
 * per Cloudflare account the stack deploys Workers resources into.
 */
import type { DeploymentFootprint } from "./derive";
import {
  CUSTOM_HOSTNAME_TYPE,
  KV_NAMESPACE_TYPE,
  R2_BUCKET_TYPE,
  SCRIPT_TYPES,
  WORKERS_ROUTE_TYPE,
} from "./resource-types";

/** The part of a stack resource this module reads (the SDK's PolicyResource has more). */
export interface StackResourceLike {
  readonly type: string;
  readonly props: Record<string, unknown>;
}

function stringProp(props: Record<string, unknown>, key: string): string | undefined {
  const value = props[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

interface AccountCounts {
  workerScripts: number;
  kvNamespaces: number;
  r2Buckets: number;
}

/**
 * Footprints sorted by account id; empty when the stack has no Worker script, KV namespace or R2
 * bucket. Routes and custom hostnames carry only a zone id, so their zones belong to every
 * footprint (a stack deploys into one account in practice).
 */
export function footprintsFromResources(resources: readonly StackResourceLike[]): DeploymentFootprint[] {
  const accounts = new Map<string, AccountCounts>();
  const routeZones = new Set<string>();
  const hostnameZones = new Set<string>();
  const count = (accountId: string | undefined, key: keyof AccountCounts) => {
    if (accountId === undefined) return;
    const counts = accounts.get(accountId) ?? { workerScripts: 0, kvNamespaces: 0, r2Buckets: 0 };
    counts[key] += 1;
    accounts.set(accountId, counts);
  };
  for (const resource of resources) {
    const { type, props } = resource;
    if (SCRIPT_TYPES.includes(type)) count(stringProp(props, "accountId"), "workerScripts");
    else if (type === KV_NAMESPACE_TYPE) count(stringProp(props, "accountId"), "kvNamespaces");
    else if (type === R2_BUCKET_TYPE) count(stringProp(props, "accountId"), "r2Buckets");
    else if (type === WORKERS_ROUTE_TYPE) {
      const zoneId = stringProp(props, "zoneId");
      if (zoneId) routeZones.add(zoneId);
    } else if (type === CUSTOM_HOSTNAME_TYPE) {
      const zoneId = stringProp(props, "zoneId");
      if (zoneId) hostnameZones.add(zoneId);
    }
  }
  return [...accounts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([accountId, counts]) => ({
      accountId,
      ...counts,
      routeZoneIds: [...routeZones].sort(),
      customHostnameZoneIds: [...hostnameZones].sort(),
    }));
}
