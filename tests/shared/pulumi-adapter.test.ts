/**
 * The canary for tools/shared/pulumi-adapter.ts, the one module that uses SDK internals: after an
 * upgrade of @pulumi/pulumi or @pulumi/policy this fails first, naming what changed and where to fix.
 */
import { createRequire } from "node:module";

import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";

import {
  driftMessage,
  PULUMI_VERSION,
  sdkDrift,
  waitForRegistrations,
  withDynamicProvidersAs,
} from "../../tools/shared/pulumi-adapter";

describe("the SDK internals the offline plan relies on", () => {
  it("are all still there", () => {
    const drift = sdkDrift();
    expect(drift, drift.join("\n")).toEqual([]);
  });

  it("a missing one is reported with the package, its version, the member and the file to update", () => {
    const { MockMonitor } = createRequire(__filename)("@pulumi/pulumi/runtime/mocks") as {
      MockMonitor: { prototype: Record<string, unknown> };
    };
    const newUrn = MockMonitor.prototype["newUrn"];
    delete MockMonitor.prototype["newUrn"];
    try {
      expect(sdkDrift()).toEqual([
        `@pulumi/pulumi ${PULUMI_VERSION} changed MockMonitor.newUrn; update tools/shared/pulumi-adapter.ts`,
      ]);
    } finally {
      MockMonitor.prototype["newUrn"] = newUrn;
    }
    expect(driftMessage("@pulumi/policy", "x")).toMatch(
      /^@pulumi\/policy v?\d+\.\d+\.\d+ changed x; update tools\/shared\/pulumi-adapter\.ts$/,
    );
  });
});

describe("withDynamicProvidersAs", () => {
  /** The __provider input a dynamic resource registers with, as the mock runtime receives it. */
  async function registeredProvider(create: () => void): Promise<unknown> {
    let provider: unknown;
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          provider = args.inputs["__provider"];
          return { id: "id", state: args.inputs };
        },
        call: () => ({}),
      },
      "project",
      "stack",
      false,
    );
    create();
    await waitForRegistrations();
    return provider;
  }
  class Probe extends pulumi.dynamic.Resource {}
  const dynamicResource = (name: string) =>
    new Probe({ create: () => Promise.resolve({ id: name, outs: {} }) }, name, {}, {});

  it("a dynamic resource registers the stand-in text inside; Pulumi's own serialization outside", async () => {
    const inside = await withDynamicProvidersAs("[stand-in]", () =>
      registeredProvider(() => dynamicResource("inside")),
    );
    expect(inside).toBe("[stand-in]");
    const outside = await registeredProvider(() => dynamicResource("outside"));
    expect(outside).toMatch(/^exports\.handler = /);
    // And once the serializer is loaded, the stand-in still replaces it, and is undone after.
    expect(
      await withDynamicProvidersAs("[again]", () => registeredProvider(() => dynamicResource("again"))),
    ).toBe("[again]");
    expect(await registeredProvider(() => dynamicResource("after"))).toMatch(/^exports\.handler = /);
  });

  it("the SDK's per-provider cache neither keeps the stand-in nor lends a real serialization to it", async () => {
    // One provider object for every registration, as components/worker-secret.ts has.
    const provider = { create: () => Promise.resolve({ id: "shared", outs: {} }) };
    const shared = (name: string) => new Probe(provider, name, {}, {});
    expect(await withDynamicProvidersAs("[first]", () => registeredProvider(() => shared("a")))).toBe(
      "[first]",
    );
    expect(await registeredProvider(() => shared("b"))).toMatch(/^exports\.handler = /);
    expect(await withDynamicProvidersAs("[second]", () => registeredProvider(() => shared("c")))).toBe(
      "[second]",
    );
  });
});
