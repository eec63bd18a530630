/**
 * Pulumi type tokens of the Cloudflare resources the policy pack reads. Data, not imports: the pack
 * does not depend on @pulumi/cloudflare (tokens checked against its `__pulumiType`s, 6.22.1).
 */

export const API_TOKEN_TYPE = "cloudflare:index/apiToken:ApiToken";
export const ACCOUNT_TOKEN_TYPE = "cloudflare:index/accountToken:AccountToken";
/** Both token shapes carry `policies`, `expiresOn`, `notBefore` and `condition`. */
export const TOKEN_TYPES: readonly string[] = [API_TOKEN_TYPE, ACCOUNT_TOKEN_TYPE];

export const WORKERS_SCRIPT_TYPE = "cloudflare:index/workersScript:WorkersScript";
/** The older name of the same resource, still shipped by @pulumi/cloudflare 6. */
export const WORKER_SCRIPT_TYPE = "cloudflare:index/workerScript:WorkerScript";
export const SCRIPT_TYPES: readonly string[] = [WORKERS_SCRIPT_TYPE, WORKER_SCRIPT_TYPE];

export const KV_NAMESPACE_TYPE = "cloudflare:index/workersKvNamespace:WorkersKvNamespace";
export const WORKERS_ROUTE_TYPE = "cloudflare:index/workersRoute:WorkersRoute";
export const R2_BUCKET_TYPE = "cloudflare:index/r2Bucket:R2Bucket";
export const CUSTOM_HOSTNAME_TYPE = "cloudflare:index/customHostname:CustomHostname";

/** The Cloudflare provider resource (explicit or default provider). */
export const CLOUDFLARE_PROVIDER_TYPE = "pulumi:providers:cloudflare";

export function isTokenType(type: string): boolean {
  return TOKEN_TYPES.includes(type);
}
