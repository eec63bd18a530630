/**
 * The stand-in's API-token routes: verify, list, details, delete and permission groups, for account-
 * owned tokens (`/accounts/{account_id}/tokens…`) and user-owned ones (`/user/tokens…`). What the
 * verifier (`verify-token`, `--admin`) and the sweeper (`sweep-tokens`) call.
 *
 * Accepted groups per operation: `x-api-token-group` in cloudflare/api-schemas openapi.json (commit
 * c92b9b0fde23ae00fece2025662f96dc8e2d6283), cited on each route. The verify operations carry no
 * `x-api-token-group`: any live token may verify itself, in the form matching its owner.
 *
 * Tokens are the stand-in's own (`addToken`); the one user of the stand-in is USER_RESOURCE, so a
 * user-level grant is `{ permission: "API Tokens Write", resource: USER_RESOURCE }`.
 */
import { createHash } from "node:crypto";

import {
  StandinError,
  type StandinReply,
  type StandinRequest,
  type StandinRoute,
  type StandinToken,
} from "../server";

const OPENAPI = "cloudflare/api-schemas openapi.json (c92b9b0fde23ae00fece2025662f96dc8e2d6283)";

/** The stand-in's single user, as a token resource string. */
export const USER_RESOURCE = "com.cloudflare.api.user.5e1f0000000000000000000000000001";

export interface TokenRoutesOptions {
  /** The clock for "expired" (an active token whose expires_on has passed); default the real one. */
  readonly now?: () => Date;
  /** The permission groups the list endpoints return (name, id, scope); default none. */
  readonly permissionGroups?: readonly {
    readonly id: string;
    readonly name: string;
    readonly scopes: readonly string[];
  }[];
}

/**
 * A stand-in permission-group id, derived from the name: deliberately not the catalog's ids, so code
 * that reads a token's policies back is never answered from its own table. Names come back too, as
 * Cloudflare's token details include them.
 */
export const standinGroupId = (name: string) => createHash("sha1").update(name).digest("hex").slice(0, 32);

/** A token as Cloudflare's token list and details return it (iam_token schema). */
function tokenBody(token: StandinToken) {
  return {
    id: token.id,
    name: token.name,
    status: token.status,
    issued_on: "2026-01-01T00:00:00Z",
    modified_on: "2026-01-01T00:00:00Z",
    ...(token.expiresOn === undefined ? {} : { expires_on: token.expiresOn }),
    policies: token.grants.map((grant, index) => ({
      id: `policy-${index}`,
      effect: "allow",
      permission_groups: [{ id: standinGroupId(grant.permission), name: grant.permission }],
      resources: { [grant.resource]: "*" },
    })),
  };
}

type Owner = { kind: "account"; accountId: string } | { kind: "user" };

function ownedBy(token: StandinToken, owner: Owner): boolean {
  return owner.kind === "user"
    ? token.owner.kind === "user"
    : token.owner.kind === "account" && token.owner.accountId === owner.accountId;
}

function ownerOf(request: StandinRequest): Owner {
  const accountId = request.params.account_id;
  return accountId === undefined ? { kind: "user" } : { kind: "account", accountId };
}

export function tokenRoutes(options: TokenRoutesOptions = {}): StandinRoute[] {
  const now = options.now ?? (() => new Date());
  const isExpired = (token: StandinToken) =>
    token.status === "expired" ||
    (token.expiresOn !== undefined && Date.parse(token.expiresOn) <= now().getTime());

  const verify = (request: StandinRequest, token: StandinToken | undefined): StandinReply => {
    if (token === undefined || !ownedBy(token, ownerOf(request))) {
      // The same answer the stand-in gives any token it does not know (server.ts).
      throw new StandinError(400, 1000, "Invalid API Token");
    }
    return {
      result: {
        id: token.id,
        status: token.status,
        ...(token.expiresOn === undefined ? {} : { expires_on: token.expiresOn }),
      },
    };
  };

  const list = (request: StandinRequest, tokens: Iterable<StandinToken>): StandinReply => {
    const includeExpired = request.query.get("include_expired") === "true";
    const listed = [...tokens].filter(
      (token) => ownedBy(token, ownerOf(request)) && (includeExpired || !isExpired(token)),
    );
    const page = Math.max(1, Number(request.query.get("page") ?? "1"));
    const perPage = Math.min(50, Math.max(5, Number(request.query.get("per_page") ?? "20")));
    const slice = listed.slice((page - 1) * perPage, page * perPage);
    return {
      result: slice.map(tokenBody),
      resultInfo: {
        page,
        per_page: perPage,
        count: slice.length,
        total_count: listed.length,
        total_pages: Math.max(1, Math.ceil(listed.length / perPage)),
      },
    };
  };

  const find = (request: StandinRequest, tokens: Map<string, StandinToken>): [string, StandinToken] => {
    for (const entry of tokens) {
      if (entry[1].id === request.params.token_id && ownedBy(entry[1], ownerOf(request))) return entry;
    }
    throw new StandinError(404, 1003, "Token not found");
  };

  const groups = (): StandinReply => ({ result: options.permissionGroups ?? [] });
  const user = () => USER_RESOURCE;

  const routes: StandinRoute[] = [];
  for (const scope of ["account", "user"] as const) {
    const base = scope === "account" ? "/accounts/:account_id/tokens" : "/user/tokens";
    const op = scope === "account" ? "account-api-tokens" : "user-api-tokens";
    const read =
      scope === "account"
        ? ["Account API Tokens Write", "Account API Tokens Read"]
        : ["API Tokens Write", "API Tokens Read"];
    const write = scope === "account" ? ["Account API Tokens Write"] : ["API Tokens Write"];
    const resource = scope === "account" ? ("account" as const) : user;
    // Fixed paths before `/:token_id`: the stand-in takes the first route that matches.
    routes.push(
      {
        method: "GET",
        path: `${base}/verify`,
        operationId: `${op}-verify-token`,
        permissions: [],
        resource: "authenticated",
        source: `${OPENAPI} ${op}-verify-token (no x-api-token-group: a token verifies itself)`,
        handle: (request, context) => verify(request, context.token),
      },
      {
        method: "GET",
        path: `${base}/permission_groups`,
        operationId:
          scope === "account" ? `${op}-list-permission-groups` : "permission-groups-list-permission-groups",
        permissions: read,
        resource,
        source: `${OPENAPI} ${scope === "account" ? `${op}-list-permission-groups` : "permission-groups-list-permission-groups"} x-api-token-group`,
        handle: groups,
      },
      {
        method: "GET",
        path: base,
        operationId: `${op}-list-tokens`,
        permissions: read,
        resource,
        source: `${OPENAPI} ${op}-list-tokens x-api-token-group; include_expired (iam_include_expired) adds expired tokens`,
        handle: (request, context) => list(request, context.state.tokens.values()),
      },
      {
        method: "GET",
        path: `${base}/:token_id`,
        operationId: `${op}-token-details`,
        permissions: read,
        resource,
        source: `${OPENAPI} ${op}-token-details x-api-token-group`,
        handle: (request, context) => ({ result: tokenBody(find(request, context.state.tokens)[1]) }),
      },
      {
        method: "DELETE",
        path: `${base}/:token_id`,
        operationId: `${op}-delete-token`,
        permissions: write,
        resource,
        source: `${OPENAPI} ${op}-delete-token x-api-token-group (Write only)`,
        handle: (request, context) => {
          const [value, token] = find(request, context.state.tokens);
          context.state.tokens.delete(value);
          return { result: { id: token.id } };
        },
      },
    );
  }
  return routes;
}
