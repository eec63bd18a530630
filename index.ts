/**
 * scoped-edge: a Cloudflare Worker edge stack and its deploy credentials, one stack per
 * environment. This file only reads config and composes; the logic lives in lib/ and policies/lib/.
 *
 * config -> validated stack -> derivation -> components -> outputs. Everything that can fail on bad
 * input (config validation, permission resolution, the Worker bundle) runs before the first resource
 * is registered, so a bad stack deploys nothing. Who owns what: docs/ARCHITECTURE.md#ownership.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";

import { DeployToken } from "./components/deploy-token";
import { EdgeWorker } from "./components/edge-worker";
import { GitHubDeploySecret } from "./components/github-deploy-secret";
import { currentTime } from "./lib/clock";
import { ConfigError, parseStackConfig, type StackConfig } from "./lib/config";
import {
  credentialsTable,
  deployTokenLocation,
  deployTokenNamePrefix,
  requiredAdminGrants,
} from "./lib/credentials";
import { wranglerConfigFor } from "./lib/deploy-contract";
import { footprintOf } from "./lib/footprint";
import {
  resolvePermissionIds,
  UnknownPermissionError,
  type PermissionGroupRow,
} from "./lib/permission-lookup";
import { readProgramConfig } from "./lib/pulumi-config";
import { bundleWorker } from "./lib/worker-bundle";
import { COMPATIBILITY_FLAGS } from "./worker/src/defaults";
import { deriveGrants, grantsToPolicies } from "./policies/lib/derive";
import { resourcesJson } from "./policies/lib/resources";
import { rotationWindow, toRfc3339 } from "./policies/lib/rotation";

/** One permission-group lookup per stack, whatever the number of zones. */
async function lookupPermissionGroups(config: StackConfig): Promise<PermissionGroupRow[]> {
  const result =
    config.token.owner === "account"
      ? await cloudflare.getAccountApiTokenPermissionGroupsList({ accountId: config.accountId })
      : await cloudflare.getApiTokenPermissionGroupsList({});
  return result.results;
}

function loadConfig(): StackConfig {
  const { config, secretKeys } = readProgramConfig();
  try {
    return parseStackConfig(config, { stack: pulumi.getStack(), secretKeys });
  } catch (error) {
    // RunError: Pulumi prints the message alone, without a stack trace.
    if (error instanceof ConfigError) throw new pulumi.RunError(error.message);
    throw error;
  }
}

function resolveOrExplain(names: string[], rows: PermissionGroupRow[]): Map<string, string> {
  try {
    return resolvePermissionIds(names, rows);
  } catch (error) {
    if (error instanceof UnknownPermissionError)
      throw new pulumi.RunError(`${error.message}\n(nothing was deployed)`);
    throw error;
  }
}

/** The deploy token's derivation: its grants, their policies with resolved ids, and its window. */
async function deriveDeployToken(config: StackConfig, now: Date) {
  const window = rotationWindow(now, {
    rotationDays: config.token.rotationDays,
    ttlDays: config.token.ttlDays,
    graceDays: config.token.graceDays,
  });
  const grants = deriveGrants(footprintOf(config), config.token.extraPermissions);
  const tokenPolicies = grantsToPolicies(grants);
  const permissionIds = resolveOrExplain(
    [...new Set(tokenPolicies.flatMap((policy) => policy.permissions))],
    await lookupPermissionGroups(config),
  );
  const policies = tokenPolicies.map((policy) => ({
    permissionGroupIds: policy.permissions.map((name) => permissionIds.get(name)!),
    resources: resourcesJson(policy.resources),
  }));
  return { window, grants, policies };
}

