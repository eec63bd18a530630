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
  readonly tokenOwner: "account" | "user";
  readonly deployTokenLocation: string;
  readonly deployTokenExpiresOn: string;
  readonly nextRotation: string;
  readonly rotationDays: number;
  readonly workerName: string;
}

export function credentialsTable(input: CredentialsInput): CredentialRow[] {
  const adminPermission = input.tokenOwner === "account" ? "Account API Tokens Write" : "API Tokens Write";
  return [
    {
      credential: "admin credential (cloudflare:apiToken)",
      purpose: `lets Pulumi create and delete the deploy token ("${adminPermission}"); never a Global API Key`,
      livesIn: `Pulumi stack config of "${input.stack}" as a secret, or CLOUDFLARE_API_TOKEN in the pulumi step's environment only`,
      readBy: "Pulumi (pulumi up / the rotate workflow)",
      expires: "when you set it to on creation; keep it short and rotate it by hand",
      rotation: "by hand: create a new admin token, pulumi config set --secret cloudflare:apiToken",
    },
    {
      credential: "deploy token (CLOUDFLARE_API_TOKEN)",
      purpose:
        "lets CI ship Worker code with wrangler: derived least-privilege permissions on this account and its zones",
      livesIn: input.deployTokenLocation,
      readBy: "the application repository's deploy workflow (cloudflare/wrangler-action)",
      expires: input.deployTokenExpiresOn,
      rotation: `every ${input.rotationDays} days by pulumi up (next: ${input.nextRotation}); at once by bumping scoped-edge:rotationGeneration`,
    },
    {
      credential: "runtime key (PROVIDER_KEY)",
      purpose: "lets the Worker call its LLM provider",
      livesIn: `Worker secret binding PROVIDER_KEY on script ${input.workerName} (from the secret scoped-edge:providerKey)`,
      readBy: `the Worker ${input.workerName} only; never CI, never the browser`,
      expires: "as the provider sets it",
      rotation: "by hand: pulumi config set --secret scoped-edge:providerKey <new key>; pulumi up",
    },
  ];
}
