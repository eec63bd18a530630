/**
 * A local stand-in for the Cloudflare API (http://127.0.0.1:PORT/client/v4), for running real
 * clients (wrangler, the verifier, the sweeper) offline. It enforces a per-endpoint permission table:
 * a request is served only when its bearer token holds one of the route's accepted permission groups
 * (OpenAPI `x-api-token-group`) on the resource the route touches (the account or zone in the path).
 * Every route cites its source. Replies use Cloudflare's envelope ({success, errors, messages, result}).
 *
 * Error replies (codes as real clients read them):
 * - no Authorization header: 400, code 9106 ("Missing X-Auth-Key, X-Auth-Email or Authorization headers");
 * - a token the stand-in does not know, or one that is not active: 400, code 1000 ("Invalid API Token");
 * - a known token without an accepted group on the resource: 403, code 10000 ("Authentication error"),
 *   which wrangler reads as an authentication error (isAuthenticationError: `code === 10000`,
 *   wrangler 4.86.0 wrangler-dist/cli.js) and answers with its own permission hints or fallbacks;
 * - no route for the method and path: 404, code 7003 ("No route for the URI", the example of
 *   api-response-common-failure in cloudflare/api-schemas openapi.json).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One permission group on one token resource string (`com.cloudflare.api.account.<id>`, `...zone.<id>`). */
export interface StandinGrant {
  readonly permission: string;
  readonly resource: string;
}

export interface StandinToken {
  /** The bearer value a client sends. */
  readonly value: string;
  /** Cloudflare's token id (32 hex); generated when not given. */
  readonly id: string;
  readonly name: string;
  readonly grants: readonly StandinGrant[];
  status: "active" | "disabled" | "expired";
  readonly expiresOn?: string;
  /** Who owns it: an account (account-owned token) or the user. */
  readonly owner: { readonly kind: "account"; readonly accountId: string } | { readonly kind: "user" };
  /** Anything a route module wants to keep with the token. */
  readonly meta: Record<string, unknown>;
}

export type NewStandinToken = Pick<StandinToken, "value" | "grants"> &
  Partial<Omit<StandinToken, "value" | "grants">>;

export interface StandinRequest {
  readonly method: string;
  /** Path under /client/v4, e.g. "/accounts/abc/workers/scripts/edge". */
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body as JSON (throws StandinError 400 when it is not). */
  json<T = unknown>(): T;
  /** The body as multipart form data. */
  formData(): Promise<FormData>;
}

export interface StandinContext {
  readonly state: StandinState;
  /** The token the request authenticated with (undefined only for routes with `resource: "public"`). */
  readonly token: StandinToken | undefined;
  readonly route: StandinRoute;
}

export interface StandinReply {
  readonly status?: number;
  readonly result?: unknown;
  readonly resultInfo?: Record<string, unknown>;
}

/**
 * What a route's permission is checked against:
 * - "account" / "zone": the `:account_id` / `:zone_id` in the path;
 * - "all-zones": every zone (`com.cloudflare.api.account.zone.*`);
 * - "authenticated": any active token, no group needed (e.g. /user/tokens/verify);
 * - "public": no token at all;
 * - a function: the resource string to check, computed from the request.
 */
export type StandinResource =
  | "account"
  | "zone"
  | "all-zones"
  | "authenticated"
  | "public"
  | ((request: StandinRequest, token: StandinToken) => string);

export interface StandinRoute {
  readonly method: string;
  /** Path pattern under /client/v4 with `:name` parameters: "/accounts/:account_id/workers/scripts/:script_name". */
  readonly path: string;
  /** OpenAPI operationId, undefined for calls the published OpenAPI omits. */
  readonly operationId: string | undefined;
  /** Accepted permission groups (catalog names), any one of which allows the call. */
  readonly permissions: readonly string[];
  readonly resource: StandinResource;
  /** Citation: where the route, its groups and its behaviour come from. */
  readonly source: string;
  handle(request: StandinRequest, context: StandinContext): StandinReply | Promise<StandinReply>;
}

