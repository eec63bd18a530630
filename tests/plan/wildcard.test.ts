/**
 * A program variant whose deploy token is widened to a wildcard, planned end to end through the CLI.
 * The real program refuses wildcards by design (it derives exact account and zone resources), so this
 * file swaps the one function that writes a token policy's resources for one that widens the account
 * grant to com.cloudflare.api.account.*; the policies read resources with the real module.
 */
import { describe, expect, it, vi } from "vitest";

import { NOW, onlyOf, runCli, TYPES, type JsonPlan } from "./helpers";

const WILDCARD = "com.cloudflare.api.account.*";

vi.mock("../../policies/lib/resources", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../policies/lib/resources")>();
  return {
    ...original,
    resourcesJson: (resources: readonly string[]) =>
      original.resourcesJson(
        resources.map((resource) =>
          resource.startsWith("com.cloudflare.api.account.zone.") ? resource : "com.cloudflare.api.account.*",
        ),
      ),
  };
});

describe("a wildcard deploy token", () => {
  it("exits 1 with a mandatory violation of the wildcard policy", async () => {
    const run = await runCli(["--stack", "dev", "--json", "--now", NOW]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    const document = JSON.parse(run.stdout) as JsonPlan;
    const token = onlyOf(document.resources, TYPES.accountToken);
    expect((token.inputs["policies"] as { resources: string }[])[0]!.resources).toBe(`{"${WILDCARD}":"*"}`);

    const wildcard = document.violations.filter(
      (violation) => violation.policy === "cloudflare-token-disallow-wildcard-resources",
    );
    expect(wildcard).toEqual([
      {
        policy: "cloudflare-token-disallow-wildcard-resources",
        level: "mandatory",
        message:
          "policies[0] grants Account Settings Read, Workers KV Storage Write and Workers Scripts Write on " +
          `${WILDCARD}, every account the token's owner can reach. Replace it with ` +
          '"com.cloudflare.api.account.<account id>" for the one account the token needs.',
        resource:
          "urn:pulumi:dev::scoped-edge::scoped-edge:cloudflare:DeployToken$" +
          "cloudflare:index/accountToken:AccountToken::deploy-token",
      },
    ]);

    const text = await runCli(["--stack", "dev", "--now", NOW]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      "  [mandatory] cloudflare-token-disallow-wildcard-resources  (cloudflare:index/accountToken:AccountToken  deploy-token)\n",
    );
    expect(text.stdout).toContain(`Workers Scripts Write on ${WILDCARD}\n`);
  });
});
