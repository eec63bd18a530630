/**
 * What the application's deploy does for a stack, from its validated config: the calls of `wrangler`
 * under the stack's deploy contract (lib/deploy-contract.ts). Pure.
 */
import {
  footprintOfWranglerConfig,
  noDeployFootprint,
  type DeploymentFootprint,
} from "../policies/lib/derive";
import type { StackConfig } from "./config";
import { wranglerConfigFor, type DeployContractConfig } from "./deploy-contract";

/** Stands in for the KV namespace's id, which decides no call (the binding carries an id either way). */
const KV_ID_FOR_DERIVATION = "kv-namespace-id-known-after-pulumi-up";

export function footprintOf(
  config: DeployContractConfig & Pick<StackConfig, "accountId">,
): DeploymentFootprint {
  if (config.codeDeployedBy === "pulumi") return noDeployFootprint(config.accountId);
  return footprintOfWranglerConfig(wranglerConfigFor(config, { kvNamespaceId: KV_ID_FOR_DERIVATION }));
}
