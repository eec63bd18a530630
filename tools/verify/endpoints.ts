/**
 * The read-only Cloudflare API calls the verifier makes, through the official SDK. Every one is a
 * GET: the verifier never writes.
 */
import type { Cloudflare } from "cloudflare";

import type { Endpoint } from "./types";

/** Per-request options the retry layer passes down (the SDK's RequestOptions subset we use). */
export interface CallOptions {
  readonly maxRetries: number;
  readonly timeout: number;
  readonly signal: AbortSignal;
}

/** "GET /accounts/<id>/storage/kv/namespaces" — for reports and for the fake API in tests. */
export function endpointPath(endpoint: Endpoint): string {
  switch (endpoint.kind) {
    case "account-settings":
      return `/accounts/${endpoint.accountId}`;
    case "worker-scripts":
      return `/accounts/${endpoint.accountId}/workers/scripts`;
    case "kv-namespaces":
      return `/accounts/${endpoint.accountId}/storage/kv/namespaces`;
    case "r2-buckets":
      return `/accounts/${endpoint.accountId}/r2/buckets`;
    case "worker-tails":
      return `/accounts/${endpoint.accountId}/workers/scripts/${encodeURIComponent(endpoint.script)}/tails`;
    case "account-tokens":
      return `/accounts/${endpoint.accountId}/tokens`;
    case "user-tokens":
      return "/user/tokens";
    case "zone":
      return `/zones/${endpoint.zoneId}`;
    case "worker-routes":
      return `/zones/${endpoint.zoneId}/workers/routes`;
    case "dns-records":
      return `/zones/${endpoint.zoneId}/dns_records`;
    case "custom-hostnames":
      return `/zones/${endpoint.zoneId}/custom_hostnames`;
    case "zones-list":
      return "/zones";
  }
}

export function describeRequest(endpoint: Endpoint): string {
  return `GET ${endpointPath(endpoint)}`;
}

/** Makes the call; resolves with the first page / the object, rejects with the SDK's error. */
export async function callEndpoint(
  client: Cloudflare,
  endpoint: Endpoint,
  options: CallOptions,
): Promise<unknown> {
  switch (endpoint.kind) {
    case "account-settings":
      return client.accounts.get({ account_id: endpoint.accountId }, options);
    case "worker-scripts":
      return client.workers.scripts.list({ account_id: endpoint.accountId }, options);
    case "kv-namespaces":
      return client.kv.namespaces.list({ account_id: endpoint.accountId, per_page: 5 }, options);
    case "r2-buckets":
      return client.r2.buckets.list({ account_id: endpoint.accountId, per_page: 1 }, options);
    case "worker-tails":
      return client.workers.scripts.tail.get(endpoint.script, { account_id: endpoint.accountId }, options);
    case "account-tokens":
      return client.accounts.tokens.list({ account_id: endpoint.accountId, per_page: 5 }, options);
    case "user-tokens":
      return client.user.tokens.list({ per_page: 5 }, options);
    case "zone":
      return client.zones.get({ zone_id: endpoint.zoneId }, options);
    case "worker-routes":
      return client.workers.routes.list({ zone_id: endpoint.zoneId }, options);
    case "dns-records":
      return client.dns.records.list({ zone_id: endpoint.zoneId, per_page: 5 }, options);
    case "custom-hostnames":
      return client.customHostnames.list({ zone_id: endpoint.zoneId, per_page: 5 }, options);
    case "zones-list":
      return client.zones.list({ per_page: ZONES_PER_PAGE }, options);
  }
}

export const ZONES_PER_PAGE = 50;

/** One page of GET /zones: the ids on it and whether another page follows. */
export async function listZonesPage(
  client: Cloudflare,
  page: number,
  options: CallOptions,
): Promise<{ zones: { id: string; name: string }[]; last: boolean }> {
  const result = await client.zones.list({ per_page: ZONES_PER_PAGE, page }, options);
  const totalPages = (result.result_info as { total_pages?: unknown }).total_pages;
  const zones = result.result.map((zone) => ({ id: zone.id, name: zone.name }));
  const last = zones.length < ZONES_PER_PAGE || (typeof totalPages === "number" && page >= totalPages);
  return { zones, last };
}

/** The verify endpoint in the form that matches the token's owner. */
export async function verifyToken(
  client: Cloudflare,
  owner: "account" | "user",
  accountId: string,
  options: CallOptions,
): Promise<{ id: string; status: string; expires_on?: string; not_before?: string }> {
  return owner === "account"
    ? client.accounts.tokens.verify({ account_id: accountId }, options)
    : client.user.tokens.verify(options);
}

export function verifyPath(owner: "account" | "user", accountId: string): string {
  return owner === "account" ? `/accounts/${accountId}/tokens/verify` : "/user/tokens/verify";
}
