import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";

export const DEPLOY_TOKEN_SECRET_NAME = "CLOUDFLARE_API_TOKEN";
export const ACCOUNT_ID_VARIABLE_NAME = "CLOUDFLARE_ACCOUNT_ID";

export interface GitHubDeploySecretArgs {
  /** Repository owner (user or organisation). */
  readonly owner: string;
  /** Repository name (without the owner; the GitHub provider carries the owner). */
  readonly repository: string;
  /** GitHub environment for an environment secret; undefined for a repository secret. */
  readonly environment?: string;
  /** The deploy token's value; must be a Pulumi secret. */
  readonly deployToken: pulumi.Input<string>;
  /** Cloudflare account id, published as a plain Actions variable. */
  readonly accountId: pulumi.Input<string>;
}

/**
 * Writes the deploy token to GitHub Actions as CLOUDFLARE_API_TOKEN (repository or environment
 * secret) and the account id as the CLOUDFLARE_ACCOUNT_ID variable, the two inputs
 * cloudflare/wrangler-action reads.
 */
export class GitHubDeploySecret extends pulumi.ComponentResource {
  /** Human-readable location of the token, for the credentials table. */
  public readonly location: string;
  public readonly secretName: string;
  public readonly variableName: string;

  constructor(name: string, args: GitHubDeploySecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scoped-edge:github:DeploySecret", name, {}, opts);
    const childOpts = { parent: this };
    const value = pulumi.secret(args.deployToken);

    if (args.environment === undefined) {
      new github.ActionsSecret(
        `${name}-token`,
        { repository: args.repository, secretName: DEPLOY_TOKEN_SECRET_NAME, value },
        childOpts,
      );
      new github.ActionsVariable(
        `${name}-account-id`,
        { repository: args.repository, variableName: ACCOUNT_ID_VARIABLE_NAME, value: args.accountId },
        childOpts,
      );
    } else {
      new github.ActionsEnvironmentSecret(
        `${name}-token`,
        {
          repository: args.repository,
          environment: args.environment,
          secretName: DEPLOY_TOKEN_SECRET_NAME,
          value,
        },
        childOpts,
      );
      new github.ActionsEnvironmentVariable(
        `${name}-account-id`,
        {
          repository: args.repository,
          environment: args.environment,
          variableName: ACCOUNT_ID_VARIABLE_NAME,
          value: args.accountId,
        },
        childOpts,
      );
    }

    this.secretName = DEPLOY_TOKEN_SECRET_NAME;
    this.variableName = ACCOUNT_ID_VARIABLE_NAME;
    this.location =
      args.environment === undefined
        ? `GitHub Actions repository secret ${DEPLOY_TOKEN_SECRET_NAME} in ${args.owner}/${args.repository}`
        : `GitHub Actions environment secret ${DEPLOY_TOKEN_SECRET_NAME} in ${args.owner}/${args.repository} (environment "${args.environment}")`;
    this.registerOutputs({
      secretName: this.secretName,
      variableName: this.variableName,
      location: this.location,
    });
  }
}
