/**
 * The stacks npm run bench measures: a stack root of N zones (a route each, plus the Worker, KV
 * namespace, deploy token and GitHub environment, secret and variables) in a temporary directory,
 * with the dev policy config scoped to its account. tests/bench/typed-floor.test.ts plans one too.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { stringify } from "yaml";

import { PROJECT, STACK } from "./protocol";

const REPO_ROOT = join(__dirname, "..", "..");
const ACCOUNT_ID = "5f1a0c2e9b7d4a3c8e6f1b2d3c4a5e6f";

const zoneId = (index: number) => (0xd0000000 + index).toString(16).padStart(32, "0").replace(/^0/, "7");

/** A stack root (Pulumi.yaml copy, Pulumi.bench.yaml) and policy config for `zones` zones; the caller removes `root`. */
export function generateStack(zones: number): { root: string; policyConfig: string } {
  const root = mkdtempSync(join(tmpdir(), `scoped-edge-bench-${zones}-`));
  copyFileSync(join(REPO_ROOT, "Pulumi.yaml"), join(root, "Pulumi.yaml"));
  const zoneList = Array.from({ length: zones }, (_, index) => ({
    name: `z${index}.example.com`,
    id: zoneId(index),
    routes: [`api.z${index}.example.com/*`],
  }));
  writeFileSync(
    join(root, `Pulumi.${STACK}.yaml`),
    stringify({
      config: {
        [`${PROJECT}:environment`]: "dev",
        [`${PROJECT}:accountId`]: ACCOUNT_ID,
        [`${PROJECT}:zones`]: zoneList,
        [`${PROJECT}:workerName`]: "edge-bench",
        [`${PROJECT}:githubRepository`]: "example-org/edge-app",
        [`${PROJECT}:githubEnvironment`]: "dev",
        [`${PROJECT}:providerKey`]: { secure: "v1:YmVuY2gtb25seS1jaXBoZXJ0ZXh0" },
        "cloudflare:apiToken": { secure: "v1:YmVuY2gtb25seS1hZG1pbg==" },
        "github:token": { secure: "v1:YmVuY2gtb25seS1naXRodWI=" },
      },
    }),
  );
  const policyConfig = JSON.parse(
    readFileSync(join(REPO_ROOT, "policies", "config", "dev.json"), "utf8"),
  ) as Record<string, unknown>;
  // Zone scope: with no zone ids configured the pack allows the stack's own zones.
  policyConfig["cloudflare-token-enforce-allowed-scope"] = {
    enforcementLevel: "mandatory",
    allowedAccountIds: [ACCOUNT_ID],
  };
  const policyConfigFile = join(root, "policy-config.json");
  writeFileSync(policyConfigFile, JSON.stringify(policyConfig));
  return { root, policyConfig: policyConfigFile };
}
