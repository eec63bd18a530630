/**
 * The bench's typed floor (tools/bench/typed-floor.ts) must send the engine what the plan's program
 * sent, or plan/typed compares the plan with something else: each stack's plan is run, its traffic
 * replayed in a fresh mock runtime, and every registration (inputs on the wire, parent, provider,
 * options, dependencies), every invoke and every resource's outputs as the engine holds them
 * compared.
 */
import { rmSync } from "node:fs";

import { afterAll, describe, expect, it } from "vitest";

import { STACK as BENCH_STACK } from "../../tools/bench/protocol";
import { generateStack } from "../../tools/bench/stack";
import { floorClasses, floorFunctions, replayProgram } from "../../tools/bench/typed-floor";
import { runPlan, withoutStackTraces } from "../../tools/plan/run";
import { runProgram, startOfflineRuntime, type RegisteredResource } from "../../tools/shared/offline-runtime";
import { NOW, REPO } from "../plan/helpers";

const sorted = (values: readonly string[]) => [...values].sort();

/** A registration as the engine reads it: lists it reads as sets sorted, the rest as sent. */
function engineView(resource: RegisteredResource) {
  return {
    type: resource.type,
    name: resource.name,
    custom: resource.custom,
    parent: resource.parent,
    inputs: resource.serializedInputs,
    provider: resource.provider,
    version: resource.version,
    protect: resource.protect,
    deleteBeforeReplace: resource.deleteBeforeReplace,
    ignoreChanges: resource.ignoreChanges,
    replaceOnChanges: resource.replaceOnChanges,
    aliasUrns: resource.aliasUrns,
    additionalSecretOutputs: sorted([...new Set(resource.additionalSecretOutputs)]),
    dependencies: sorted(resource.dependencies),
    propertyDependencies: Object.fromEntries(
      Object.entries(resource.propertyDependencies)
        .filter(([, urns]) => urns.length > 0)
        .map(([key, urns]) => [key, sorted(urns)]),
    ),
  };
}

/** The bench's own stack at 3 zones, beside the repository's stacks. */
const bench = generateStack(3);
afterAll(() => rmSync(bench.root, { recursive: true, force: true }));

const CASES = [
  { stack: "dev", root: REPO },
  { stack: "staging", root: REPO },
  { stack: "prod", root: REPO },
  { stack: BENCH_STACK, root: bench.root, policyConfigFile: bench.policyConfig },
];

describe("the typed floor replays the plan's traffic", () => {
  it.each(CASES)("$stack", async ({ stack, root, policyConfigFile }) => {
    const plan = await runPlan({
      root,
      stack,
      now: new Date(NOW),
      ...(policyConfigFile === undefined ? {} : { policyConfigFile }),
    });
    const replay = replayProgram({
      registrations: plan.registrations,
      outputs: plan.engineOutputs,
      invokes: plan.invokes,
      classes: await floorClasses(plan.registrations),
      functions: await floorFunctions(plan.invokes),
    });
    const runtime = await startOfflineRuntime({ project: "scoped-edge", stack, config: {}, secretKeys: [] });
    await withoutStackTraces(() => runProgram(replay));

    const byUrn = (resources: readonly RegisteredResource[]) =>
      Object.fromEntries(resources.map((resource) => [resource.urn, engineView(resource)]));
    expect(byUrn(runtime.resources)).toEqual(byUrn(plan.registrations));
    expect(runtime.mocks.invokes).toEqual(plan.invokes);
    // Outputs: the mocks' state of custom resources, registerOutputs of components and the stack.
    expect(Object.fromEntries(runtime.outputs())).toEqual(Object.fromEntries(plan.engineOutputs));
    // The plan's program passes resource outputs to inputs; a replay without them would differ above.
    expect(plan.registrations.some((resource) => resource.dependencies.length > 0)).toBe(true);
  });
});
