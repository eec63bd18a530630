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

/** A token policy in the provider's input shape. */
export interface TokenPolicyInput {
  readonly effect: "allow";
  readonly permissionGroups: { readonly id: string }[];
  readonly resources: string;
}

/**
 * The policies in the one order Cloudflare's API hands them back: permission groups sorted by id,
 * policies sorted by resources (then by their sorted ids). terraform-provider-cloudflare 5.19.x
 * (under @pulumi/cloudflare 6.22) returns permission groups sorted by id and may reorder policies
 * (issue #7094; #7012 made the lists ordered again with a canonical sort for import), so any other
 * order shows a diff on every `pulumi up` and fails the post-apply consistency check.
 */
export function canonicalTokenPolicies(policies: readonly ResolvedTokenPolicy[]): TokenPolicyInput[] {
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return policies
    .map((policy) => {
      const ids = [...new Set(policy.permissionGroupIds)].sort(compare);
      return {
        effect: "allow" as const,
        permissionGroups: ids.map((id) => ({ id })),
        resources: policy.resources,
      };
    })
    .sort(
      (a, b) =>
        compare(a.resources, b.resources) ||
        compare(a.permissionGroups.map((g) => g.id).join(","), b.permissionGroups.map((g) => g.id).join(",")),
    );
}

export interface DeployTokenArgs {
  /** Account that owns an account-owned token; account-scoped grants also point at it. */
  readonly accountId: pulumi.Input<string>;
  /** `account` creates a cloudflare.AccountToken (recommended for CI), `user` a cloudflare.ApiToken. */
  readonly owner: "account" | "user";
  /** Prefix of the token's name as shown in the dashboard; the rotation suffix is appended. */
  readonly namePrefix: pulumi.Input<string>;
  /** Allow policies, least privilege, with resolved permission-group ids; put in canonical order here. */
  readonly policies: pulumi.Input<readonly pulumi.Input<ResolvedTokenPolicy>[]>;
  /** RFC 3339 expiry; always set. */
  readonly expiresOn: pulumi.Input<string>;
  /** Optional RFC 3339 not-before. */
  readonly notBefore?: pulumi.Input<string>;
  /** CIDRs the token may be used from (condition.requestIp.ins); empty or absent for none. */
  readonly allowedIps?: pulumi.Input<readonly pulumi.Input<string>[]>;
  /** CIDRs the token may not be used from (condition.requestIp.notIns); empty or absent for none. */
  readonly deniedIps?: pulumi.Input<readonly pulumi.Input<string>[]>;
  /** Start of the rotation window (RFC 3339); a new window replaces the token. */
  readonly rotationWindowStart: pulumi.Input<string>;
  /** Manual rotation counter; bumping it replaces the token at once. */
  readonly rotationGeneration: pulumi.Input<number>;
}

/**
 * The scoped, expiring Cloudflare API token CI uses to deploy the Worker's code.
 *
 * Rotation: a random.RandomId keyed on (window start, generation) is part of the token's name, and
 * the token replaces on a name change. Random keepers are the mechanism Pulumi's engine honours in
 * every CLI version: when the window rolls over the RandomId is replaced, its new hex changes the
 * name, and `replaceOnChanges: ["name"]` turns what the provider would do in place (Cloudflare can
 * rename a token) into a create-before-delete replacement: the new token is created, everything that
 * reads its value (the GitHub secret) is updated, and only then is the old token deleted.
 */
export class DeployToken extends pulumi.ComponentResource {
  /** The token's Cloudflare id. */
  public readonly tokenId: pulumi.Output<string>;
  /** The token's name as Cloudflare holds it (prefix + rotation suffix). */
  public readonly tokenName: pulumi.Output<string>;
  /** The token's value: a Pulumi secret, never plain. */
  public readonly value: pulumi.Output<string>;
  /** The expiry as the token resource reports it. */
  public readonly expiresOn: pulumi.Output<string>;

  constructor(name: string, args: DeployTokenArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scoped-edge:cloudflare:DeployToken", name, {}, opts);

    const rotation = new random.RandomId(
      `${name}-rotation`,
      {
        byteLength: 4,
        keepers: {
          windowStart: args.rotationWindowStart,
          generation: pulumi.output(args.rotationGeneration).apply(String),
        },
      },
      { parent: this },
    );

    const condition = pulumi.all([args.allowedIps ?? [], args.deniedIps ?? []]).apply(([allowed, denied]) =>
      allowed.length + denied.length === 0
        ? undefined
        : {
            requestIp: {
              ...(allowed.length > 0 ? { ins: [...allowed] } : {}),
              ...(denied.length > 0 ? { notIns: [...denied] } : {}),
            },
          },
    );
    const tokenArgs = {
      name: pulumi.interpolate`${args.namePrefix}-${rotation.hex}`,
      policies: pulumi.output(args.policies).apply(canonicalTokenPolicies),
      expiresOn: args.expiresOn,
      ...(args.notBefore === undefined ? {} : { notBefore: args.notBefore }),
      condition,
    };
    const tokenOpts = pulumi.mergeOptions(
      { parent: this },
      {
        replaceOnChanges: ["name"],
        // Never delete-before-replace: CI must never hold a dead token.
        deleteBeforeReplace: false,
        additionalSecretOutputs: ["value"],
      },
    );
    const token =
      args.owner === "account"
        ? new cloudflare.AccountToken(`${name}-token`, { ...tokenArgs, accountId: args.accountId }, tokenOpts)
        : new cloudflare.ApiToken(`${name}-token`, tokenArgs, tokenOpts);

    this.tokenId = token.id;
    this.tokenName = token.name;
    this.value = pulumi.secret(token.value);
    this.expiresOn = token.expiresOn.apply((value) => value ?? "");
    this.registerOutputs({
      tokenId: this.tokenId,
      tokenName: this.tokenName,
      value: this.value,
      expiresOn: this.expiresOn,
    });
  }
}
