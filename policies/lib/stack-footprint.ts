/**
 * The deployment footprint of a stack, computed from the stack's own resources as the policy SDK
 * hands them to a stack policy: what the application's deploy does with the token this stack mints.
 *
 * How the pack learns it (docs/DEPLOY-CONTRACT.md):
 * - A Worker script in the stack and a deploy token: the app's CI deploys the script's code, on the
 *   script's account (codeDeployedBy: pulumi mints no token, so the policy does not apply).
 * - The deploy contract the stack publishes to GitHub (Actions variable SCOPED_EDGE_WRANGLER_CONFIG,
 *   the app's wrangler config as JSON) says what else the deploy does: routes with their zone ids
 *   (routesDeployedBy: ci), KV bindings without an id. Without that variable the app's deploy is
 *   taken to carry no routes and no id-less bindings (the stack's own WorkersRoute resources mean
 *   Pulumi owns the routes).
 * - While the contract's value is unknown (a preview before the KV namespace exists), reading it throws
 *   the SDK's UnknownValueError, which the SDK reports as "can't run policy ... during preview", as
 *   for every other unknown a policy needs.
 */
import {
  DerivationError,
  footprintOfWranglerConfig,
  type DeploymentFootprint,
  type WranglerConfigShape,
} from "./derive";
import { SCRIPT_TYPES } from "./resource-types";

/** The GitHub Actions variable holding the deploy contract (program: lib/credentials.ts). */
export const WRANGLER_CONFIG_VARIABLE = "SCOPED_EDGE_WRANGLER_CONFIG";

/** Pulumi types of the GitHub Actions variables the program publishes the contract with (@pulumi/github 6.15.0). */
export const ACTIONS_VARIABLE_TYPES: readonly string[] = [
  "github:index/actionsVariable:ActionsVariable",
  "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
];

/** The part of a stack resource this module reads (the SDK's PolicyResource has more). */
export interface StackResourceLike {
  readonly type: string;
  readonly props: Record<string, unknown>;
}

export type StackFootprintResult =
  | { readonly ok: true; readonly footprints: DeploymentFootprint[] }
  | { readonly ok: false; readonly error: string };

function stringProp(props: Record<string, unknown>, key: string): string | undefined {
  const value = props[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * One footprint per account with a Worker script, sorted by account id; empty when the stack has no
 * Worker script. An error when the published contract is not a wrangler config the derivation reads.
 */
export function footprintsFromResources(resources: readonly StackResourceLike[]): StackFootprintResult {
  const accounts = new Set<string>();
  for (const resource of resources) {
    if (!SCRIPT_TYPES.includes(resource.type)) continue;
    const accountId = stringProp(resource.props, "accountId");
    if (accountId !== undefined) accounts.add(accountId);
  }
  const contracts = resources.filter(
    (resource) =>
      ACTIONS_VARIABLE_TYPES.includes(resource.type) &&
      resource.props.variableName === WRANGLER_CONFIG_VARIABLE,
  );
  const parsed: WranglerConfigShape[] = [];
  for (const contract of contracts) {
    const value = contract.props.value;
    if (typeof value !== "string") {
      return { ok: false, error: `${WRANGLER_CONFIG_VARIABLE} has no string value` };
    }
    try {
      const config = JSON.parse(value) as WranglerConfigShape;
      if (typeof config !== "object" || config === null || typeof config.account_id !== "string") {
        return {
          ok: false,
          error: `${WRANGLER_CONFIG_VARIABLE} is not a wrangler config with an account_id`,
        };
      }
      parsed.push(config);
    } catch (error) {
      return { ok: false, error: `${WRANGLER_CONFIG_VARIABLE} is not JSON (${(error as Error).message})` };
    }
  }

  const footprints: DeploymentFootprint[] = [];
  for (const accountId of [...accounts].sort()) {
    // The same contract may be published to several scopes; their footprints must agree.
    const ofAccount = parsed.filter((config) => config.account_id === accountId);
    let footprint: DeploymentFootprint = {
      accountId,
      deploysCode: true,
      kvNamespacesToCreate: 0,
      routeZoneIds: [],
      zoneLookupZoneIds: [],
    };
    try {
      for (const config of ofAccount) {
        const fromContract = footprintOfWranglerConfig(config);
        footprint = {
          ...footprint,
          kvNamespacesToCreate: Math.max(footprint.kvNamespacesToCreate, fromContract.kvNamespacesToCreate),
          routeZoneIds: [...new Set([...footprint.routeZoneIds, ...fromContract.routeZoneIds])].sort(),
        };
      }
    } catch (error) {
      if (!(error instanceof DerivationError)) throw error;
      return { ok: false, error: `${WRANGLER_CONFIG_VARIABLE}: ${error.message}` };
    }
    footprints.push(footprint);
  }
  return { ok: true, footprints };
}
