/**
 * The credentials around a stack, stated once: the names they live under in GitHub, the exact
 * permissions the admin credential needs, where the deploy token lives, and the credentials table
 * (which token goes where) the stack outputs and the plan prints. Pure; never holds a secret value.
 */
import { deriveGrants } from "../policies/lib/derive";
import { permissionByName, type PermissionScope } from "../policies/lib/permission-catalog";
import { accountResource, zoneResource } from "../policies/lib/resources";
import type { StackConfig } from "./config";
import { footprintOf } from "./footprint";

/** GitHub Actions secret holding the deploy token (what cloudflare/wrangler-action reads). */
export const DEPLOY_TOKEN_SECRET_NAME = "CLOUDFLARE_API_TOKEN";
/** GitHub Actions variable holding the account id (wrangler skips `/memberships` when it is set). */
export const ACCOUNT_ID_VARIABLE_NAME = "CLOUDFLARE_ACCOUNT_ID";
/** GitHub Actions variable holding the deploy contract: the generated wrangler config (JSON). */
export { WRANGLER_CONFIG_VARIABLE as WRANGLER_CONFIG_VARIABLE_NAME } from "../policies/lib/stack-footprint";

/**
 * The deploy token's name prefix; DeployToken appends `-<rotation hex>` (8 hex digits). The token
 * sweeper matches this stack's tokens by it.
 */
export function deployTokenNamePrefix(config: Pick<StackConfig, "project" | "stack">): string {
  return `${config.project}-${config.stack}-deploy`;
}

/** One permission the admin credential must hold, on what, and why. */
export interface AdminGrant {
  /** Cloudflare permission-group name, as in the dashboard and the catalog. */
  readonly permission: string;
  readonly scope: PermissionScope;
  /**
   * The token resource string (`com.cloudflare.api.account.<id>` / `...account.zone.<id>`); for a
   * user-scoped group, undefined: it applies to the admin token's own user.
   */
  readonly resource: string | undefined;
  /** Every reason the stack needs it, joined. */
  readonly reason: string;
}

type AdminConfig = Pick<
  StackConfig,
  "accountId" | "zones" | "r2Bucket" | "codeDeployedBy" | "routesDeployedBy" | "token" | "worker"
>;

/**
 * The exact permission set the admin credential (`cloudflare:apiToken`) needs for `pulumi up` of this
 * stack: what Pulumi itself creates (script, KV namespace, R2 bucket, routes, custom hostnames),
 * minting the deploy token, and, because Cloudflare refuses to mint a token carrying a zone-scoped
 * permission group on a specific zone unless the minting token holds that group on that zone
 * ("Failed common permission check against resources", code 1001; terraform-provider-cloudflare
 * issue #7241: single-zone resources only, not account-wide or all-zones ones), every zone-scoped
 * grant of the deploy token. With `codeDeployedBy: pulumi` there is no deploy token, so no token
 * permission and nothing to hold on its behalf.
 *
 * The one source for the plan's to-do list, the credentials table and the verifier's admin check.
 */
export function requiredAdminGrants(config: AdminConfig): AdminGrant[] {
  const grants = new Map<string, { permission: string; resource: string | undefined; reasons: string[] }>();
  const add = (permission: string, resource: string | undefined, reason: string) => {
    const key = `${permission}\u0000${resource ?? ""}`;
    const existing = grants.get(key);
    if (existing === undefined) grants.set(key, { permission, resource, reasons: [reason] });
    else if (!existing.reasons.includes(reason)) existing.reasons.push(reason);
  };
  const account = accountResource(config.accountId);
  const zonesWith = (field: "routes" | "customHostnames") =>
    [...new Set(config.zones.filter((zone) => zone[field].length > 0).map((zone) => zone.id))].sort();

  if (config.codeDeployedBy === "ci") {
    if (config.token.owner === "account") {
      add(
        "Account API Tokens Write",
        account,
        "creates, rotates and deletes the account-owned deploy token and lists the account's permission groups",
      );
    } else {
      add(
        "API Tokens Write",
        undefined,
        "creates, rotates and deletes the user-owned deploy token and lists the permission groups",
      );
    }
  }
  add(
    "Workers Scripts Write",
    account,
    config.codeDeployedBy === "ci"
      ? "creates the Worker script with its bindings and vars (first version only), and sets PROVIDER_KEY through the Worker's secrets endpoint on every change (worker-put-script-secret), which keeps CI's code"
      : "deploys the Worker script: code, bindings, vars and PROVIDER_KEY",
  );
  add("Workers KV Storage Write", account, "creates the Worker's KV namespace");
  if (config.r2Bucket !== undefined) add("Workers R2 Storage Write", account, "creates the R2 bucket");
  if (config.routesDeployedBy === "pulumi") {
    for (const zone of zonesWith("routes"))
      add("Workers Routes Write", zoneResource(zone), "creates the Worker's routes on this zone");
  }
  for (const zone of zonesWith("customHostnames"))
    add("SSL and Certificates Write", zoneResource(zone), "creates the custom hostnames on this zone");

  if (config.codeDeployedBy === "ci") {
    for (const grant of deriveGrants(footprintOf(config), config.token.extraPermissions)) {
      if (permissionByName(grant.permission)?.scope !== "zone") continue;
      add(
        grant.permission,
        grant.resource,
        "the deploy token gets it on this zone, and Cloudflare mints zone-scoped groups on a specific zone only for a token that holds them (terraform-provider-cloudflare #7241)",
      );
    }
  }

  return [...grants.values()].map(({ permission, resource, reasons }) => ({
    permission,
    scope: permissionByName(permission)?.scope ?? (resource === undefined ? "user" : "account"),
    resource,
    reason: reasons.join("; "),
  }));
}

