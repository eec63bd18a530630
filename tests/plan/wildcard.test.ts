/**
 * A program variant whose deploy token is widened to a wildcard, planned end to end through the CLI.
 * The real program refuses wildcards by design (it derives exact account and zone resources), so this
 * file swaps the one function that writes a token policy's resources for one that widens the account
 * grant to com.cloudflare.api.account.*; the policies read resources with the real module.
 */
import { describe, expect, it } from "vitest";

import type * as Resources from "../../policies/lib/resources";
import { cliOverReplacedModule, jsonOutput, NOW, onlyOf, TYPES } from "./helpers";

const WILDCARD = "com.cloudflare.api.account.*";

const cli = cliOverReplacedModule<typeof Resources>("../../policies/lib/resources", (original) => ({
  resourcesJson: (resources: readonly string[]) =>
    original.resourcesJson(
      resources.map((resource) =>
        resource.startsWith("com.cloudflare.api.account.zone.") ? resource : WILDCARD,
      ),
    ),
}));

describe("a wildcard deploy token", () => {
  it("exits 1 with a mandatory violation of the wildcard policy", async () => {
    const run = await cli.runCli(["--stack", "dev", "--json", "--now", NOW]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    const document = jsonOutput(run);
    const token = onlyOf(document.resources, TYPES.accountToken);
    expect((token.inputs["policies"] as { resources: string }[])[0]!.resources).toBe(`{"${WILDCARD}":"*"}`);

    const wildcard = document.violations.filter(
      (violation) => violation.policy === "cloudflare-token-disallow-wildcard-resources",
    );
    expect(wildcard.map(({ policy, level, resource }) => ({ policy, level, resource }))).toEqual([
      {
        policy: "cloudflare-token-disallow-wildcard-resources",
        level: "mandatory",
        resource: token.urn,
      },
    ]);
    expect(wildcard[0]!.message).toContain(`on ${WILDCARD}, every account the token's owner can reach`);
    expect(wildcard[0]!.remediation).toContain("com.cloudflare.api.account.<account id>");

    const text = await cli.runCli(["--stack", "dev", "--now", NOW]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/\nMandatory violations \(\d+\):\n/);
    expect(text.stdout).toContain(
      "\n  cloudflare-token-disallow-wildcard-resources on deploy-token (cloudflare:AccountToken)\n",
    );
    // The grants table names the wildcard as its scope.
    expect(text.stdout).toContain(
      "\n  permission             EVERY account (*)\n  Workers Scripts Write  ✓\n",
    );
  });
});
