/**
 * During preview the engine sends unknown values as sentinels; the SDK's proxy throws when a policy
 * reads one and the SDK reports "can't run policy ... during preview" as an advisory diagnostic.
 * These tests go through the SDK's own server functions and proxy (see harness.ts).
 */
import { describe, expect, it } from "vitest";

import { CLOUDFLARE_PROVIDER_TYPE } from "../../policies/lib/resource-types";
import {
  policies,
  providerGlobalApiKey,
  tokenDerivedLeastPrivilege,
  tokenExpiry,
  tokenIpRestriction,
  tokenWildcardResources,
  workerPlaintextSecrets,
} from "../../policies/rules";
import { devScript, devStack, devToken, usePolicyClock } from "./fixtures";
import {
  analyzeAll,
  analyzeResource,
  analyzeStack,
  loadConfig,
  PACK_VERSION,
  POLICY_PACK_NAME,
  UNKNOWN,
} from "./harness";

usePolicyClock();

const DEV = loadConfig("dev");
const during = (policy: string, what: string) =>
  `can't run policy '${policy}' from policy pack '${POLICY_PACK_NAME}@v${PACK_VERSION}' during preview: ${what} can't be known during preview`;

describe("unknown values during preview", () => {
  it("an unknown expiresOn: the expiry policy reports it cannot run, as the SDK does; others still run", async () => {
    const token = devToken({ expiresOn: UNKNOWN });
    const { diagnostics } = await analyzeResource([tokenExpiry, tokenIpRestriction], token, { config: DEV });
    expect(diagnostics.map((d) => [d.policyName, d.enforcementLevel, d.message])).toEqual([
      [
        "cloudflare-token-enforce-expiry",
        "advisory",
        during("cloudflare-token-enforce-expiry", "string value at .expiresOn"),
      ],
    ]);
  });

  it("unknown policies and unknown resources", async () => {
    const whole = await analyzeResource(tokenWildcardResources, devToken({ policies: UNKNOWN }), {
      config: DEV,
    });
    expect(whole.diagnostics.map((d) => d.message)).toEqual([
      during("cloudflare-token-disallow-wildcard-resources", "string value at .policies"),
    ]);
    const policiesWithUnknown = [
      { effect: "allow", permissionGroups: [{ id: UNKNOWN }], resources: UNKNOWN },
    ];
    const inner = await analyzeResource(tokenWildcardResources, devToken({ policies: policiesWithUnknown }), {
      config: DEV,
    });
    expect(inner.diagnostics.map((d) => d.message)).toEqual([
      during(
        "cloudflare-token-disallow-wildcard-resources",
        "string value at .policies.0.permissionGroups.0.id",
      ),
    ]);
  });

  it("an unknown Worker binding value and an unknown provider key", async () => {
    const script = devScript([{ name: "API_TOKEN", type: "plain_text", text: UNKNOWN }]);
    const worker = await analyzeResource(workerPlaintextSecrets, script, { config: DEV });
    expect(worker.diagnostics.map((d) => [d.enforcementLevel, d.message])).toEqual([
      [
        "advisory",
        during("cloudflare-worker-disallow-secrets-in-plain-bindings", "string value at .bindings.0.text"),
      ],
    ]);
    const provider = { type: CLOUDFLARE_PROVIDER_TYPE, name: "cf", props: { apiKey: UNKNOWN } };
    expect((await analyzeResource(providerGlobalApiKey, provider)).diagnostics.map((d) => d.message)).toEqual(
      [during("cloudflare-provider-disallow-global-api-key", "string value at .apiKey")],
    );
  });

  it("the stack policy on a token whose policies are unknown", async () => {
    const { diagnostics } = await analyzeStack(
      tokenDerivedLeastPrivilege,
      devStack(devToken({ policies: UNKNOWN })),
      { config: DEV },
    );
    expect(diagnostics.map((d) => [d.enforcementLevel, d.message])).toEqual([
      ["advisory", during("cloudflare-token-enforce-derived-least-privilege", "string value at .policies")],
    ]);
  });

  it("the whole pack never throws on a stack full of unknowns", async () => {
    const stack = devStack(devToken({ policies: UNKNOWN, expiresOn: UNKNOWN, condition: UNKNOWN })).map(
      (resource) => ({ ...resource, props: { ...resource.props, accountId: UNKNOWN } }),
    );
    const diagnostics = await analyzeAll(policies, stack, { config: DEV });
    expect(
      diagnostics.every((d) => d.enforcementLevel === "advisory" && d.message.includes("during preview")),
    ).toBe(true);
    expect(diagnostics.map((d) => d.policyName)).toContain(
      "cloudflare-token-enforce-derived-least-privilege",
    );
  });
});
