/**
 * The canary for tools/shared/pulumi-adapter.ts, the one module that uses SDK internals: after an
 * upgrade of @pulumi/pulumi or @pulumi/policy this fails first, naming what changed and where to fix.
 */
import { createRequire } from "node:module";

import { describe, expect, it } from "vitest";

import { driftMessage, PULUMI_VERSION, sdkDrift } from "../../tools/shared/pulumi-adapter";

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
