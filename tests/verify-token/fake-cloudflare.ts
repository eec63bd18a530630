/**
 * A fake Cloudflare API on 127.0.0.1 for the verifier's tests. It speaks the v4 envelope
 * (`success`, `errors[{code, message}]`, `messages`, `result`, `result_info`) and decides 200 vs
 * 403 per endpoint from the calling token's grants, the way Cloudflare's permission model does:
 * each endpoint needs one of a few permission groups on the account or zone in its path.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeGrant {
  readonly permission: string;
  /** com.cloudflare.api.account.<id|*>, com.cloudflare.api.account.zone.<id|*>, com.cloudflare.api.user.<tag|*> */
  readonly resource: string;
  /** A deny policy's grant: takes the permission away on that resource. Default allow. */
  readonly effect?: "allow" | "deny";
}

export interface FakeToken {
  readonly value: string;
  readonly id: string;
  readonly owner: "account" | "user";
  /** For account-owned tokens: the owning account. */
  readonly accountId?: string;
  readonly status: "active" | "disabled" | "expired";
  readonly expiresOn?: string;
  readonly notBefore?: string;
  readonly grants: readonly FakeGrant[];
  /** The token's name as listed (default `token-<id>`). */
  readonly name?: string;
}

export interface FakeZone {
  readonly id: string;
  readonly name: string;
  readonly accountId: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
}

/** What a fault hook may do to one request instead of answering it normally. */
export type Fault =
  | {
      readonly kind: "status";
      readonly status: number;
      readonly headers?: Record<string, string>;
      readonly message?: string;
    }
  | { readonly kind: "hang" }
  /** Sends the status line and headers, then never finishes the body. */
  | { readonly kind: "stall-body" }
  /** Answers 403 with the caller's Authorization header quoted in the error message. */
  | { readonly kind: "echo-authorization" }
  /** Answers 403 quoting the bearer token disguised: upper-cased, base64 or base64url in a blob, or split. */
  | { readonly kind: "echo-disguised"; readonly how: "upper" | "base64" | "base64url" | "split" }
  /** Answers with a redirect to `location`. */
  | { readonly kind: "redirect"; readonly status: number; readonly location: string }
  /** Answers 200 with a body that is not JSON (a captive portal, a proxy's login page). */
  | { readonly kind: "html" }
  /** Answers 200 with JSON that is not Cloudflare's envelope. */
  | { readonly kind: "bare-json" };

export interface FakeOptions {
  readonly tokens: readonly FakeToken[];
  readonly zones: readonly FakeZone[];
  readonly accounts: readonly string[];
  /** Called for every request with how many times this path was requested before (0 first). */
  readonly fault?: (request: { method: string; path: string; seen: number }) => Fault | undefined;
  readonly now?: () => Date;
}

export interface FakeCloudflare {
  /** Base URL to pass as --api-base-url. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** The tokens that exist now (DELETE removes them). */
  readonly tokens: () => readonly FakeToken[];
  close(): Promise<void>;
}

const ACCOUNT = "com.cloudflare.api.account.";
const ZONE = "com.cloudflare.api.account.zone.";
const USER = "com.cloudflare.api.user.";

interface Route {
  readonly pattern: RegExp;
  readonly scope: "account" | "zone" | "user";
  readonly needs: readonly string[];
  readonly result: (match: RegExpMatchArray) => unknown;
}

const either = (name: string) => [`${name} Read`, `${name} Write`];

/**
 * Accepted groups per operation, from `x-api-token-group` in cloudflare/api-schemas openapi.json
 * (commit c92b9b0fde23ae00fece2025662f96dc8e2d6283); only the groups relevant to Workers deploys
 * are listed for the two operations that accept dozens.
 */
