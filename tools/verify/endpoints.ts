/**
 * The one adapter between the verifier / sweeper and Cloudflare's API: every call goes through the
 * official SDK here, and nothing else imports it for a request.
 *
 * The SDK's fetch is wrapped so that an answer that is not Cloudflare's API cannot pass for one:
 * - redirects are never followed (fetch's default would carry on to any host, and report that
 *   host's answers as Cloudflare's; the v4 API does not redirect API calls, so a redirect, even
 *   within the API origin, means something between us and the API is rewriting requests);
 * - every 2xx-4xx answer must be Cloudflare's JSON envelope (`{"success": …, "result": …}`);
 *   anything else (an HTML login page, a captive portal, a proxy's text) is refused by name.
 * Everything the verifier reads from an answer is checked with zod before it is used.
 */
import { Cloudflare } from "cloudflare";
import { z } from "zod";

import type { Endpoint } from "./types";

/** Per-request options the retry layer passes down (the SDK's RequestOptions subset we use). */
export interface CallOptions {
  readonly maxRetries: number;
  readonly timeout: number;
  readonly signal: AbortSignal;
}

export type TokenOwner = "account" | "user";

/** The API answered with a redirect (never followed). Carries the target's origin only. */
export class RedirectRefused extends Error {
  override readonly name = "RedirectRefused";
  constructor(
    readonly status: number,
    /** Origin of the Location header ("https://evil.example"), or undefined when unreadable. */
    readonly targetOrigin: string | undefined,
    readonly sameOrigin: boolean,
  ) {
    super(
      `${status} redirect to ${sameOrigin ? "the same origin" : (targetOrigin ?? "an unreadable Location")} (not followed)`,
    );
  }
}

/** Something answered that is not Cloudflare's v4 JSON envelope. */
export class NotAnApiAnswer extends Error {
  override readonly name = "NotAnApiAnswer";
  constructor(
    readonly status: number,
    readonly problem: string,
  ) {
    super(`${status} ${problem}`);
  }
}

const envelope = z.looseObject({ success: z.boolean() });

/** Content type without parameters, for messages (never the body: it may echo the token). */
function mediaType(headers: Headers): string {
  return (headers.get("content-type") ?? "no content type").split(";")[0]!.trim().slice(0, 60);
}

/**
 * fetch that never follows a redirect and only lets through answers shaped as Cloudflare's API
 * answers (429 and 5xx pass as they are, so the retry layer can wait and try again).
 */
export function guardedFetch(apiBaseUrl: string, inner: typeof fetch = fetch): typeof fetch {
  const apiOrigin = new URL(apiBaseUrl).origin;
  return async (input, init) => {
    const requestUrl = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const response = await inner(input, { ...init, redirect: "manual" });
    const { status } = response;
    if (status >= 300 && status < 400) {
      await response.body?.cancel().catch(() => undefined);
      let target: string | undefined;
      try {
        target = new URL(response.headers.get("location") ?? "", requestUrl).origin;
      } catch {
        target = undefined;
      }
      throw new RedirectRefused(status, target, target === apiOrigin);
    }
    if (status === 204 || status === 429 || status >= 500) return response;
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new NotAnApiAnswer(status, `answer that is not JSON (${mediaType(response.headers)})`);
    }
    const parsed = envelope.safeParse(body);
    if (!parsed.success) {
      throw new NotAnApiAnswer(status, "JSON answer without Cloudflare's envelope (no boolean `success`)");
    }
    if (status < 300 && (parsed.data.success !== true || !("result" in parsed.data))) {
      throw new NotAnApiAnswer(status, "answer with `success: false` or without `result`");
    }
    const headers = new Headers(response.headers);
    headers.set("content-type", "application/json");
    headers.delete("content-length");
    headers.delete("content-encoding");
    return new Response(text, { status, statusText: response.statusText, headers });
  };
}

/** An SDK client for one token: no other credential from the environment, no SDK retries. */
export function createClient(options: {
  readonly token: string;
  readonly apiBaseUrl: string;
  readonly timeoutMs: number;
}): Cloudflare {
  return new Cloudflare({
    apiToken: options.token,
    // Never fall back to other credentials or settings from the environment.
    apiKey: null,
    apiEmail: null,
    userServiceKey: null,
    baseURL: options.apiBaseUrl,
    maxRetries: 0,
    timeout: options.timeoutMs,
    logLevel: "off",
    fetch: guardedFetch(options.apiBaseUrl),
  });
}

/** Checks an SDK result against the shape the caller relies on. */
function shaped<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new NotAnApiAnswer(200, `answer whose ${what} is not shaped as documented`);
  return parsed.data;
}

/** "GET /accounts/<id>/storage/kv/namespaces" — for reports and for the stand-in in tests. */
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

