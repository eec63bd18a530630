import { createHash } from "node:crypto";

import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";

import { R2_BINDING_NAME } from "../lib/config";
import { WORKER_BINDINGS } from "../worker/src/defaults";
import { WorkerSecret } from "./worker-secret";

/** Binding names the Worker reads; worker/src/defaults.ts is their single source. */
export const KV_BINDING = WORKER_BINDINGS.kv;
export const PROVIDER_KEY_BINDING = WORKER_BINDINGS.providerKey;
export const RATE_LIMITER_BINDING = WORKER_BINDINGS.rateLimiter;
/** The R2 bucket, bound only when the stack declares one. */
export const R2_BINDING = R2_BINDING_NAME;

/**
 * Inputs of the WorkersScript that the application's CI owns once the script exists. The provider's
 * update is one multipart PUT of the whole script built from Pulumi's inputs (terraform-provider-
 * cloudflare v5, internal/services/workers_script/resource.go: Update marshals the plan, content
 * included, into `Workers.Scripts.Update`), and @pulumi/cloudflare 6.22.1 has no settings-only or
 * secrets-only Worker resource. So with `codeDeployedBy: ci` every one of them is ignored after
 * creation: a change of any would re-upload Pulumi's first bundle over CI's code. Vars and bindings
 * then reach the live Worker through the deploy contract on CI's next `wrangler deploy`; PROVIDER_KEY
 * is no binding of the script then but a WorkerSecret of its own (components/worker-secret.ts), which
 * sets it through the secrets endpoint without touching the code.
 */
export const CI_OWNED_SCRIPT_INPUTS = [
  "content",
  "contentSha256",
  "mainModule",
  "compatibilityDate",
  "compatibilityFlags",
  "bindings",
] as const;

export interface EdgeWorkerZone {
  /** Zone id the routes and custom hostnames live in. */
  readonly zoneId: pulumi.Input<string>;
  /** Workers route patterns on this zone (host/path); they name the route resources. */
  readonly routes: readonly string[];
  /** Cloudflare for SaaS custom hostnames on this zone; they name the hostname resources. */
  readonly customHostnames: readonly string[];
}

export interface EdgeWorkerRateLimit {
  /** Cloudflare's rate-limit namespace id (a positive integer as a string, unique per account). */
  readonly namespaceId: pulumi.Input<string>;
  /** Requests allowed per period and key. */
  readonly limit: pulumi.Input<number>;
  /** Period in seconds: 10 or 60. */
  readonly periodSeconds: pulumi.Input<number>;
}

export interface EdgeWorkerArgs {
  /** Account the Worker, KV namespace and R2 bucket live in. */
  readonly accountId: pulumi.Input<string>;
  /** Worker script name. */
  readonly scriptName: pulumi.Input<string>;
  /** Bundled ES module source (the first version, when CI owns the code). */
  readonly content: pulumi.Input<string>;
  /** sha256 (hex) of `content`, so Cloudflare and Pulumi see exactly which bundle is deployed. */
  readonly contentSha256: pulumi.Input<string>;
  /** Module name of the bundle's entry (the `mainModule`). */
  readonly mainModule: pulumi.Input<string>;
  /** Workers compatibility date (YYYY-MM-DD). */
  readonly compatibilityDate: pulumi.Input<string>;
  /** Workers compatibility flags on top of the date. */
  readonly compatibilityFlags: pulumi.Input<readonly pulumi.Input<string>[]>;
  /** Plain-text vars, bound as plain_text. */
  readonly vars: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * PROVIDER_KEY; kept a Pulumi secret whatever is passed. A secret_text binding of the script with
   * `codeDeployedBy: pulumi`; a WorkerSecret with `ci` (so a new key reaches the Worker on `pulumi up`).
   */
  readonly providerKey: pulumi.Input<string>;
  /**
   * The admin credential for the WorkerSecret (`cloudflare:apiToken`); kept a Pulumi secret. Absent:
   * CLOUDFLARE_API_TOKEN from pulumi's environment, as the Cloudflare provider reads it.
   */
  readonly adminApiToken?: pulumi.Input<string>;
  /** Cloudflare API base URL for the WorkerSecret (`cloudflare:baseUrl`); default Cloudflare's. */
  readonly apiBaseUrl?: pulumi.Input<string>;
  /** The Rate Limiting binding's namespace and simple limit. */
  readonly rateLimit: EdgeWorkerRateLimit;
  /** Zones with their routes and custom hostnames. */
  readonly zones: readonly EdgeWorkerZone[];
  /** `pulumi`: Pulumi creates the routes; `ci`: the app's wrangler config carries them. */
  readonly routesDeployedBy: "pulumi" | "ci";
  /** `ci`: Pulumi uploads the first version only, CI owns the code after; `pulumi`: Pulumi always. */
  readonly codeDeployedBy: "ci" | "pulumi";
  /** R2 bucket to create and bind; absent for none. */
  readonly r2BucketName?: pulumi.Input<string>;
}

/** A stable, readable child-name suffix for a route pattern or hostname. */
function slug(value: string): string {
  const readable = value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 40);
  const hash = createHash("sha256").update(value).digest("hex").slice(0, 6);
  return `${readable}-${hash}`;
}

/**
 * The Worker script with its KV namespace (runtime config), Rate Limiting binding, PROVIDER_KEY,
 * vars, and, when declared, routes, R2 bucket and custom hostnames. Ownership of the code follows
 * `codeDeployedBy` (see CI_OWNED_SCRIPT_INPUTS and docs/ARCHITECTURE.md#ownership).
 */
