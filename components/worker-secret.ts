import * as pulumi from "@pulumi/pulumi";

import { workerSecretProvider, type WorkerSecretState } from "./worker-secret-provider";

/** Cloudflare's API, as the Cloudflare provider and the SDK default to it. */
export const CLOUDFLARE_API_BASE_URL = "https://api.cloudflare.com/client/v4";

/** Pulumi type token of a WorkerSecret (a dynamic resource: `pulumi-nodejs:dynamic/<module>:<type>`). */
export const WORKER_SECRET_TYPE = "pulumi-nodejs:dynamic/scoped-edge:WorkerSecret";

export interface WorkerSecretArgs {
  /** Account the Worker lives in. */
  readonly accountId: pulumi.Input<string>;
  /** The Worker script's name. */
  readonly scriptName: pulumi.Input<string>;
  /** The secret's binding name, e.g. PROVIDER_KEY. */
  readonly secretName: pulumi.Input<string>;
  /** The secret's text; kept a Pulumi secret whatever is passed. */
  readonly value: pulumi.Input<string>;
  /**
   * The admin credential (the stack's `cloudflare:apiToken`); kept a Pulumi secret. Absent: the
   * provider reads CLOUDFLARE_API_TOKEN from pulumi's environment when it runs, as the Cloudflare
   * provider does.
   */
  readonly apiToken?: pulumi.Input<string>;
  /** Cloudflare API base URL (`cloudflare:baseUrl`); default Cloudflare's. */
  readonly apiBaseUrl?: pulumi.Input<string>;
}

/**
 * One secret of one Worker, owned by Pulumi without touching the Worker's code: Cloudflare's secrets
 * endpoint adds a version with the current code and the secret (components/worker-secret-provider.ts).
 * @pulumi/cloudflare 6.22.1 has no such resource: its WorkersScript's update re-uploads the whole
 * script, and its Worker / WorkerVersion / WorkersDeployment pin the code.
 *
 * A change of the value updates the secret in place; another name, script or account is another
 * secret (replacement).
 */
export class WorkerSecret extends pulumi.dynamic.Resource {
  /** The script's name as Cloudflare holds it. */
  declare public readonly scriptName: pulumi.Output<string>;
  /** The secret's binding name. */
  declare public readonly secretName: pulumi.Output<string>;

  constructor(name: string, args: WorkerSecretArgs, opts?: pulumi.CustomResourceOptions) {
    const props: Record<keyof WorkerSecretState, pulumi.Input<string> | undefined> = {
      accountId: args.accountId,
      scriptName: args.scriptName,
      secretName: args.secretName,
      value: pulumi.secret(args.value),
      apiToken: args.apiToken === undefined ? undefined : pulumi.secret(args.apiToken),
      apiBaseUrl: args.apiBaseUrl ?? CLOUDFLARE_API_BASE_URL,
    };
    super(
      workerSecretProvider,
      name,
      props,
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["value", "apiToken"] }),
      "scoped-edge",
      "WorkerSecret",
    );
  }
}
