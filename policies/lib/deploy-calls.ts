/**
 * The Cloudflare API calls the application's deploy makes (wrangler 4.86.0 `deploy`, `secret put`,
 * `secret bulk`, with CLOUDFLARE_ACCOUNT_ID set and the deploy contract's wrangler config), and the
 * permission groups Cloudflare accepts for each. One table, read by the derivation (derive.ts), the
 * Cloudflare API stand-in (tests/standin/routes/workers.ts) and docs/DEPLOY-CONTRACT.md.
 *
 * Sources, cited per row:
 * - `openapi`: cloudflare/api-schemas openapi.json at c92b9b0fde23ae00fece2025662f96dc8e2d6283, the
 *   operation's `x-api-token-group`. OpenAPI spells Zone Read "Zone Zone Read"; `accepted` holds the
 *   catalog names (permission-catalog.ts).
 * - `wrangler`: node_modules/wrangler/wrangler-dist/cli.js 4.86.0 (cloudflare/workers-sdk
 *   packages/wrangler/src/...), the function that makes the call.
 * Pure data: no Pulumi, no I/O.
 */

/** Which part of the app's deploy needs a call. */
export type CallFlow =
  /** Always, when the app deploys the Worker's code (`wrangler deploy`, `secret put`, `secret bulk`). */
  | "script"
  /** A `kv_namespaces` binding without `id`: wrangler creates the namespace. */
  | "kv-create"
  /** `routes` in the app's wrangler config: wrangler attaches them on their zones. */
  | "routes"
  /** A route without `zone_id`: wrangler looks its zone up by name. */
  | "route-zone-lookup";

/** What a call's permission is checked against: the account, the zone in the path, or all zones. */
export type CallResource = "account" | "zone" | "all-zones";

export interface DeployCall {
  readonly method: "GET" | "PUT" | "POST" | "PATCH";
  /** Path under /client/v4, with OpenAPI-style parameters. */
  readonly path: string;
  /** OpenAPI operationId; undefined for calls wrangler makes that the published OpenAPI omits. */
  readonly operationId: string | undefined;
  /** Permission groups Cloudflare accepts for the call (catalog names). */
  readonly accepted: readonly string[];
  readonly resource: CallResource;
  readonly flow: CallFlow;
  /** The command and step that make the call, for reasons and docs. */
  readonly madeBy: string;
  /**
   * The group the derivation grants for this call, one of `accepted`; undefined when the derivation
   * grants nothing for it because wrangler treats its refusal as expected (`tolerated`).
   */
  readonly grant: string | undefined;
  /** Why a refusal does not fail the command, when it does not. */
  readonly tolerated?: string;
  readonly source: string;
}

const OPENAPI = "cloudflare/api-schemas openapi.json@c92b9b0f";
const WRANGLER = "wrangler 4.86.0 wrangler-dist/cli.js";

const SCRIPT_READERS = ["Workers Scripts Read", "Workers Scripts Write", "Workers Tail Read"] as const;

/**
 * Rows in the order wrangler makes them. The first row of each granted group is the call its grant's
 * reason names; writes come before reads of the same group so the reason names the write.
 */
