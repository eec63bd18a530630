/**
 * What must be set before a real `pulumi up`: secrets the stack file lacks, and the placeholder
 * ids the committed stack files ship with (28 zeros and 4 hex digits, e.g.
 * 0000000000000000000000000000a001). Pure.
 */
import { PROJECT } from "../../lib/config";
import { DEPLOY_TOKEN_SECRET_NAME } from "../../lib/credentials";

/** An id the committed stack files use as a stand-in for a real account or zone id. */
export const PLACEHOLDER_ID = /^0{28}[0-9a-f]{4}$/;

export interface MissingItem {
  /** Config key, with a path for structured values (`scoped-edge:zones[0].id`). */
  readonly key: string;
  readonly kind: "secret" | "placeholder-id";
  /** The placeholder id found (placeholder-id only; never a secret). */
  readonly value?: string;
  /** What to run or edit. */
  readonly fix: string;
}

/** Who owns the deploy token: the account (account API token) or the admin's user (user API token). */
export type TokenOwner = "account" | "user";

/**
 * The permission the admin credential needs to mint the deploy token: Cloudflare's token-write
 * group for the token's owner. The first grant of requiredAdminGrants (lib/credentials.ts); the
 * whole set needs the validated config and is printed in the credentials table.
 */
export function adminTokenPermission(owner: TokenOwner): string {
  return owner === "user" ? "API Tokens Write" : "Account API Tokens Write";
}

/** Secrets a real `pulumi up` needs; the plan stands each missing one in as "[secret]". */
export function requiredSecrets(config: Readonly<Record<string, string>>): readonly {
  readonly key: string;
  readonly example: string;
  readonly env?: string;
}[] {
  const owner: TokenOwner = config[`${PROJECT}:tokenOwner`] === "user" ? "user" : "account";
  const deployToken = config[`${PROJECT}:codeDeployedBy`] !== "pulumi";
  return [
    { key: `${PROJECT}:providerKey`, example: "<LLM provider key>" },
    {
      key: "cloudflare:apiToken",
      example: deployToken
        ? `<admin ${owner} token with "${adminTokenPermission(owner)}" and the rest the credentials table lists>`
        : "<admin token that can write the Worker, its KV namespace and routes>",
      env: DEPLOY_TOKEN_SECRET_NAME,
    },
    { key: "github:token", example: "<token that can write Actions secrets>", env: "GITHUB_TOKEN" },
  ];
}

/** Required secrets absent from `config`, in requiredSecrets order. */
export function missingSecrets(config: Readonly<Record<string, string>>, stack: string): MissingItem[] {
  return requiredSecrets(config)
    .filter((secret) => config[secret.key] === undefined || config[secret.key] === "")
    .map((secret) => ({
      key: secret.key,
      kind: "secret" as const,
      fix:
        `pulumi config set --secret ${secret.key} --stack ${stack} (paste ${secret.example} when prompted` +
        (secret.env === undefined ? ")" : `; or export ${secret.env} for the pulumi step)`),
    }));
}

interface FoundId {
  readonly path: string;
  readonly id: string;
  /** The `name` next to the id (a zone's domain), when there is one. */
  readonly name?: string;
}

function walk(value: unknown, path: string, found: FoundId[], siblingName?: string): void {
  if (typeof value === "string") {
    if (PLACEHOLDER_ID.test(value))
      found.push({ path, id: value, ...(siblingName === undefined ? {} : { name: siblingName }) });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => walk(item, `${path}[${index}]`, found));
  } else if (value !== null && typeof value === "object") {
    const name = (value as Record<string, unknown>)["name"];
    for (const [key, inner] of Object.entries(value)) {
      walk(inner, `${path}.${key}`, found, typeof name === "string" ? name : undefined);
    }
  }
}

/**
 * Placeholder ids in a stack file's config map (structured values arrive as JSON strings). Each
 * fix edits the stack file itself: it is the one file a user changes.
 */
export function placeholderIds(config: Readonly<Record<string, string>>, stack: string): MissingItem[] {
  const found: FoundId[] = [];
  for (const [key, raw] of Object.entries(config)) {
    let value: unknown = raw;
    if (/^\s*[[{]/.test(raw)) {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
    }
    walk(value, key, found);
  }
  return found.map(({ path, id, name }) => ({
    key: path,
    kind: "placeholder-id" as const,
    value: id,
    fix:
      path === `${PROJECT}:accountId`
        ? `replace ${id} with your account id in Pulumi.${stack}.yaml (dashboard: a domain's Overview page, ` +
          "API section: Account ID)"
        : `replace ${id} with the ${name === undefined ? "real id" : `zone id of ${name}`} in Pulumi.${stack}.yaml ` +
          "(dashboard: the domain's Overview page, API section: Zone ID)",
  }));
}