/** Makes the read-only call; resolves when it succeeded, rejects with the SDK's error. */
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

const pageInfo = z.looseObject({ total_pages: z.number().optional() }).optional();

const zonesPage = z.object({
  result: z.array(z.looseObject({ id: z.string(), name: z.string() })),
  result_info: pageInfo,
});

/** One page of GET /zones: the ids on it and whether another page follows. */
export async function listZonesPage(
  client: Cloudflare,
  page: number,
  options: CallOptions,
): Promise<{ zones: { id: string; name: string }[]; last: boolean }> {
  const answer = shaped(
    zonesPage,
    await client.zones.list({ per_page: ZONES_PER_PAGE, page }, options),
    "zone list",
  );
  const zones = answer.result.map((zone) => ({ id: zone.id, name: zone.name }));
  const totalPages = answer.result_info?.total_pages;
  const last = zones.length < ZONES_PER_PAGE || (totalPages !== undefined && page >= totalPages);
  return { zones, last };
}

const verifyAnswer = z.looseObject({
  id: z.string(),
  status: z.string(),
  expires_on: z.string().optional(),
  not_before: z.string().optional(),
});
export type VerifyAnswer = z.infer<typeof verifyAnswer>;

/** The verify endpoint in the form that matches the token's owner. */
export async function verifyToken(
  client: Cloudflare,
  owner: TokenOwner,
  accountId: string,
  options: CallOptions,
): Promise<VerifyAnswer> {
  const answer =
    owner === "account"
      ? await client.accounts.tokens.verify({ account_id: accountId }, options)
      : await client.user.tokens.verify(options);
  return shaped(verifyAnswer, answer, "verify result");
}

export function verifyPath(owner: TokenOwner, accountId: string): string {
  return owner === "account" ? `/accounts/${accountId}/tokens/verify` : "/user/tokens/verify";
}

/** Where an owner's tokens live: `/accounts/<id>/tokens` or `/user/tokens`. */
export function tokensPath(owner: TokenOwner, accountId: string): string {
  return owner === "account" ? `/accounts/${accountId}/tokens` : "/user/tokens";
}

const tokenPolicy = z.looseObject({
  effect: z.string(),
  permission_groups: z.array(z.looseObject({ id: z.string(), name: z.string().optional() })),
  resources: z.record(z.string(), z.union([z.string(), z.record(z.string(), z.string())])),
});

const tokenSummary = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  expires_on: z.string().optional(),
  issued_on: z.string().optional(),
  policies: z.array(tokenPolicy).optional(),
});
export type TokenSummary = z.infer<typeof tokenSummary>;

const tokensPage = z.object({ result: z.array(tokenSummary), result_info: pageInfo });

export const TOKENS_PER_PAGE = 50;

/**
 * One page of the owner's tokens, expired ones included (the API leaves recently expired tokens
 * out unless asked: `include_expired`, account-api-tokens-list-tokens / user-api-tokens-list-tokens).
 */
export async function listTokensPage(
  client: Cloudflare,
  owner: TokenOwner,
  accountId: string,
  page: number,
  options: CallOptions,
): Promise<{ tokens: TokenSummary[]; last: boolean }> {
  const query = { per_page: TOKENS_PER_PAGE, page, include_expired: true };
  const raw =
    owner === "account"
      ? await client.accounts.tokens.list({ account_id: accountId, ...query }, options)
      : await client.user.tokens.list(query, options);
  const answer = shaped(tokensPage, raw, "token list");
  const totalPages = answer.result_info?.total_pages;
  const last = answer.result.length < TOKENS_PER_PAGE || (totalPages !== undefined && page >= totalPages);
  return { tokens: answer.result, last };
}

/** One token's details, its policies included (account-api-tokens-token-details / user-api-tokens-token-details). */
export async function tokenDetails(
  client: Cloudflare,
  owner: TokenOwner,
  accountId: string,
  tokenId: string,
  options: CallOptions,
): Promise<TokenSummary> {
  const raw =
    owner === "account"
      ? await client.accounts.tokens.get(tokenId, { account_id: accountId }, options)
      : await client.user.tokens.get(tokenId, options);
  return shaped(tokenSummary, raw, "token details");
}

/** Deletes one token (account-api-tokens-delete-token / user-api-tokens-delete-token). */
export async function deleteToken(
  client: Cloudflare,
  owner: TokenOwner,
  accountId: string,
  tokenId: string,
  options: CallOptions,
): Promise<void> {
  if (owner === "account") await client.accounts.tokens.delete(tokenId, { account_id: accountId }, options);
  else await client.user.tokens.delete(tokenId, options);
}

/** Where Cloudflare publishes which permission groups each operation accepts. */
const OPENAPI =
  "cloudflare/api-schemas openapi.json (commit c92b9b0fde23ae00fece2025662f96dc8e2d6283), x-api-token-group of";

