import { createHash } from "node:crypto";

import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";

import { WORKER_BINDINGS } from "../lib/worker-bundle";

/** Binding names the Worker reads (worker/src/defaults.ts is their single source). */
export const KV_BINDING = WORKER_BINDINGS.kv;
export const PROVIDER_KEY_BINDING = WORKER_BINDINGS.providerKey;
/** The R2 bucket, bound only when the stack declares one. */
export const R2_BINDING = "ASSETS_BUCKET";

export interface EdgeWorkerZone {
  /** Zone id the routes and custom hostnames live in. */
  readonly zoneId: string;
  /** Workers route patterns on this zone (host/path). */
  readonly routes: readonly string[];
  /** Cloudflare for SaaS custom hostnames on this zone. */
  readonly customHostnames: readonly string[];
}

export interface EdgeWorkerArgs {
  /** Account the Worker, KV namespace and R2 bucket live in. */
  readonly accountId: pulumi.Input<string>;
  /** Worker script name. */
  readonly scriptName: string;
  /** Bundled ES module source. */
  readonly content: string;
  /** sha256 (hex) of `content`, so Cloudflare and Pulumi see exactly which bundle is deployed. */
  readonly contentSha256: string;
  /** Module name of the bundle's entry (the `mainModule`). */
  readonly mainModule: string;
  /** Workers compatibility date (YYYY-MM-DD). */
  readonly compatibilityDate: string;
  /** Plain-text vars. */
  readonly vars: Readonly<Record<string, string>>;
  /** PROVIDER_KEY, bound as secret_text; must be a Pulumi secret. */
  readonly providerKey: pulumi.Input<string>;
  /** Zones with their routes and custom hostnames. */
  readonly zones: readonly EdgeWorkerZone[];
  /** R2 bucket to create and bind, when the stack has one. */
  readonly r2BucketName?: string;
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

/** The Worker script with its KV namespace, routes and, when declared, R2 bucket and custom hostnames. */
export class EdgeWorker extends pulumi.ComponentResource {
  public readonly scriptName: pulumi.Output<string>;
  public readonly kvNamespaceId: pulumi.Output<string>;
  public readonly routes: pulumi.Output<string[]>;
  public readonly r2BucketName: pulumi.Output<string> | undefined;
  public readonly customHostnames: pulumi.Output<string[]>;

  constructor(name: string, args: EdgeWorkerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scoped-edge:cloudflare:EdgeWorker", name, {}, opts);
    const childOpts = { parent: this };

    const kv = new cloudflare.WorkersKvNamespace(
      `${name}-kv`,
      { accountId: args.accountId, title: `${args.scriptName}-rate-limit` },
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

    const bindings: pulumi.Input<cloudflare.types.input.WorkersScriptBinding>[] = [
      { name: KV_BINDING, type: "kv_namespace", namespaceId: kv.id },
      { name: PROVIDER_KEY_BINDING, type: "secret_text", text: pulumi.secret(args.providerKey) },
      ...Object.entries(args.vars)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([varName, text]) => ({ name: varName, type: "plain_text", text })),
      ...(bucket === undefined ? [] : [{ name: R2_BINDING, type: "r2_bucket", bucketName: bucket.name }]),
    ];

    const script = new cloudflare.WorkersScript(
      `${name}-script`,
      {
        accountId: args.accountId,
        scriptName: args.scriptName,
        content: args.content,
        contentSha256: args.contentSha256,
        mainModule: args.mainModule,
        compatibilityDate: args.compatibilityDate,
        bindings,
      },
      childOpts,
    );

    const routes = args.zones.flatMap((zone) =>
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
    this.routes = pulumi.output(routes.map((route) => route.pattern));
    this.r2BucketName = bucket?.name;
    this.customHostnames = pulumi.output(hostnames.map((hostname) => hostname.hostname));
    this.registerOutputs({
      scriptName: this.scriptName,
      kvNamespaceId: this.kvNamespaceId,
      routes: this.routes,
      r2BucketName: this.r2BucketName,
      customHostnames: this.customHostnames,
    });
  }
}
