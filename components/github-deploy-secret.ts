import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";

import {
  ACCOUNT_ID_VARIABLE_NAME,
  DEPLOY_TOKEN_SECRET_NAME,
  requireTokenValue,
  WRANGLER_CONFIG_VARIABLE_NAME,
} from "../lib/credentials";

export { ACCOUNT_ID_VARIABLE_NAME, DEPLOY_TOKEN_SECRET_NAME, WRANGLER_CONFIG_VARIABLE_NAME };

export interface GitHubEnvironmentArgs {
  /** The GitHub environment's name; created (or adopted on import) in the repository. */
  readonly name: pulumi.Input<string>;
  /** Deployment branch policy: only protected branches may use the environment (else all branches). */
  readonly protectedBranchesOnly: pulumi.Input<boolean>;
  /** GitHub user ids of required reviewers (up to six users and teams together). */
  readonly reviewerUsers: pulumi.Input<readonly pulumi.Input<number>[]>;
  /** GitHub team ids of required reviewers; a team needs explicit read access to the repository. */
  readonly reviewerTeams: pulumi.Input<readonly pulumi.Input<number>[]>;
}

export interface GitHubDeploySecretArgs {
  /** Repository name without the owner: the GitHub provider passed in the options carries the owner. */
  readonly repository: pulumi.Input<string>;
  /** The GitHub environment to declare and write into; absent for repository-level secret and variables. */
  readonly environment?: GitHubEnvironmentArgs;
  /** The deploy token's value; kept a Pulumi secret whatever is passed. */
  readonly deployToken: pulumi.Input<string>;
  /** The deploy token's name, for the error when its value comes back empty. */
  readonly deployTokenName: pulumi.Input<string>;
  /** Cloudflare account id, published as the CLOUDFLARE_ACCOUNT_ID variable. */
  readonly accountId: pulumi.Input<string>;
  /** The deploy contract: the wrangler config (JSON) published as SCOPED_EDGE_WRANGLER_CONFIG. */
  readonly wranglerConfig: pulumi.Input<string>;
}

/**
 * Publishes the deploy contract to the application repository: the deploy token as the
 * CLOUDFLARE_API_TOKEN secret, the account id and the generated wrangler config as variables, all in
 * one scope: the GitHub environment, which it declares (branch policy, required reviewers) so that
 * `pulumi up` works on a repository that has none yet, or the repository itself.
 *
 * Nothing is written to GitHub until the token's value is known to be non-empty: every child reads
 * a gate that resolves only after that check.
 */
export class GitHubDeploySecret extends pulumi.ComponentResource {
  /** Name of the Actions secret holding the token. */
  public readonly secretName: string;
  /** Names of the Actions variables of the contract. */
  public readonly variableNames: readonly string[];
  /** The environment as GitHub holds it; undefined for repository scope. */
  public readonly environmentName: pulumi.Output<string> | undefined;

  constructor(name: string, args: GitHubDeploySecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scoped-edge:github:DeploySecret", name, {}, opts);
    const childOpts: pulumi.CustomResourceOptions = { parent: this };

    const value = pulumi.secret(
      pulumi
        .all([args.deployToken, args.deployTokenName])
        .apply(([token, tokenName]) => requireTokenValue(token, tokenName)),
    );
    // A non-secret value that exists only once the check passed; carries no part of the token.
    const checked = pulumi.unsecret(value.apply(() => true));
    // Each GitHub resource reads one in-place-updatable input through the check, so none is
    // registered when it fails. (Never the repository or environment name: those replace on change,
    // and an unknown one would make a rotation's preview show replacements.)
    const afterCheck = <T>(input: pulumi.Input<T>): pulumi.Output<T> =>
      pulumi.all([input, checked]).apply(([resolved]) => resolved as T);
    const repository = args.repository;

    let environment: github.RepositoryEnvironment | undefined;
    if (args.environment !== undefined) {
      const env = args.environment;
      environment = new github.RepositoryEnvironment(
        `${name}-environment`,
        {
          repository,
          environment: env.name,
          // GitHub rejects protected_branches and custom_branch_policies set to the same value (422):
          // "all branches" is the absence of a policy.
          deploymentBranchPolicy: afterCheck(env.protectedBranchesOnly).apply((protectedOnly) =>
            protectedOnly ? { protectedBranches: true, customBranchPolicies: false } : undefined,
          ),
          reviewers: pulumi.all([env.reviewerUsers, env.reviewerTeams]).apply(([users, teams]) =>
            users.length + teams.length === 0
              ? undefined
              : [
                  {
                    ...(users.length > 0 ? { users: [...users] } : {}),
                    ...(teams.length > 0 ? { teams: [...teams] } : {}),
                  },
                ],
          ),
        },
        childOpts,
      );
    }

    const variable = (suffix: string, variableName: string, variableValue: pulumi.Input<string>) =>
      environment === undefined
        ? new github.ActionsVariable(
            `${name}-${suffix}`,
            { repository, variableName, value: afterCheck(variableValue) },
            childOpts,
          )
        : new github.ActionsEnvironmentVariable(
            `${name}-${suffix}`,
            {
              repository,
              environment: environment.environment,
              variableName,
              value: afterCheck(variableValue),
            },
            childOpts,
          );

    if (environment === undefined) {
      new github.ActionsSecret(
        `${name}-token`,
        { repository, secretName: DEPLOY_TOKEN_SECRET_NAME, value },
        childOpts,
      );
    } else {
      new github.ActionsEnvironmentSecret(
        `${name}-token`,
        { repository, environment: environment.environment, secretName: DEPLOY_TOKEN_SECRET_NAME, value },
        childOpts,
      );
    }
    variable("account-id", ACCOUNT_ID_VARIABLE_NAME, args.accountId);
    variable("wrangler-config", WRANGLER_CONFIG_VARIABLE_NAME, args.wranglerConfig);

    this.secretName = DEPLOY_TOKEN_SECRET_NAME;
    this.variableNames = [ACCOUNT_ID_VARIABLE_NAME, WRANGLER_CONFIG_VARIABLE_NAME];
    this.environmentName = environment?.environment;
    this.registerOutputs({
      secretName: this.secretName,
      variableNames: this.variableNames,
      environmentName: this.environmentName,
    });
  }
}