export class EdgeWorker extends pulumi.ComponentResource {
  /** The script's name as Cloudflare holds it. */
  public readonly scriptName: pulumi.Output<string>;
  /** The KV namespace's id (the deploy contract binds it by id). */
  public readonly kvNamespaceId: pulumi.Output<string>;
  /** The KV namespace's title. */
  public readonly kvNamespaceTitle: pulumi.Output<string>;
  /** Route patterns Pulumi created (empty when the app's wrangler config carries them). */
  public readonly routes: pulumi.Output<string[]>;
  /** The R2 bucket's name, undefined without one. */
  public readonly r2BucketName: pulumi.Output<string> | undefined;
  /** Custom hostnames Pulumi created. */
  public readonly customHostnames: pulumi.Output<string[]>;

  constructor(name: string, args: EdgeWorkerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scoped-edge:cloudflare:EdgeWorker", name, {}, opts);
    const childOpts: pulumi.CustomResourceOptions = { parent: this };

    const kv = new cloudflare.WorkersKvNamespace(
      `${name}-kv`,
      { accountId: args.accountId, title: pulumi.interpolate`${args.scriptName}-config` },
      childOpts,
    );
    const bucket =
      args.r2BucketName === undefined
        ? undefined
        : new cloudflare.R2Bucket(
            `${name}-r2`,
            { accountId: args.accountId, name: args.r2BucketName },
            childOpts,
          );

    // One owner of PROVIDER_KEY in each mode: the script's binding list when Pulumi deploys the code,
    // the WorkerSecret below when CI does (the script's bindings are ignored after creation then).
    const providerKeyBinding = args.codeDeployedBy === "pulumi";
    // One Output over every value (pulumi.output unwraps nested Inputs): the binding list is secret
    // when it holds PROVIDER_KEY, and depends on the KV namespace and the bucket.
    const bindings = pulumi
      .output({
        kvNamespaceId: kv.id,
        providerKey: providerKeyBinding ? pulumi.secret(args.providerKey) : undefined,
        rateLimit: args.rateLimit,
        vars: args.vars,
        bucketName: bucket?.name,
      })
      .apply(({ kvNamespaceId, providerKey, rateLimit, vars, bucketName }) => [
        { name: KV_BINDING, type: "kv_namespace", namespaceId: kvNamespaceId },
        ...(providerKey === undefined
          ? []
          : [{ name: PROVIDER_KEY_BINDING, type: "secret_text", text: providerKey }]),
        {
          name: RATE_LIMITER_BINDING,
          type: "ratelimit",
          namespaceId: rateLimit.namespaceId,
          simple: { limit: rateLimit.limit, period: rateLimit.periodSeconds },
        },
        ...Object.entries(vars)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([varName, text]) => ({ name: varName, type: "plain_text", text })),
        ...(bucketName === undefined ? [] : [{ name: R2_BINDING, type: "r2_bucket", bucketName }]),
      ]);

    const script = new cloudflare.WorkersScript(
      `${name}-script`,
      {
        accountId: args.accountId,
        scriptName: args.scriptName,
        content: args.content,
        contentSha256: args.contentSha256,
        mainModule: args.mainModule,
        compatibilityDate: args.compatibilityDate,
        compatibilityFlags: pulumi.output(args.compatibilityFlags).apply((flags) => [...flags]),
        bindings,
      },
      args.codeDeployedBy === "ci"
        ? pulumi.mergeOptions(childOpts, { ignoreChanges: [...CI_OWNED_SCRIPT_INPUTS] })
        : childOpts,
    );

    if (!providerKeyBinding) {
      new WorkerSecret(
        `${name}-provider-key`,
        {
          accountId: args.accountId,
          scriptName: script.scriptName,
          secretName: PROVIDER_KEY_BINDING,
          value: args.providerKey,
          ...(args.adminApiToken === undefined ? {} : { apiToken: args.adminApiToken }),
          ...(args.apiBaseUrl === undefined ? {} : { apiBaseUrl: args.apiBaseUrl }),
        },
        // retainOnDelete: the secret lives and dies with the script. Without it, switching to
        // codeDeployedBy: pulumi would delete the secret *after* the script's update has bound the key
        // (deletions run last), leaving the Worker without PROVIDER_KEY and Pulumi seeing no diff.
        pulumi.mergeOptions(childOpts, { dependsOn: [script], retainOnDelete: true }),
      );
    }

    const routes =
      args.routesDeployedBy === "ci"
        ? []
        : args.zones.flatMap((zone) =>
            zone.routes.map(
              (pattern) =>
                new cloudflare.WorkersRoute(
                  `${name}-route-${slug(pattern)}`,
                  { zoneId: zone.zoneId, pattern, script: script.scriptName },
                  childOpts,
                ),
            ),
          );
    const hostnames = args.zones.flatMap((zone) =>
      zone.customHostnames.map(
        (hostname) =>
          new cloudflare.CustomHostname(
            `${name}-hostname-${slug(hostname)}`,
            { zoneId: zone.zoneId, hostname, ssl: { method: "http", type: "dv" } },
            childOpts,
          ),
      ),
    );

    this.scriptName = script.scriptName;
    this.kvNamespaceId = kv.id;
    this.kvNamespaceTitle = kv.title;
    this.routes = pulumi.all(routes.map((route) => route.pattern));
    this.r2BucketName = bucket?.name;
    this.customHostnames = pulumi.all(hostnames.map((hostname) => hostname.hostname));
    this.registerOutputs({
      scriptName: this.scriptName,
      kvNamespaceId: this.kvNamespaceId,
      kvNamespaceTitle: this.kvNamespaceTitle,
      routes: this.routes,
      r2BucketName: this.r2BucketName,
      customHostnames: this.customHostnames,
    });
  }
}