export = async () => {
  const config = loadConfig();
  const now = currentTime();
  // No deploy token at all when Pulumi deploys the code itself: no derivation, no lookup.
  const derived = config.codeDeployedBy === "ci" ? await deriveDeployToken(config, now) : undefined;
  const adminGrants = requiredAdminGrants(config);
  const tokenLocation = deployTokenLocation(config);
  const bundle = await bundleWorker();

  const secrets = new pulumi.Config();
  const providerKey = secrets.requireSecret("providerKey");
  const githubToken = new pulumi.Config("github").getSecret("token");
  // The admin credential and API base URL the Cloudflare provider uses, for the WorkerSecret too
  // (without cloudflare:apiToken both read CLOUDFLARE_API_TOKEN from pulumi's environment).
  const cloudflareConfig = new pulumi.Config("cloudflare");
  const adminApiToken = cloudflareConfig.getSecret("apiToken");
  const apiBaseUrl = cloudflareConfig.get("baseUrl");

  // ---- resources: nothing above this line registers anything ----------------------------------

  const worker = new EdgeWorker("edge", {
    accountId: config.accountId,
    scriptName: config.worker.name,
    content: bundle.content,
    contentSha256: bundle.sha256,
    mainModule: bundle.mainModule,
    compatibilityDate: config.worker.compatibilityDate,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    // VERSION describes the code, so it belongs to whoever deploys the code: Pulumi sets it only when
    // it owns the code; with codeDeployedBy ci the app's deploy sets it (wrangler --var VERSION:...).
    vars:
      config.codeDeployedBy === "pulumi"
        ? { VERSION: bundle.sha256.slice(0, 12), ...config.worker.vars }
        : config.worker.vars,
    providerKey,
    ...(adminApiToken === undefined ? {} : { adminApiToken }),
    ...(apiBaseUrl === undefined ? {} : { apiBaseUrl }),
    rateLimit: config.worker.rateLimit,
    zones: config.zones.map((zone) => ({
      zoneId: zone.id,
      routes: zone.routes,
      customHostnames: zone.customHostnames,
    })),
    routesDeployedBy: config.routesDeployedBy,
    codeDeployedBy: config.codeDeployedBy,
    ...(config.r2Bucket === undefined ? {} : { r2BucketName: config.r2Bucket }),
  });

  const common = {
    workerName: worker.scriptName,
    workerBundleSha256: bundle.sha256,
    codeDeployedBy: config.codeDeployedBy,
    routesDeployedBy: config.routesDeployedBy,
    kvNamespaceId: worker.kvNamespaceId,
    routes: worker.routes,
    adminPermissions: adminGrants,
  };

  if (derived === undefined || tokenLocation === undefined) {
    return {
      ...common,
      deployToken:
        "none: codeDeployedBy is pulumi, so Pulumi deploys the Worker's code and no deploy token exists",
      credentials: credentialsTable({ stack: config.stack, workerName: config.worker.name, adminGrants }),
    };
  }

  const { window, grants, policies } = derived;
  const deployToken = new DeployToken("deploy", {
    accountId: config.accountId,
    owner: config.token.owner,
    namePrefix: deployTokenNamePrefix(config),
    policies,
    expiresOn: toRfc3339(window.expiresOn),
    ...(config.token.notBefore === undefined ? {} : { notBefore: config.token.notBefore }),
    allowedIps: config.token.allowedIps,
    deniedIps: config.token.deniedIps,
    rotationWindowStart: toRfc3339(window.start),
    rotationGeneration: config.token.generation,
  });

  // The provider carries the owner; the component takes only the repository's name.
  const githubProvider = new github.Provider("github", {
    owner: config.github.owner,
    ...(githubToken === undefined ? {} : { token: githubToken }),
  });
  const environment = config.github.environment;
  new GitHubDeploySecret(
    "deploy-secret",
    {
      repository: config.github.repository,
      ...(environment === undefined
        ? {}
        : {
            environment: {
              name: environment,
              protectedBranchesOnly: config.github.protectedBranchesOnly,
              reviewerUsers: config.github.reviewers.users,
              reviewerTeams: config.github.reviewers.teams,
            },
          }),
      deployToken: deployToken.value,
      deployTokenName: deployToken.tokenName,
      accountId: config.accountId,
      wranglerConfig: worker.kvNamespaceId.apply((kvNamespaceId) =>
        JSON.stringify(wranglerConfigFor(config, { kvNamespaceId })),
      ),
    },
    { providers: [githubProvider] },
  );

  const nextRotation = toRfc3339(window.nextRotation);
  return {
    ...common,
    deployTokenId: deployToken.tokenId,
    deployTokenName: deployToken.tokenName,
    deployTokenExpiresOn: deployToken.expiresOn,
    deployTokenValue: deployToken.value,
    deployTokenStoredIn: tokenLocation,
    deployTokenPermissions: grants.map((grant) => ({
      permission: grant.permission,
      resource: grant.resource,
      reason: grant.reason,
      addedByHand: grant.addedByHand,
    })),
    permissionsAddedByHand: [
      ...new Set(grants.filter((grant) => grant.addedByHand).map((grant) => grant.permission)),
    ],
    rotation: {
      window: window.index,
      windowStart: toRfc3339(window.start),
      nextRotation,
      expiresOn: toRfc3339(window.expiresOn),
      generation: config.token.generation,
    },
    credentials: credentialsTable({
      stack: config.stack,
      workerName: config.worker.name,
      adminGrants,
      deployToken: {
        location: tokenLocation,
        expiresOn: toRfc3339(window.expiresOn),
        nextRotation,
        rotationDays: config.token.rotationDays,
      },
    }),
  };
};
