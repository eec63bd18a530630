/**
 * The plan's driver (tools/plan/analyzer.ts) does not call a policy for a resource type its
 * validation declares, with onlyFor, that it does not cover: it answers "not applicable, <reason>"
 * in its place. That is sound only if the policy, called as the SDK's server calls it, answers
 * exactly that. Checked here for every resource policy of the pack against every type the pack
 * names and some it does not: the SDK's own Analyze handler over the bare policy (no driver, no
 * skipping) is the reference. pack.grpc.test.ts compares the driver with the pack run as the CLI
 * runs it.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";

import { applicabilityOf } from "../../policies/lib/applicability";
import * as resourceTypes from "../../policies/lib/resource-types";
import { policies } from "../../policies/rules";
import { analyzeRequest as engineAnalyzeRequest, readResponse } from "../../tools/plan/analyzer";
import { policyHandlers } from "../../tools/shared/pulumi-adapter";
import { devStack, usePolicyClock } from "./fixtures";
import { analyzeResource, loadConfig, PACK_VERSION, POLICY_PACK_NAME, urnOf } from "./harness";

usePolicyClock();

const resourcePolicies = policies.filter(
  (policy): policy is ResourceValidationPolicy => "validateResource" in policy,
);

/** Every type the pack names, and types it does not (the program's other resources, the root stack). */
const TYPES = [
  ...new Set([
    ...Object.values(resourceTypes).flatMap((value) =>
      typeof value === "string" ? [value] : Array.isArray(value) ? (value as string[]) : [],
    ),
    "pulumi:pulumi:Stack",
    "pulumi:providers:github",
    "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
    "random:index/randomId:RandomId",
    "scoped-edge:cloudflare:DeployToken",
  ]),
];

/** The SDK's Analyze handler over `served` alone, for a resource of `type` with no properties. */
function sdkAnswer(served: ResourceValidationPolicy[], type: string) {
  const rpc = policyHandlers().makeAnalyzeRpcFun(POLICY_PACK_NAME, PACK_VERSION, "advisory", served);
  const request = engineAnalyzeRequest({ urn: urnOf(type, "r"), type, name: "r", inputs: {} });
  return new Promise((resolve, reject) => {
    void rpc({ request }, (error, response) => (error ? reject(error) : resolve(readResponse(response!))));
  });
}

describe("onlyFor: what a policy declares is what it answers", () => {
  it("every resource policy of the pack declares the types it covers", () => {
    expect(resourcePolicies.map((policy) => policy.name).sort()).toEqual(
      resourcePolicies
        .filter((policy) => applicabilityOf(policy.validateResource as never) !== undefined)
        .map((policy) => policy.name)
        .sort(),
    );
    // The names resource-types.ts gives are all here (a new one would be checked too).
    expect(TYPES).toContain(resourceTypes.WORKERS_ROUTE_TYPE);
    expect(TYPES).toContain(resourceTypes.ACCOUNT_TOKEN_TYPE);
  });

  for (const policy of resourcePolicies) {
    const declared = applicabilityOf(policy.validateResource as never)!;
    const others = TYPES.filter((type) => !declared.types.includes(type));

    it(`${policy.name}: called by the SDK for any type but ${declared.types.join(", ")}, it is not applicable with the declared reason; the driver answers the same without calling it`, async () => {
      expect(others.length).toBeGreaterThan(5);
      for (const type of others) {
        const expected = {
          diagnostics: [],
          notApplicable: [{ policyName: policy.name, reason: declared.reason }],
        };
        expect(await sdkAnswer([policy], type)).toEqual(expected);
        expect(await analyzeResource(policy, { type, name: "r", props: {} })).toEqual(expected);
      }
    });
  }

  it("the whole pack: the driver's answer for each resource type equals the SDK's, not-applicable entries in policy order", async () => {
    const config = loadConfig("dev");
    // An unmarked policy amid the marked ones: its not-applicable answer comes from the SDK, the
    // others' from the driver, and the list keeps the pack's order.
    const probe: ResourceValidationPolicy = {
      name: "probe",
      description: "never applies",
      enforcementLevel: "advisory",
      validateResource: (args) => args.notApplicable("probe applies to nothing"),
    };
    const pack = [...resourcePolicies.slice(0, 3), probe, ...resourcePolicies.slice(3)];
    // The reference: the same policies with their marks dropped, so the SDK calls every one.
    const unmarked = pack.map((policy) => ({
      ...policy,
      validateResource: (policy.validateResource as (...args: never[]) => unknown).bind(undefined),
    })) as ResourceValidationPolicy[];
    for (const resource of devStack()) {
      const driver = await analyzeResource(pack, resource, { config });
      expect(driver).toEqual(await analyzeResource(unmarked, resource, { config }));
      expect(driver.notApplicable.map((entry) => entry.policyName)).toContain("probe");
    }
  });
});