/** Thrown by a handler to answer with a Cloudflare error envelope. */
export class StandinError extends Error {
  override readonly name = "StandinError";
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Shared mutable state; route modules keep their own maps in it under their own keys. */
export interface StandinState {
  readonly tokens: Map<string, StandinToken>;
  readonly [moduleKey: string]: unknown;
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly status: number;
  /** The route's operationId ("(unmatched)" when no route matched). */
  readonly operationId: string;
  /** The first error code of the reply, when it failed. */
  readonly errorCode?: number;
  /** The id of the token used, when one was. */
  readonly tokenId?: string;
}

export interface StandinOptions {
  readonly routes: readonly StandinRoute[];
  /** Initial module state, merged into `state`. */
  readonly state?: Record<string, unknown>;
}

export interface Standin {
  /** http://127.0.0.1:PORT/client/v4 (CLOUDFLARE_API_BASE_URL for wrangler). */
  readonly baseUrl: string;
  readonly requests: LoggedRequest[];
  readonly state: StandinState;
  addToken(token: NewStandinToken): StandinToken;
  close(): Promise<void>;
}

const API_PREFIX = "/client/v4";
const ACCOUNT_PREFIX = "com.cloudflare.api.account.";
const ZONE_PREFIX = "com.cloudflare.api.account.zone.";
const ALL_ZONES = `${ZONE_PREFIX}*`;
const ALL_ACCOUNTS = `${ACCOUNT_PREFIX}*`;

/** Whether a grant's resource string covers the needed one (exact, or the all-accounts / all-zones wildcard). */
export function resourceCovers(granted: string, needed: string): boolean {
  if (granted === needed) return true;
  if (granted === ALL_ZONES) return needed.startsWith(ZONE_PREFIX);
  if (granted === ALL_ACCOUNTS) return needed.startsWith(ACCOUNT_PREFIX) && !needed.startsWith(ZONE_PREFIX);
  return false;
}

/** Whether `token` holds one of `permissions` on `resource`. */
export function tokenAllows(token: StandinToken, permissions: readonly string[], resource: string): boolean {
  return token.grants.some(
    (grant) => permissions.includes(grant.permission) && resourceCovers(grant.resource, resource),
  );
}

function compile(path: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const pattern = path
    .split("/")
    .map((segment) => {
      if (!segment.startsWith(":")) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(segment.slice(1));
      return "([^/]+)";
    })
    .join("/");
  return { regex: new RegExp(`^${pattern}$`), names };
}

function envelope(
  success: boolean,
  result: unknown,
  errors: { code: number; message: string }[],
  info?: unknown,
) {
  return JSON.stringify({
    success,
    errors,
    messages: [],
    result,
    ...(info === undefined ? {} : { result_info: info }),
  });
}

let tokenCounter = 0;
const randomHex = () =>
  Array.from({ length: 32 }, () => "0123456789abcdef"[Math.floor(Math.random() * 16)]).join("");

export async function startStandin(options: StandinOptions): Promise<Standin> {
  const state: StandinState = { tokens: new Map<string, StandinToken>(), ...(options.state ?? {}) };
  const requests: LoggedRequest[] = [];
  const compiled = options.routes.map((route) => ({ route, ...compile(route.path) }));

  const handle = async (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(incoming.url ?? "/", "http://127.0.0.1");
    const method = (incoming.method ?? "GET").toUpperCase();
    const path = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) : url.pathname;
    let operationId = "(unmatched)";
    let token: StandinToken | undefined;

    const reply = (
      status: number,
      result: unknown,
      errors: { code: number; message: string }[],
      info?: unknown,
    ) => {
      requests.push({
        method,
        path,
        query: url.search,
        status,
        operationId,
        ...(errors[0] === undefined ? {} : { errorCode: errors[0].code }),
        ...(token === undefined ? {} : { tokenId: token.id }),
      });
      outgoing.writeHead(status, { "content-type": "application/json" });
      outgoing.end(envelope(status < 400, result, errors, info));
    };

    let match: { route: StandinRoute; params: Record<string, string> } | undefined;
    for (const candidate of compiled) {
      if (candidate.route.method !== method) continue;
      const found = candidate.regex.exec(path);
      if (!found) continue;
      const params: Record<string, string> = {};
      candidate.names.forEach((name, index) => (params[name] = decodeURIComponent(found[index + 1] ?? "")));
      match = { route: candidate.route, params };
      break;
    }
    if (!match) return reply(404, null, [{ code: 7003, message: "No route for the URI" }]);
    const { route, params } = match;
    operationId = route.operationId ?? `(undocumented) ${route.method} ${route.path}`;

    const request: StandinRequest = {
      method,
      path,
      params,
      query: url.searchParams,
      headers: incoming.headers,
      body,
      json<T>() {
        try {
          return JSON.parse(body.toString("utf8")) as T;
        } catch {
          throw new StandinError(400, 10026, "Request body is not valid JSON");
        }
      },
      formData() {
        const contentType = incoming.headers["content-type"] ?? "";
        return new Request("http://127.0.0.1/", {
          method: "POST",
          headers: { "content-type": contentType },
          body,
        })
          .formData()
          .catch(() => {
            throw new StandinError(400, 10026, "Request body is not valid multipart form data");
          });
      },
    };

    if (route.resource !== "public") {
      const authorization = incoming.headers.authorization;
      if (authorization === undefined || !authorization.startsWith("Bearer ")) {
        return reply(400, null, [
          { code: 9106, message: "Missing X-Auth-Key, X-Auth-Email or Authorization headers" },
        ]);
      }
      token = state.tokens.get(authorization.slice("Bearer ".length));
      if (token === undefined || token.status !== "active") {
        token = undefined;
        return reply(400, null, [{ code: 1000, message: "Invalid API Token" }]);
      }
      if (route.resource !== "authenticated") {
        const resource =
          route.resource === "account"
            ? `${ACCOUNT_PREFIX}${params.account_id ?? ""}`
            : route.resource === "zone"
              ? `${ZONE_PREFIX}${params.zone_id ?? ""}`
              : route.resource === "all-zones"
                ? ALL_ZONES
                : route.resource(request, token);
        if (!tokenAllows(token, route.permissions, resource)) {
          return reply(403, null, [{ code: 10000, message: "Authentication error" }]);
        }
      }
    }

    try {
      const result = await route.handle(request, { state, token, route });
      reply(result.status ?? 200, result.result ?? null, [], result.resultInfo);
    } catch (error) {
      if (error instanceof StandinError)
        return reply(error.status, null, [{ code: error.code, message: error.message }]);
      reply(500, null, [{ code: 10002, message: `stand-in handler failed: ${(error as Error).message}` }]);
    }
  };

  const server = createServer((incoming, outgoing) => {
    handle(incoming, outgoing).catch((error: unknown) => {
      outgoing.writeHead(500, { "content-type": "application/json" });
      outgoing.end(envelope(false, null, [{ code: 10002, message: String(error) }]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}${API_PREFIX}`,
    requests,
    state,
    addToken(fields) {
      tokenCounter += 1;
      const token: StandinToken = {
        id: fields.id ?? randomHex(),
        name: fields.name ?? `stand-in token ${tokenCounter}`,
        status: fields.status ?? "active",
        owner: fields.owner ?? { kind: "user" },
        meta: fields.meta ?? {},
        ...(fields.expiresOn === undefined ? {} : { expiresOn: fields.expiresOn }),
        value: fields.value,
        grants: fields.grants,
      };
      state.tokens.set(token.value, token);
      return token;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