export interface EndpointFacts {
  /** The OpenAPI operation the call is. */
  readonly operationId: string;
  /** Permission groups Cloudflare accepts for it, as published (`x-api-token-group`). */
  readonly acceptedGroups: readonly string[];
  /** Whether the call needs an object that may not exist yet (the Worker script). */
  readonly needsObject: boolean;
  readonly source: string;
}

const fact = (operationId: string, acceptedGroups: readonly string[], needsObject = false, note = "") =>
  ({
    operationId,
    acceptedGroups,
    needsObject,
    source: `${OPENAPI} ${operationId}${note}`,
  }) satisfies EndpointFacts;

/**
 * Which permission groups each probe call accepts, from Cloudflare's published OpenAPI. The probe
 * planner picks, per grant, the call that accepts the fewest groups including it, and turns every
 * call none of whose groups the stack holds into a "must be refused" probe.
 */
export const ENDPOINT_FACTS: Readonly<Record<Exclude<Endpoint["kind"], "zones-list">, EndpointFacts>> = {
  "account-settings": fact("accounts-account-details", [
    "Trust and Safety Write",
    "Trust and Safety Read",
    "DNS View Write",
    "DNS View Read",
    "SCIM Provisioning",
    "Load Balancers Account Write",
    "Load Balancers Account Read",
    "Zero Trust: PII Read",
    "DDoS Botnet Feed Write",
    "DDoS Botnet Feed Read",
    "Workers R2 Storage Write",
    "Workers R2 Storage Read",
    "DDoS Protection Write",
    "DDoS Protection Read",
    "Workers Tail Read",
    "Workers KV Storage Write",
    "Workers KV Storage Read",
    "Workers Scripts Write",
    "Workers Scripts Read",
    "Load Balancing: Monitors and Pools Write",
    "Load Balancing: Monitors and Pools Read",
    "Account Firewall Access Rules Write",
    "Account Firewall Access Rules Read",
    "DNS Firewall Write",
    "DNS Firewall Read",
    "Billing Write",
    "Billing Read",
    "Account Settings Write",
    "Account Settings Read",
  ]),
  "worker-scripts": fact("worker-script-list-workers", [
    "Workers Tail Read",
    "Workers Scripts Write",
    "Workers Scripts Read",
  ]),
  "kv-namespaces": fact("workers-kv-namespace-list-namespaces", [
    "Workers KV Storage Write",
    "Workers KV Storage Read",
  ]),
  "r2-buckets": fact("r2-list-buckets", ["Workers R2 Storage Write", "Workers R2 Storage Read"]),
  "worker-tails": fact("worker-tail-logs-list-tails", ["Workers Tail Read", "Workers Scripts Write"], true),
  "account-tokens": fact("account-api-tokens-list-tokens", [
    "Account API Tokens Write",
    "Account API Tokens Read",
  ]),
  "user-tokens": fact("user-api-tokens-list-tokens", ["API Tokens Write", "API Tokens Read"]),
  zone: fact("zones-0-get", [
    "Trust and Safety Write",
    "Trust and Safety Read",
    "Zero Trust: PII Read",
    "Zaraz Edit",
    "Zaraz Read",
    "Zaraz Admin",
    "Access: Apps and Policies Revoke",
    "Access: Apps and Policies Write",
    "Access: Apps and Policies Read",
    "Access: Mutual TLS Certificates Write",
    "Access: Organizations, Identity Providers, and Groups Write",
    "Zone Settings Write",
    "Zone Settings Read",
    "Zone Read",
    "DNS Read",
    "Workers Scripts Write",
    "Workers Scripts Read",
    "Zone Write",
    "Workers Routes Write",
    "Workers Routes Read",
    "Stream Write",
    "Stream Read",
    "SSL and Certificates Write",
    "SSL and Certificates Read",
    "Logs Write",
    "Logs Read",
    "Cache Purge",
    "Page Rules Write",
    "Page Rules Read",
    "Load Balancers Write",
    "Load Balancers Read",
    "Firewall Services Write",
    "Firewall Services Read",
    "DNS Write",
    "Apps Write",
    "Analytics Read",
  ]),
  "worker-routes": fact("worker-routes-list-routes", ["Workers Routes Write", "Workers Routes Read"]),
  "dns-records": fact(
    "dns-records-for-a-zone-list-dns-records",
    ["DNS Read", "DNS Write"],
    false,
    " (the same groups as dns-records-for-a-zone-dns-record-details)",
  ),
  "custom-hostnames": fact(
    "custom-hostname-for-a-zone-list-custom-hostnames",
    ["SSL and Certificates Write", "SSL and Certificates Read"],
    false,
    " (the same groups as custom-hostname-for-a-zone-custom-hostname-details)",
  ),
};