/** "Workers Scripts Write on the account, Workers Routes Write on zone <id>, ..." for humans. */
export function describeAdminGrants(grants: readonly AdminGrant[]): string {
  const where = (grant: AdminGrant) =>
    grant.resource === undefined
      ? "your user"
      : grant.scope === "zone"
        ? `zone ${grant.resource.slice(zoneResource("").length)}`
        : "the account";
  const byPermission = new Map<string, string[]>();
  for (const grant of grants) {
    const places = byPermission.get(grant.permission);
    if (places === undefined) byPermission.set(grant.permission, [where(grant)]);
    else places.push(where(grant));
  }
  return [...byPermission].map(([permission, places]) => `${permission} (${places.join(", ")})`).join(", ");
}

/** Where the deploy token lives in GitHub, in words; undefined when there is no deploy token. */
export function deployTokenLocation(
  config: Pick<StackConfig, "codeDeployedBy" | "github">,
): string | undefined {
  if (config.codeDeployedBy === "pulumi") return undefined;
  const repository = `${config.github.owner}/${config.github.repository}`;
  return config.github.environment === undefined
    ? `GitHub Actions repository secret ${DEPLOY_TOKEN_SECRET_NAME} in ${repository}`
    : `GitHub Actions environment secret ${DEPLOY_TOKEN_SECRET_NAME} in ${repository} (environment "${config.github.environment}")`;
}

/**
 * The credentials table: every credential around the stack, what it is for, where it lives, who
 * reads it and when it expires. The answer to "which token goes where". Never holds a secret value.
 */
export interface CredentialRow {
  readonly credential: string;
  readonly purpose: string;
  readonly livesIn: string;
  readonly readBy: string;
  readonly expires: string;
  readonly rotation: string;
}

export interface CredentialsInput {
  readonly stack: string;
  readonly workerName: string;
  /** What the admin credential must hold: requiredAdminGrants(config). */
  readonly adminGrants: readonly AdminGrant[];
  /** The deploy token, when there is one (`codeDeployedBy: ci`). */
  readonly deployToken?: {
    readonly location: string;
    readonly expiresOn: string;
    readonly nextRotation: string;
    readonly rotationDays: number;
  };
}

export function credentialsTable(input: CredentialsInput): CredentialRow[] {
  const rows: CredentialRow[] = [
    {
      credential: "admin credential (cloudflare:apiToken)",
      purpose: `lets Pulumi create the stack's infrastructure${input.deployToken ? " and the deploy token" : ""}; holds exactly: ${describeAdminGrants(input.adminGrants)}; never a Global API Key`,
      livesIn: `Pulumi stack config of "${input.stack}" as a secret, or CLOUDFLARE_API_TOKEN in the pulumi step's environment only`,
      readBy: "Pulumi (pulumi up / the rotate workflow)",
      expires: "when you set it to on creation; keep it short and rotate it by hand",
      rotation: "by hand: create a new admin token, pulumi config set --secret cloudflare:apiToken",
    },
  ];
  if (input.deployToken !== undefined) {
    rows.push({
      credential: `deploy token (${DEPLOY_TOKEN_SECRET_NAME})`,
      purpose:
        "lets CI ship the Worker's code with wrangler: derived least-privilege permissions on this account and its zones",
      livesIn: input.deployToken.location,
      readBy: "the application repository's deploy workflow (cloudflare/wrangler-action)",
      expires: input.deployToken.expiresOn,
      rotation: `every ${input.deployToken.rotationDays} days by pulumi up (next: ${input.deployToken.nextRotation}); at once by bumping scoped-edge:rotationGeneration`,
    });
  }
  rows.push({
    credential: "runtime key (PROVIDER_KEY)",
    purpose: "lets the Worker call its LLM provider",
    livesIn: input.deployToken
      ? `Worker secret PROVIDER_KEY on script ${input.workerName}, set by Pulumi through the secrets endpoint (never in CI's wrangler config) from the secret scoped-edge:providerKey`
      : `Worker secret binding PROVIDER_KEY on script ${input.workerName} (from the secret scoped-edge:providerKey)`,
    readBy: `the Worker ${input.workerName} only; never CI, never the browser`,
    expires: "as the provider sets it",
    rotation: input.deployToken
      ? "by hand: pulumi config set --secret scoped-edge:providerKey <new key>; pulumi up (sets the secret, keeps CI's code)"
      : "by hand: pulumi config set --secret scoped-edge:providerKey <new key>; pulumi up",
  });
  return rows;
}

/** Thrown when Cloudflare hands back a token without a value; nothing has been written to GitHub. */
export class EmptyTokenValueError extends Error {
  override readonly name = "EmptyTokenValueError";
}

/**
 * The deploy token's value as Cloudflare returned it, or a clear error when it is empty: an empty
 * secret in GitHub would make every CI deploy fail with an authentication error far from the cause.
 */
export function requireTokenValue(value: string | undefined, tokenName: string): string {
  if (value === undefined || value.trim() === "") {
    throw new EmptyTokenValueError(
      `Cloudflare returned an empty value for the deploy token "${tokenName}"; nothing was written to GitHub. ` +
        `Check that the admin credential can create tokens (pulumi up prints its exact permissions in the credentials output), ` +
        `then replace the token: pulumi up --replace <the token's URN> (pulumi stack --show-urns).`,
    );
  }
  return value;
}