export const DEPLOY_CALLS: readonly DeployCall[] = [
  {
    method: "PUT",
    path: "/accounts/{account_id}/workers/scripts/{script_name}",
    operationId: "worker-script-upload-worker-module",
    accepted: ["Workers Scripts Write"],
    resource: "account",
    flow: "script",
    madeBy: "wrangler deploy: upload of a Worker that does not exist yet",
    grant: "Workers Scripts Write",
    source: `${OPENAPI} worker-script-upload-worker-module; ${WRANGLER} deploy() (src/deploy/deploy.ts)`,
  },
  {
    method: "GET",
    path: "/accounts/{account_id}/workers/services/{script_name}",
    operationId: undefined,
    accepted: [...SCRIPT_READERS],
    resource: "account",
    flow: "script",
    madeBy: "wrangler deploy: does the Worker exist (10007 = first deploy)",
    grant: "Workers Scripts Write",
    source:
      `${WRANGLER} deploy() (src/deploy/deploy.ts). Not in the published OpenAPI: accepted groups taken ` +
      `to be those of the script's other reads (worker-script-get-settings)`,
  },
  {
    method: "GET",
    path: "/accounts/{account_id}/workers/scripts/{script_name}/deployments",
    operationId: "worker-deployments-list-deployments",
    accepted: [...SCRIPT_READERS],
    resource: "account",
    flow: "script",
    madeBy: "wrangler deploy: latest deployment (confirmLatestDeploymentOverwrite)",
    grant: "Workers Scripts Write",
    source: `${OPENAPI} worker-deployments-list-deployments; ${WRANGLER} confirmLatestDeploymentOverwrite() (src/versions/deploy.ts)`,
  },
  {
    method: "GET",
    path: "/accounts/{account_id}/workers/scripts/{script_name}/settings",
    operationId: "worker-script-get-settings",
    accepted: [...SCRIPT_READERS],
    resource: "account",
    flow: "script",
    madeBy:
      "wrangler deploy: existing bindings (provisionBindings); wrangler secret bulk: bindings to inherit",
    grant: "Workers Scripts Write",
    source: `${OPENAPI} worker-script-get-settings; ${WRANGLER} collectPendingResources() (src/deployment-bundle/bindings.ts), secretBulkCommand (src/secret/index.ts)`,
  },
  {
    method: "POST",
    path: "/accounts/{account_id}/workers/scripts/{script_name}/versions",
    operationId: "worker-versions-upload-version",
    accepted: ["Workers Scripts Write"],
    resource: "account",
    flow: "script",
    madeBy: "wrangler deploy: new version of an existing Worker",
    grant: "Workers Scripts Write",
    source: `${OPENAPI} worker-versions-upload-version; ${WRANGLER} deploy() canUseNewVersionsDeploymentsApi (src/deploy/deploy.ts)`,
  },
  {
    method: "POST",
    path: "/accounts/{account_id}/workers/scripts/{script_name}/deployments",
    operationId: "worker-deployments-create-deployment",
    accepted: ["Workers Scripts Write"],
    resource: "account",
    flow: "script",
    madeBy: "wrangler deploy: deploy the new version at 100%",
    grant: "Workers Scripts Write",
    source: `${OPENAPI} worker-deployments-create-deployment; ${WRANGLER} createDeployment() (src/versions/api.ts)`,
  },
  {
    method: "PATCH",
    path: "/accounts/{account_id}/workers/scripts/{script_name}/script-settings",
    operationId: "worker-script-settings-patch-settings",
    accepted: ["Workers Scripts Write"],
    resource: "account",
    flow: "script",
    madeBy: "wrangler deploy: logpush, observability, tags of an existing Worker",
    grant: "Workers Scripts Write",
    source: `${OPENAPI} worker-script-settings-patch-settings; ${WRANGLER} patchNonVersionedScriptSettings() (src/versions/api.ts)`,
  },
  {
    method: "GET",
    path: "/accounts/{account_id}/workers/scripts/{script_name}/subdomain",
    operationId: "worker-script-get-subdomain",
    accepted: [...SCRIPT_READERS],
    resource: "account",
    flow: "script",
    madeBy: "wrangler deploy: workers.dev state before (subdomainDeploy)",
    grant: "Workers Scripts Write",
    source: `${OPENAPI} worker-script-get-subdomain; ${WRANGLER} subdomainDeploy() (src/triggers/deploy.ts)`,
  },
  {
    method: "POST",
    path: "/accounts/{account_id}/workers/scripts/{script_name}/subdomain",
    operationId: "worker-script-post-subdomain",
    accepted: ["Workers Scripts Write"],
    resource: "account",
    flow: "script",
    madeBy: "wrangler deploy: set workers.dev and preview URLs (off in the contract)",
    grant: "Workers Scripts Write",
    source: `${OPENAPI} worker-script-post-subdomain; ${WRANGLER} subdomainDeploy() (src/triggers/deploy.ts)`,
  },
  {
    method: "PUT",
    path: "/accounts/{account_id}/workers/scripts/{script_name}/secrets",
    operationId: "worker-put-script-secret",
    accepted: ["Workers Scripts Write"],
    resource: "account",
    flow: "script",
    madeBy: "wrangler secret put",
    grant: "Workers Scripts Write",
    source: `${OPENAPI} worker-put-script-secret; ${WRANGLER} secretPutCommand (src/secret/index.ts)`,
  },
  {
    method: "PATCH",
    path: "/accounts/{account_id}/workers/scripts/{script_name}/settings",
    operationId: "worker-script-patch-settings",
    accepted: ["Workers Scripts Write"],
    resource: "account",
    flow: "script",
    madeBy: "wrangler secret bulk: inherit existing bindings, upsert the secrets",
    grant: "Workers Scripts Write",
    source: `${OPENAPI} worker-script-patch-settings; ${WRANGLER} secretBulkCommand putBindingsSettings() (src/secret/index.ts)`,
  },
  {
    method: "POST",
    path: "/accounts/{account_id}/storage/kv/namespaces",
    operationId: "workers-kv-namespace-create-a-namespace",
    accepted: ["Workers KV Storage Write"],
    resource: "account",
    flow: "kv-create",
    madeBy: "wrangler deploy: create the namespace of an id-less kv_namespaces binding",
    grant: "Workers KV Storage Write",
    source: `${OPENAPI} workers-kv-namespace-create-a-namespace; ${WRANGLER} KVHandler.create() (src/deployment-bundle/bindings.ts)`,
  },
  {
    method: "GET",
    path: "/accounts/{account_id}/storage/kv/namespaces",
    operationId: "workers-kv-namespace-list-namespaces",
    accepted: ["Workers KV Storage Write", "Workers KV Storage Read"],
    resource: "account",
    flow: "kv-create",
    madeBy: "wrangler deploy: existing namespaces to offer before creating one",
    grant: "Workers KV Storage Write",
    source: `${OPENAPI} workers-kv-namespace-list-namespaces; ${WRANGLER} provisionBindings() HANDLERS.kv_namespace.load (src/deployment-bundle/bindings.ts)`,
  },
  {
    method: "POST",
    path: "/zones/{zone_id}/workers/routes",
    operationId: "worker-routes-create-route",
    accepted: ["Workers Routes Write"],
    resource: "zone",
    flow: "routes",
    madeBy: "wrangler deploy: attach a route on its zone (publishRoutesFallback)",
    grant: "Workers Routes Write",
    source: `${OPENAPI} worker-routes-create-route; ${WRANGLER} publishRoutesFallback() (src/deploy/deploy.ts)`,
  },
  {
    method: "GET",
    path: "/zones/{zone_id}/workers/routes",
    operationId: "worker-routes-list-routes",
    accepted: ["Workers Routes Write", "Workers Routes Read"],
    resource: "zone",
    flow: "routes",
    madeBy: "wrangler deploy: routes already on the zone (triggersDeploy, publishRoutesFallback)",
    grant: "Workers Routes Write",
    source: `${OPENAPI} worker-routes-list-routes; ${WRANGLER} triggersDeploy() (src/triggers/deploy.ts), publishRoutesFallback() (src/deploy/deploy.ts)`,
  },
  {
    method: "PUT",
    path: "/accounts/{account_id}/workers/scripts/{script_name}/routes",
    operationId: undefined,
    accepted: ["Workers Routes Write"],
    resource: "all-zones",
    flow: "routes",
    madeBy: "wrangler deploy: replace all of the Worker's routes at once (publishRoutes)",
    grant: undefined,
    tolerated:
      'on error 10000 wrangler falls back to the zone endpoints ("The current authentication token does not ' +
      "have 'All Zones' permissions\"), so a token scoped to exactly the route zones never needs it",
    source:
      `${WRANGLER} publishRoutes() (src/deploy/deploy.ts), isAuthenticationError() (src/core/handle-errors.ts). Not in the published ` +
      `OpenAPI: wrangler's own fallback message says it needs Workers Routes Write on all zones`,
  },
  {
    method: "GET",
    path: "/zones",
    operationId: "zones-get",
    accepted: ["Zone Read"],
    resource: "zone",
    flow: "route-zone-lookup",
    madeBy: "wrangler deploy: find the zone of a route without zone_id (getZoneIdFromHost)",
    grant: "Zone Read",
    source: `${OPENAPI} zones-get ("Zone Zone Read"); ${WRANGLER} getZoneForRoute(), getZoneIdFromHost() (src/zones.ts)`,
  },
];

/** "PUT /accounts/{account_id}/workers/scripts/{script_name} (wrangler deploy: …)". */
export function describeCall(call: DeployCall): string {
  return `${call.method} ${call.path} (${call.madeBy})`;
}

/** The table rows of one flow, in table order. */
export function callsOf(flow: CallFlow): DeployCall[] {
  return DEPLOY_CALLS.filter((call) => call.flow === flow);
}

/** The table as docs/DEPLOY-CONTRACT.md shows it (a test keeps the two equal). */
export function deployCallsMarkdown(): string {
  const rows = DEPLOY_CALLS.map((call) => {
    const operation = call.operationId === undefined ? "not in the OpenAPI" : `\`${call.operationId}\``;
    const grant = call.grant ?? `none: ${call.tolerated ?? ""}`;
    return `| \`${call.method} ${call.path}\` | ${call.flow} | ${call.madeBy} | ${operation} | ${call.accepted.join(", ")} | ${grant} | ${call.source} |`;
  });
  return [
    "| call | when | made by | OpenAPI operation | accepted groups (`x-api-token-group`) | derived grant | source |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
