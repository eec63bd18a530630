import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/** One token policy with its permission groups already resolved to ids. */
export interface ResolvedTokenPolicy {
  /** Permission-group ids, from the provider's permission-group lookup. */
  readonly permissionGroupIds: readonly string[];
  /** Resources in the JSON-string form @pulumi/cloudflare >= 6.12 expects. */
  readonly resources: string;
}

export interface DeployTokenArgs {
  /** Account that owns an account-owned token; account-scoped grants also point at it. */
  readonly accountId: pulumi.Input<string>;
  /** `account` creates a cloudflare.AccountToken (recommended for CI), `user` a cloudflare.ApiToken. */
  readonly owner: "account" | "user";
  /** Prefix of the token's name as shown in the dashboard; the rotation suffix is appended. */
  readonly namePrefix: string;
  /** Allow policies, least privilege, derived from what the stack deploys. */
  readonly policies: readonly ResolvedTokenPolicy[];
  /** RFC 3339 expiry; always set. */
  readonly expiresOn: pulumi.Input<string>;
  /** Optional RFC 3339 not-before. */
  readonly notBefore?: pulumi.Input<string>;
  /** CIDRs the token may be used from (condition.requestIp.ins). */
  readonly allowedIps?: readonly string[];
  /** CIDRs the token may not be used from (condition.requestIp.notIns). */
  readonly deniedIps?: readonly string[];
  /** Start of the rotation window (RFC 3339); a new window replaces the token. */
  readonly rotationWindowStart: string;
  /** Manual rotation counter; bumping it replaces the token at once. */
  readonly rotationGeneration: number;
}

/**
 * The scoped, expiring Cloudflare API token CI uses to deploy the Worker.
 *
 * Rotation: a random.RandomId keyed on (window start, generation) is part of the token's name, and
 * the token replaces on a name change. Random keepers are the mechanism Pulumi's engine honours in
 * every CLI version: when the window rolls over the RandomId is replaced, its new hex changes the
 * name, and `replaceOnChanges: ["name"]` turns what the provider would do in place (Cloudflare can
 * rename a token) into a create-before-delete replacement: the new token is created, everything that
 * reads its value (the GitHub secret) is updated, and only then is the old token deleted.
 */
export class DeployToken extends pulumi.ComponentResource {
  public readonly tokenId: pulumi.Output<string>;
  public readonly tokenName: pulumi.Output<string>;
  /** The token's value: a Pulumi secret, never plain. */
  public readonly value: pulumi.Output<string>;
  public readonly expiresOn: pulumi.Output<string>;

  constructor(name: string, args: DeployTokenArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scoped-edge:cloudflare:DeployToken", name, {}, opts);

    const rotation = new random.RandomId(
      `${name}-rotation`,
      {
        byteLength: 4,
        keepers: {
          windowStart: args.rotationWindowStart,
          generation: String(args.rotationGeneration),
        },
      },
      { parent: this },
    );

    const tokenName = pulumi.interpolate`${args.namePrefix}-${rotation.hex}`;
    const policies = args.policies.map((policy) => ({
      effect: "allow",
      permissionGroups: policy.permissionGroupIds.map((id) => ({ id })),
      resources: policy.resources,
    }));
    const condition =
      (args.allowedIps?.length ?? 0) + (args.deniedIps?.length ?? 0) > 0
        ? {
            requestIp: {
              ...(args.allowedIps?.length ? { ins: [...args.allowedIps] } : {}),
              ...(args.deniedIps?.length ? { notIns: [...args.deniedIps] } : {}),
            },
          }
        : undefined;
    const tokenArgs = {
      name: tokenName,
      policies,
      expiresOn: args.expiresOn,
      ...(args.notBefore === undefined ? {} : { notBefore: args.notBefore }),
      ...(condition === undefined ? {} : { condition }),
    };
    const tokenOpts: pulumi.CustomResourceOptions = {
      parent: this,
      replaceOnChanges: ["name"],
      // Never delete-before-replace: CI must never hold a dead token.
      deleteBeforeReplace: false,
      additionalSecretOutputs: ["value"],
    };
    const token =
      args.owner === "account"
        ? new cloudflare.AccountToken(`${name}-token`, { ...tokenArgs, accountId: args.accountId }, tokenOpts)
        : new cloudflare.ApiToken(`${name}-token`, tokenArgs, tokenOpts);

    this.tokenId = token.id;
    this.tokenName = token.name;
    this.value = pulumi.secret(token.value);
    this.expiresOn = pulumi.output(args.expiresOn);
    this.registerOutputs({
      tokenId: this.tokenId,
      tokenName: this.tokenName,
      value: this.value,
      expiresOn: this.expiresOn,
    });
  }
}