const ROUTES: readonly Route[] = [
  {
    // accounts-account-details: accepts (among ~30) every Workers, KV, R2 and Account Settings group.
    pattern: /^\/accounts\/([^/]+)$/,
    scope: "account",
    needs: [
      ...either("Account Settings"),
      ...either("Workers Scripts"),
      "Workers Tail Read",
      ...either("Workers KV Storage"),
      ...either("Workers R2 Storage"),
    ],
    result: (m) => ({ id: m[1], name: "Acme", settings: {} }),
  },
  {
    // worker-script-list-workers
    pattern: /^\/accounts\/([^/]+)\/workers\/scripts$/,
    scope: "account",
    needs: ["Workers Tail Read", ...either("Workers Scripts")],
    result: () => [{ id: "edge-chat" }],
  },
  {
    // worker-tail-logs-list-tails
    pattern: /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/tails$/,
    scope: "account",
    needs: ["Workers Tail Read", "Workers Scripts Write"],
    result: () => ({ id: "tail", url: "wss://tail.example", expires_at: "2026-12-01T00:00:00Z" }),
  },
  {
    // workers-kv-namespace-list-namespaces
    pattern: /^\/accounts\/([^/]+)\/storage\/kv\/namespaces$/,
    scope: "account",
    needs: either("Workers KV Storage"),
    result: () => [],
  },
  {
    // r2-list-buckets
    pattern: /^\/accounts\/([^/]+)\/r2\/buckets$/,
    scope: "account",
    needs: either("Workers R2 Storage"),
    result: () => ({ buckets: [] }),
  },
  {
    // account-api-tokens-list-tokens
    pattern: /^\/accounts\/([^/]+)\/tokens$/,
    scope: "account",
    needs: either("Account API Tokens"),
    result: () => [],
  },
  // user-api-tokens-list-tokens
  { pattern: /^\/user\/tokens$/, scope: "user", needs: either("API Tokens"), result: () => [] },
  {
    // zones-0-get: accepts (among ~40) every zone group here and Workers Scripts Read/Write.
    pattern: /^\/zones\/([^/]+)$/,
    scope: "zone",
    needs: [
      ...either("Zone"),
      ...either("Workers Routes"),
      ...either("DNS"),
      ...either("SSL and Certificates"),
      ...either("Workers Scripts"),
    ],
    result: (m) => ({ id: m[1], name: "zone" }),
  },
  {
    // worker-routes-list-routes
    pattern: /^\/zones\/([^/]+)\/workers\/routes$/,
    scope: "zone",
    needs: either("Workers Routes"),
    result: () => [],
  },
  // dns-records-for-a-zone-list-dns-records
  { pattern: /^\/zones\/([^/]+)\/dns_records$/, scope: "zone", needs: either("DNS"), result: () => [] },
  {
    // custom-hostname-for-a-zone-list-custom-hostnames
    pattern: /^\/zones\/([^/]+)\/custom_hostnames$/,
    scope: "zone",
    needs: either("SSL and Certificates"),
    result: () => [],
  },
];

function covers(resource: string, scope: "account" | "zone" | "user", id: string): boolean {
  if (scope === "zone") return resource === `${ZONE}${id}` || resource === `${ZONE}*`;
  if (scope === "user") return resource.startsWith(USER);
  return !resource.startsWith(ZONE) && (resource === `${ACCOUNT}${id}` || resource === `${ACCOUNT}*`);
}

/** Whether the token's policies let `permissions` through on the id (allow grants minus deny grants). */
function allows(
  token: FakeToken,
  permissions: readonly string[],
  scope: "account" | "zone" | "user",
  id: string,
) {
  const matching = (effect: "allow" | "deny") =>
    token.grants.some(
      (grant) =>
        (grant.effect ?? "allow") === effect &&
        permissions.includes(grant.permission) &&
        covers(grant.resource, scope, id),
    );
  return matching("allow") && !matching("deny");
}

/** A stand-in permission-group id (not the catalog's: the code under test must not be answered from its own table). */
const groupId = (name: string) => createHash("sha1").update(name).digest("hex").slice(0, 32);

