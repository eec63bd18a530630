/** What the deploy pipeline manages for a stack, from its validated config. Pure. */
import type { DeploymentFootprint } from "../policies/lib/derive";
import type { StackConfig } from "./config";

export function footprintOf(config: StackConfig): DeploymentFootprint {
  return {
    accountId: config.accountId,
    workerScripts: 1,
    kvNamespaces: 1,
    r2Buckets: config.r2Bucket === undefined ? 0 : 1,
    routeZoneIds: config.zones.filter((zone) => zone.routes.length > 0).map((zone) => zone.id),
    customHostnameZoneIds: config.zones
      .filter((zone) => zone.customHostnames.length > 0)
      .map((zone) => zone.id),
  };
}
