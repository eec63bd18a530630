/**
 * The stand-in's read-only routes that only the verifier calls (its probes), next to the Workers
 * routes wrangler calls (workers.ts) and the token routes (tokens.ts). Accepted groups per operation:
 * `x-api-token-group` in cloudflare/api-schemas openapi.json (commit
 * c92b9b0fde23ae00fece2025662f96dc8e2d6283), written out here on their own, never read from the
 * verifier's table (a probe answered from the table it was chosen from would prove nothing).
 * The two operations that accept dozens of groups list them all, as published.
 */
import type { StandinRoute } from "../server";

const OPENAPI = "cloudflare/api-schemas openapi.json (c92b9b0fde23ae00fece2025662f96dc8e2d6283)";
const rw = (name: string) => [`${name} Write`, `${name} Read`];
const page = (items: unknown[]) => ({
  result: items,
  resultInfo: { page: 1, per_page: 20, count: items.length, total_count: items.length, total_pages: 1 },
});

const ACCOUNT_DETAILS_GROUPS = [
  ...rw("Trust and Safety"),
  ...rw("DNS View"),
  "SCIM Provisioning",
  ...rw("Load Balancers Account"),
  "Zero Trust: PII Read",
  ...rw("DDoS Botnet Feed"),
  ...rw("Workers R2 Storage"),
  ...rw("DDoS Protection"),
  "Workers Tail Read",
  ...rw("Workers KV Storage"),
  ...rw("Workers Scripts"),
  ...rw("Load Balancing: Monitors and Pools"),
  ...rw("Account Firewall Access Rules"),
  ...rw("DNS Firewall"),
  ...rw("Billing"),
  ...rw("Account Settings"),
];

const ZONE_DETAILS_GROUPS = [
  ...rw("Trust and Safety"),
  "Zero Trust: PII Read",
  "Zaraz Edit",
  "Zaraz Read",
  "Zaraz Admin",
  "Access: Apps and Policies Revoke",
  ...rw("Access: Apps and Policies"),
  "Access: Mutual TLS Certificates Write",
  "Access: Organizations, Identity Providers, and Groups Write",
  ...rw("Zone Settings"),
  ...rw("Zone"),
  ...rw("DNS"),
  ...rw("Workers Scripts"),
  ...rw("Workers Routes"),
  ...rw("Stream"),
  ...rw("SSL and Certificates"),
  ...rw("Logs"),
  "Cache Purge",
  ...rw("Page Rules"),
  ...rw("Load Balancers"),
  ...rw("Firewall Services"),
  "Apps Write",
  "Analytics Read",
];

export function probeRoutes(): StandinRoute[] {
  return [
    {
      method: "GET",
      path: "/accounts/:account_id",
      operationId: "accounts-account-details",
      permissions: ACCOUNT_DETAILS_GROUPS,
      resource: "account",
      source: `${OPENAPI} accounts-account-details x-api-token-group`,
      handle: (request) => ({
        result: { id: request.params.account_id, name: "Stand-in account", settings: {} },
      }),
    },
    {
      method: "GET",
      path: "/accounts/:account_id/workers/scripts",
      operationId: "worker-script-list-workers",
      permissions: ["Workers Tail Read", ...rw("Workers Scripts")],
      resource: "account",
      source: `${OPENAPI} worker-script-list-workers x-api-token-group`,
      handle: () => page([]),
    },
    {
      method: "GET",
      path: "/accounts/:account_id/workers/scripts/:script_name/tails",
      operationId: "worker-tail-logs-list-tails",
      permissions: ["Workers Tail Read", "Workers Scripts Write"],
      resource: "account",
      source: `${OPENAPI} worker-tail-logs-list-tails x-api-token-group`,
      handle: () => ({
        result: { id: "tail", url: "wss://tail.example", expires_at: "2026-12-01T00:00:00Z" },
      }),
    },
    {
      method: "GET",
      path: "/accounts/:account_id/r2/buckets",
      operationId: "r2-list-buckets",
      permissions: rw("Workers R2 Storage"),
      resource: "account",
      source: `${OPENAPI} r2-list-buckets x-api-token-group`,
      handle: () => ({ result: { buckets: [] } }),
    },
    {
      method: "GET",
      path: "/zones/:zone_id",
      operationId: "zones-0-get",
      permissions: ZONE_DETAILS_GROUPS,
      resource: "zone",
      source: `${OPENAPI} zones-0-get x-api-token-group`,
      handle: (request) => ({ result: { id: request.params.zone_id, name: "zone" } }),
    },
    {
      method: "GET",
      path: "/zones/:zone_id/dns_records",
      operationId: "dns-records-for-a-zone-list-dns-records",
      permissions: ["DNS Read", "DNS Write"],
      resource: "zone",
      source: `${OPENAPI} dns-records-for-a-zone-dns-record-details x-api-token-group (the list's read twin)`,
      handle: () => page([]),
    },
    {
      method: "GET",
      path: "/zones/:zone_id/custom_hostnames",
      operationId: "custom-hostname-for-a-zone-list-custom-hostnames",
      permissions: rw("SSL and Certificates"),
      resource: "zone",
      source: `${OPENAPI} custom-hostname-for-a-zone-custom-hostname-details x-api-token-group (the list's read twin)`,
      handle: () => page([]),
    },
  ];
}