/** A token as the token list/details operations return it (iam_token schema). */
function tokenBody(token: FakeToken) {
  return {
    id: token.id,
    name: token.name ?? `token-${token.id}`,
    status: token.status,
    issued_on: "2026-01-01T00:00:00Z",
    ...(token.expiresOn ? { expires_on: token.expiresOn } : {}),
    ...(token.notBefore ? { not_before: token.notBefore } : {}),
    policies: token.grants.map((grant, index) => ({
      id: `policy${index}`,
      effect: grant.effect ?? "allow",
      permission_groups: [{ id: groupId(grant.permission), name: grant.permission }],
      resources: { [grant.resource]: "*" },
    })),
  };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function ok(res: ServerResponse, result: unknown, resultInfo?: unknown): void {
  send(res, 200, {
    success: true,
    errors: [],
    messages: [],
    result,
    ...(resultInfo ? { result_info: resultInfo } : {}),
  });
}

function fail(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers?: Record<string, string>,
): void {
  send(res, status, { success: false, errors: [{ code, message }], messages: [], result: null }, headers);
}

export async function startFakeCloudflare(options: FakeOptions): Promise<FakeCloudflare> {
  const requests: RecordedRequest[] = [];
  const seen = new Map<string, number>();
  let live: FakeToken[] = [...options.tokens];
  const now = options.now ?? (() => new Date());

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname.replace(/^\/client\/v4/, "");
    const method = req.method ?? "GET";
    requests.push({ method, path, headers: req.headers });
    const count = seen.get(`${method} ${path}`) ?? 0;
    seen.set(`${method} ${path}`, count + 1);

    const fault = options.fault?.({ method, path, seen: count });
    if (fault?.kind === "hang") return; // never answer
    if (fault?.kind === "stall-body") {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"success":true,"result":');
      return;
    }
    if (fault?.kind === "redirect") {
      res.writeHead(fault.status, { location: fault.location, "content-type": "text/plain" });
      res.end("moved");
      return;
    }
    if (fault?.kind === "html") {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html><body>Sign in to continue</body></html>");
      return;
    }
    if (fault?.kind === "bare-json") return send(res, 200, { hello: "world" });
    if (fault?.kind === "echo-disguised") {
      const bearer = (req.headers.authorization ?? "").replace(/^Bearer /, "");
      const shown =
        fault.how === "upper"
          ? bearer.toUpperCase()
          : fault.how === "split"
            ? `${bearer.slice(0, 12)} … ${bearer.slice(12, 24)} … ${bearer.slice(24)}`
            : Buffer.from(`user:${bearer}:x`).toString(fault.how);
      return fail(res, 403, 10000, `Authentication error for ${shown}`);
    }
    if (fault?.kind === "echo-authorization") {
      return fail(res, 403, 10000, `Authentication error for header ${req.headers.authorization ?? ""}`);
    }
    if (fault?.kind === "status") {
      return fail(
        res,
        fault.status,
        fault.status === 429 ? 971 : 10001,
        fault.message ?? "injected",
        fault.headers,
      );
    }
    const tokenItem = /^\/(?:accounts\/([^/]+)|user)\/tokens\/([0-9a-f]{32})$/.exec(path);
    if (method !== "GET" && !(method === "DELETE" && tokenItem)) {
      return fail(res, 405, 10405, "the fake API only reads, and deletes tokens");
    }

    const auth = req.headers.authorization ?? "";
    const token = live.find((candidate) => auth === `Bearer ${candidate.value}`);
    if (req.headers["x-auth-key"] !== undefined || req.headers["x-auth-email"] !== undefined) {
      return fail(res, 400, 6003, "Invalid request headers: do not mix a Global API Key with a token");
    }
    if (!token) return fail(res, 401, 1000, "Invalid API Token");

    const verify = /^\/accounts\/([^/]+)\/tokens\/verify$/.exec(path);
    if (verify || path === "/user/tokens/verify") {
      const matchesOwner = verify
        ? token.owner === "account" && token.accountId === verify[1]
        : token.owner === "user";
      if (!matchesOwner) return fail(res, 401, 1000, "Invalid API Token");
      return ok(res, {
        id: token.id,
        status: token.status,
        ...(token.expiresOn ? { expires_on: token.expiresOn } : {}),
        ...(token.notBefore ? { not_before: token.notBefore } : {}),
      });
    }

    const expired = token.expiresOn !== undefined && new Date(token.expiresOn) <= now();
    const early = token.notBefore !== undefined && new Date(token.notBefore) > now();
    if (token.status !== "active" || expired || early) return fail(res, 401, 1000, "Invalid API Token");

    // Token list / details / delete: account-api-tokens-* and user-api-tokens-* operations
    // (x-api-token-group: list and details accept "… API Tokens Write" or "… Read", delete only Write).
    const tokenList = /^\/(?:accounts\/([^/]+)|user)\/tokens$/.exec(path);
    if (tokenList || tokenItem) {
      const accountId = (tokenList ?? tokenItem)![1];
      const scope = accountId === undefined ? "user" : "account";
      const group = scope === "user" ? "API Tokens" : "Account API Tokens";
      const needs = method === "DELETE" ? [`${group} Write`] : either(group);
      if (!allows(token, needs, scope, accountId ?? "")) return fail(res, 403, 10000, "Authentication error");
      const owned = live.filter((candidate) =>
        scope === "user"
          ? candidate.owner === "user"
          : candidate.owner === "account" && candidate.accountId === accountId,
      );
      if (tokenItem) {
        const target = owned.find((candidate) => candidate.id === tokenItem[2]);
        if (!target) return fail(res, 404, 1003, "Token not found");
        if (method === "DELETE") {
          live = live.filter((candidate) => candidate !== target);
          return ok(res, { id: target.id });
        }
        return ok(res, tokenBody(target));
      }
      const includeExpired = url.searchParams.get("include_expired") === "true";
      const listed = owned.filter(
        (candidate) =>
          includeExpired ||
          !(
            candidate.status === "expired" ||
            (candidate.expiresOn !== undefined && new Date(candidate.expiresOn) <= now())
          ),
      );
      const page = Number(url.searchParams.get("page") ?? "1");
      const perPage = Number(url.searchParams.get("per_page") ?? "20");
      const slice = listed.slice((page - 1) * perPage, page * perPage);
      return ok(res, slice.map(tokenBody), {
        page,
        per_page: perPage,
        count: slice.length,
        total_count: listed.length,
        total_pages: Math.max(1, Math.ceil(listed.length / perPage)),
      });
    }

    if (path === "/zones") {
      const visible = options.zones.filter((zone) =>
        token.grants.some((grant) => covers(grant.resource, "zone", zone.id)),
      );
      const page = Number(url.searchParams.get("page") ?? "1");
      const perPage = Number(url.searchParams.get("per_page") ?? "20");
      const slice = visible.slice((page - 1) * perPage, page * perPage);
      return ok(
        res,
        slice.map((zone) => ({ id: zone.id, name: zone.name, account: { id: zone.accountId } })),
        {
          page,
          per_page: perPage,
          count: slice.length,
          total_count: visible.length,
          total_pages: Math.max(1, Math.ceil(visible.length / perPage)),
        },
      );
    }

    for (const route of ROUTES) {
      const match = path.match(route.pattern);
      if (!match) continue;
      const id = match[1] ?? "";
      const allowed = allows(token, route.needs, route.scope, id);
      if (!allowed) return fail(res, 403, 10000, "Authentication error");
      const known =
        route.scope === "user" ||
        (route.scope === "zone"
          ? options.zones.some((zone) => zone.id === id)
          : options.accounts.includes(id));
      if (!known) {
        return fail(res, 400, 7003, `Could not route to ${path}, perhaps your object identifier is invalid?`);
      }
      const result = route.result(match);
      return Array.isArray(result)
        ? ok(res, result, {
            page: 1,
            per_page: 20,
            count: result.length,
            total_count: result.length,
            total_pages: 1,
          })
        : ok(res, result);
    }
    return fail(res, 404, 7000, "No route for that URI");
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/client/v4`,
    requests,
    tokens: () => live,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
