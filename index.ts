/**
 * scoped-edge: a Cloudflare Worker edge stack and its deploy credentials, one stack per
 * environment. This file only reads config and composes; the logic lives in lib/ and policies/lib/.
 *
 * Everything that can fail on bad input (config validation, permission resolution, the Worker
 * bundle) runs before the first resource is registered, so a bad stack deploys nothing.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";

import { DeployToken } from "./components/deploy-token";
import { EdgeWorker } from "./components/edge-worker";
import { GitHubDeploySecret } from "./components/github-deploy-secret";
import { currentTime } from "./lib/clock";
import { ConfigError, parseStackConfig, type StackConfig } from "./lib/config";
import { credentialsTable } from "./lib/credentials";
import { footprintOf } from "./lib/footprint";
import {
  resolvePermissionIds,
  UnknownPermissionError,
  type PermissionGroupRow,
} from "./lib/permission-lookup";
import { readProgramConfig } from "./lib/pulumi-config";
import { bundleWorker } from "./lib/worker-bundle";
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

export = async () => {
  const config = loadConfig();
  const now = currentTime();
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
  const bundle = await bundleWorker();

  const secrets = new pulumi.Config();
  const providerKey = secrets.requireSecret("providerKey");
  const githubToken = new pulumi.Config("github").getSecret("token");

  // ---- resources: nothing above this line registers anything ----------------------------------

  const worker = new EdgeWorker("edge", {
    accountId: config.accountId,
    scriptName: config.worker.name,
    content: bundle.content,
    contentSha256: bundle.sha256,
    mainModule: bundle.mainModule,
    compatibilityDate: config.worker.compatibilityDate,
    vars: { VERSION: bundle.sha256.slice(0, 12), ...config.worker.vars },
    providerKey,
    zones: config.zones.map((zone) => ({
      zoneId: zone.id,
      routes: zone.routes,
      customHostnames: zone.customHostnames,
    })),
    ...(config.r2Bucket === undefined ? {} : { r2BucketName: config.r2Bucket }),
  });

  const deployToken = new DeployToken("deploy", {
    accountId: config.accountId,
    owner: config.token.owner,
    namePrefix: `${config.project}-${config.stack}-deploy`,
    policies: tokenPolicies.map((policy) => ({
      permissionGroupIds: policy.permissions.map((name) => permissionIds.get(name)!),
      resources: resourcesJson(policy.resources),
    })),
    expiresOn: toRfc3339(window.expiresOn),
    ...(config.token.notBefore === undefined ? {} : { notBefore: config.token.notBefore }),
    allowedIps: config.token.allowedIps,
    deniedIps: config.token.deniedIps,
    rotationWindowStart: toRfc3339(window.start),
    rotationGeneration: config.token.generation,
  });

  const githubProvider = new github.Provider("github", {
    owner: config.github.owner,
    ...(githubToken === undefined ? {} : { token: githubToken }),
  });
  const deploySecret = new GitHubDeploySecret(
    "deploy-secret",
    {
      owner: config.github.owner,
      repository: config.github.repository,
      ...(config.github.environment === undefined ? {} : { environment: config.github.environment }),
      deployToken: deployToken.value,
      accountId: config.accountId,
    },
    { providers: [githubProvider] },
  );

  const expiresOn = toRfc3339(window.expiresOn);
  const nextRotation = toRfc3339(window.nextRotation);
  return {
    deployTokenId: deployToken.tokenId,
    deployTokenName: deployToken.tokenName,
    deployTokenExpiresOn: expiresOn,
    deployTokenValue: deployToken.value,
    deployTokenStoredIn: deploySecret.location,
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
      expiresOn,
      generation: config.token.generation,
    },
    workerName: worker.scriptName,
    workerBundleSha256: bundle.sha256,
    kvNamespaceId: worker.kvNamespaceId,
    routes: worker.routes,
    credentials: credentialsTable({
      stack: config.stack,
      tokenOwner: config.token.owner,
      deployTokenLocation: deploySecret.location,
      deployTokenExpiresOn: expiresOn,
      nextRotation,
      rotationDays: config.token.rotationDays,
      workerName: config.worker.name,
    }),
  };
};
