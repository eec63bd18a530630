/**
 * Cloudflare API-token permission groups relevant to deploying Workers.
 *
 * These are offline facts for the policy pack (which must stay pure: no API calls while it runs),
 * the Pulumi mocks in tests and the offline plan. The program itself never reads ids from here: it
 * resolves names through the provider's permission-group lookup, so live ids always win.
 *
 * Sources: Cloudflare's public docs (fundamentals/api/reference/permissions), cross-checked against
 * terraform-provider-cloudflare and pulumi-cloudflare examples. `verified: false` means the id was
 * seen only in third-party repositories; a live lookup is the authority.
 */

/** What a permission group can be granted on. */
export type PermissionScope = "account" | "zone" | "user";

export interface PermissionGroup {
  readonly name: string;
  readonly id: string;
  readonly scope: PermissionScope;
  readonly verified: boolean;
}

export const PERMISSION_GROUPS: readonly PermissionGroup[] = [
  { name: "Workers Scripts Read", id: "1a71c399035b4950a1bd1466bbe4f420", scope: "account", verified: true },
  { name: "Workers Scripts Write", id: "e086da7e2179491d91ee5f35b3ca210a", scope: "account", verified: true },
  {
    name: "Workers KV Storage Read",
    id: "8b47d2786a534c08a1f94ee8f9f599ef",
    scope: "account",
    verified: true,
  },
  {
    name: "Workers KV Storage Write",
    id: "f7f0eda5697f475c90846e879bab8666",
    scope: "account",
    verified: true,
  },
  { name: "Workers Routes Read", id: "2072033d694d415a936eaeb94e6405b8", scope: "zone", verified: true },
  { name: "Workers Routes Write", id: "28f4b596e7d643029c524985477ae49a", scope: "zone", verified: true },
  { name: "Account Settings Read", id: "c1fde68c7bcc44588cbb6ddbc16d6480", scope: "account", verified: true },
  { name: "Zone Read", id: "c8fed203ed3043cba015a93ad1616f1f", scope: "zone", verified: true },
  { name: "Zone Write", id: "e6d2666161e84845a636613608cee8d5", scope: "zone", verified: true },
  { name: "DNS Read", id: "82e64a83756745bbbb1c9c2701bf816b", scope: "zone", verified: true },
  { name: "DNS Write", id: "4755a26eedb94da69e1066d98aa820be", scope: "zone", verified: true },
  {
    name: "SSL and Certificates Read",
    id: "7b7216b327b04b8fbc8f524e1f9b7531",
    scope: "zone",
    verified: true,
  },
  {
    name: "SSL and Certificates Write",
    id: "c03055bc037c4ea9afb9a9f104b7b721",
    scope: "zone",
    verified: true,
  },
  { name: "API Tokens Read", id: "0cc3a61731504c89b99ec1be78b77aa0", scope: "user", verified: true },
  { name: "API Tokens Write", id: "686d18d5ac6c441c867cbf6771e58a0a", scope: "user", verified: true },
  { name: "User Details Read", id: "8acbe5bb0d54464ab867149d7f7cf8ac", scope: "user", verified: true },
  { name: "Memberships Read", id: "3518d0f75557482e952c6762d3e64903", scope: "user", verified: true },
  {
    name: "Workers R2 Storage Read",
    id: "b4992e1108244f5d8bfbd5744320c2e1",
    scope: "account",
    verified: false,
  },
  {
    name: "Workers R2 Storage Write",
    id: "bf7481a1826f439697cb59a20b22293e",
    scope: "account",
    verified: false,
  },
  { name: "Workers Tail Read", id: "05880cd1bdc24d8bae0be2136972816b", scope: "account", verified: false },
  {
    name: "Account API Tokens Read",
    id: "eb56a6953c034b9d97dd838155666f06",
    scope: "account",
    verified: false,
  },
  {
    name: "Account API Tokens Write",
    id: "5bc3f8b21c554832afc660159ab75fa4",
    scope: "account",
    verified: false,
  },
];

/** The dashboard's "Edit Cloudflare Workers" template: what most hand-made deploy tokens carry. */
export const EDIT_WORKERS_TEMPLATE: readonly string[] = [
  "Workers Routes Write",
  "Workers Scripts Write",
  "Workers KV Storage Write",
  "Workers Tail Read",
  "Workers R2 Storage Write",
  "Account Settings Read",
  "User Details Read",
  "Memberships Read",
];

const byName = new Map(PERMISSION_GROUPS.map((group) => [group.name.toLowerCase(), group]));
const byId = new Map(PERMISSION_GROUPS.map((group) => [group.id, group]));

/** The group with this name (case-insensitive; the dashboard's "Edit" is accepted for "Write"). */
export function permissionByName(name: string): PermissionGroup | undefined {
  const key = name.trim().toLowerCase();
  return byName.get(key) ?? byName.get(key.replace(/ edit$/, " write"));
}

export function permissionById(id: string): PermissionGroup | undefined {
  return byId.get(id);
}

/** A name for messages: the catalog's name when the id is known, else the id itself. */
export function describePermissionId(id: string): string {
  return byId.get(id)?.name ?? `unknown permission group ${id}`;
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length]!;
}

/** The known names closest to `name`, best first (for error messages). */
export function closestNames(name: string, known: readonly string[], count = 3): string[] {
  const wanted = name.trim().toLowerCase();
  return [...known]
    .map((candidate) => ({ candidate, distance: editDistance(wanted, candidate.toLowerCase()) }))
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, count)
    .map((entry) => entry.candidate);
}
