/**
 * The deploy contract: the wrangler config the application's `wrangler deploy` uses so that it lands
 * on Pulumi's infrastructure without holding more than the derived token (docs/DEPLOY-CONTRACT.md).
 * Complete except `main` (the app adds its own entry point). Pure.
 *
 * What keeps Pulumi's attributes intact on every CI deploy (wrangler 4.86.0, createWorkerUploadForm):
 * - the bindings Pulumi declares (KV by id, rate limiter, R2 bucket) and its vars, as Pulumi sets them;
 * - `keep_vars: true`, which makes wrangler send `keep_bindings: ["plain_text", "json", "secret_text",
 *   "secret_key"]`: vars and secrets already on the Worker that the config does not name (PROVIDER_KEY,
 *   anything Pulumi adds later) are kept, not dropped;
 * - `workers_dev: false` and `preview_urls: false`: the Worker is reached through its routes only, and
 *   wrangler never needs the account's workers.dev subdomain.
 */
import { COMPATIBILITY_FLAGS, WORKER_BINDINGS } from "../worker/src/defaults";
import { R2_BINDING_NAME, type StackConfig } from "./config";

export interface WranglerRoute {
  readonly pattern: string;
  readonly zone_id: string;
}

/** The wrangler config (JSON form, wrangler.json) of the app's deploy, without `main`. */
export interface WranglerConfig {
  readonly name: string;
  readonly account_id: string;
  readonly compatibility_date: string;
  readonly compatibility_flags: readonly string[];
  readonly workers_dev: false;
  readonly preview_urls: false;
  readonly keep_vars: true;
  readonly kv_namespaces: readonly { readonly binding: string; readonly id: string }[];
  readonly ratelimits: readonly {
    readonly name: string;
    readonly namespace_id: string;
    readonly simple: { readonly limit: number; readonly period: number };
  }[];
  readonly r2_buckets?: readonly { readonly binding: string; readonly bucket_name: string }[];
  readonly vars: Readonly<Record<string, string>>;
  /** Only when the app's deploy owns the routes (routesDeployedBy: ci), each naming its zone. */
  readonly routes?: readonly WranglerRoute[];
}

export interface ResolvedInfrastructure {
  /** The id of the Worker's KV namespace (Pulumi creates it; unknown offline). */
  readonly kvNamespaceId: string;
}

export type DeployContractConfig = Pick<
  StackConfig,
  "accountId" | "zones" | "worker" | "r2Bucket" | "codeDeployedBy" | "routesDeployedBy"
>;

export class DeployContractError extends Error {
  override readonly name = "DeployContractError";
}

/**
 * The wrangler config for the app's `wrangler deploy`. Throws when the stack has no deploy contract
 * (codeDeployedBy: pulumi: Pulumi deploys the code and no deploy token exists).
 */
export function wranglerConfigFor(
  config: DeployContractConfig,
  resolved: ResolvedInfrastructure,
): WranglerConfig {
  if (config.codeDeployedBy !== "ci") {
    throw new DeployContractError(
      "this stack has codeDeployedBy: pulumi: Pulumi deploys the Worker's code, so there is no deploy token and " +
        "no wrangler config for the application (set codeDeployedBy: ci for one)",
    );
  }
  if (resolved.kvNamespaceId === "") {
    throw new DeployContractError(
      "kvNamespaceId is empty: the KV namespace's id is needed for the KV binding",
    );
  }
  const routes =
    config.routesDeployedBy === "ci"
      ? config.zones.flatMap((zone) => zone.routes.map((pattern) => ({ pattern, zone_id: zone.id })))
      : [];
  return {
    name: config.worker.name,
    account_id: config.accountId,
    compatibility_date: config.worker.compatibilityDate,
    compatibility_flags: [...COMPATIBILITY_FLAGS],
    workers_dev: false,
    preview_urls: false,
    keep_vars: true,
    kv_namespaces: [{ binding: WORKER_BINDINGS.kv, id: resolved.kvNamespaceId }],
    ratelimits: [
      {
        name: WORKER_BINDINGS.rateLimiter,
        namespace_id: config.worker.rateLimit.namespaceId,
        simple: { limit: config.worker.rateLimit.limit, period: config.worker.rateLimit.periodSeconds },
      },
    ],
    ...(config.r2Bucket === undefined
      ? {}
      : { r2_buckets: [{ binding: R2_BINDING_NAME, bucket_name: config.r2Bucket }] }),
    vars: Object.fromEntries(Object.entries(config.worker.vars).sort(([a], [b]) => a.localeCompare(b))),
    ...(routes.length === 0 ? {} : { routes }),
  };
}
