/** tools/plan/mask.ts: every secret, in wire form or resolved, becomes "[secret]". */
import fc from "fast-check";
import {
  specialArchiveSig,
  specialAssetSig,
  specialOutputValueSig,
  specialResourceSig,
  specialSecretSig,
  specialSigKey,
  unknownValue,
} from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it } from "vitest";

import {
  DYNAMIC_PROVIDER_PLACEHOLDER,
  maskResolved,
  maskWire,
  SECRET,
  SECRET_SIG,
  SIG_KEY,
  UNKNOWN,
  wireSecret,
  withoutProviderSource,
} from "../../tools/plan/mask";
import { SECRET_PLACEHOLDER } from "../../tools/shared/stack-file";

const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });

describe("constants", () => {
  it("uses the SDK's own signatures and the stack file's placeholder", () => {
    expect(SIG_KEY).toBe(specialSigKey);
    expect(SECRET_SIG).toBe(specialSecretSig);
    expect(SECRET).toBe("[secret]");
    expect(SECRET).toBe(SECRET_PLACEHOLDER);
    expect(UNKNOWN).toBe("[unknown]");
  });

  it("wireSecret builds the SDK's wire form of a secret", () => {
    expect(wireSecret("gsk_live_123")).toEqual(secret("gsk_live_123"));
    expect(maskWire(wireSecret({ nested: ["x"] }))).toBe(SECRET);
  });
});

describe("maskWire", () => {
  it("replaces wire-form secrets wherever they are, whatever they hold", () => {
    expect(maskWire(secret("gsk_live_abcdef"))).toBe("[secret]");
    expect(maskWire(secret({ inner: "x" }))).toBe("[secret]");
    expect(maskWire(secret(42))).toBe("[secret]");
    expect(
      maskWire({
        plain: "visible",
        bindings: [
          { name: "PROVIDER_KEY", type: "secret_text", text: secret("gsk_live_abcdef") },
          { name: "VERSION", type: "plain_text", text: "0123" },
        ],
        deep: { list: [1, [secret("two")], null, true] },
      }),
    ).toEqual({
      plain: "visible",
      bindings: [
        { name: "PROVIDER_KEY", type: "secret_text", text: "[secret]" },
        { name: "VERSION", type: "plain_text", text: "0123" },
      ],
      deep: { list: [1, ["[secret]"], null, true] },
    });
  });

  it("shows unknowns, output values, resource references and assets readably", () => {
    expect(maskWire(unknownValue)).toBe("[unknown]");
    expect(maskWire({ id: unknownValue, list: [unknownValue] })).toEqual({
      id: "[unknown]",
      list: ["[unknown]"],
    });
    expect(maskWire({ [specialSigKey]: specialOutputValueSig, value: "known" })).toBe("known");
    expect(maskWire({ [specialSigKey]: specialOutputValueSig, value: { a: secret("s") } })).toEqual({
      a: "[secret]",
    });
    expect(maskWire({ [specialSigKey]: specialOutputValueSig, value: "hidden", secret: true })).toBe(
      "[secret]",
    );
    expect(maskWire({ [specialSigKey]: specialOutputValueSig, secret: true })).toBe("[secret]");
    expect(maskWire({ [specialSigKey]: specialOutputValueSig, dependencies: ["urn:x"] })).toBe("[unknown]");
    expect(maskWire({ [specialSigKey]: specialResourceSig, urn: "urn:pulumi:dev::p::t::n", id: "abc" })).toBe(
      "urn:pulumi:dev::p::t::n",
    );
    expect(maskWire({ [specialSigKey]: specialAssetSig, text: "body" })).toBe("[asset]");
    expect(maskWire({ [specialSigKey]: specialArchiveSig, assets: {} })).toBe("[asset]");
  });

  it("leaves plain values alone", () => {
    for (const value of [null, undefined, 0, 1.5, true, "", "text", [], {}]) {
      expect(maskWire(value)).toEqual(value);
    }
  });

  it("property: no secret value survives, and secret-free JSON comes back unchanged", () => {
    const marker = fc.string({ minLength: 1, maxLength: 8 }).map((s) => `SECRET<${s}>`);
    const tree = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.jsonValue({ maxDepth: 2 }),
        marker.map(wireSecret),
        fc.array(tie("node"), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 6 }), tie("node"), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (value) => {
        expect(JSON.stringify(maskWire(value)) ?? "").not.toContain("SECRET<");
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(maskWire(value)).toEqual(value);
      }),
    );
  });
});

describe("maskResolved", () => {
  it("replaces {secret: true, value} wherever it is", () => {
    expect(maskResolved({ secret: true, value: "offline-token-123" })).toBe("[secret]");
    expect(maskResolved({ secret: true, value: { a: 1 } })).toBe("[secret]");
    expect(
      maskResolved([
        { credential: "deploy token", livesIn: "GitHub", value: { secret: true, value: "tok" } },
        { secret: true, value: ["a", "b"] },
      ]),
    ).toEqual([{ credential: "deploy token", livesIn: "GitHub", value: "[secret]" }, "[secret]"]);
  });

  it("keeps objects that only look similar", () => {
    expect(maskResolved({ secret: false, value: "x" })).toEqual({ secret: false, value: "x" });
    expect(maskResolved({ secret: true, value: "x", other: 1 })).toEqual({
      secret: true,
      value: "x",
      other: 1,
    });
    expect(maskResolved({ secret: true })).toEqual({ secret: true });
    expect(maskResolved(["a", 1, null])).toEqual(["a", 1, null]);
    expect(maskResolved("plain")).toBe("plain");
  });
});

describe("withoutProviderSource", () => {
  const source = "exports.handler = __f0;\n\nfunction __f0() { /* ~9 KB */ }";

  it("a dynamic resource's __provider reads as the placeholder; its other inputs stay", () => {
    for (const type of ["pulumi-nodejs:dynamic/scoped-edge:WorkerSecret", "pulumi-nodejs:dynamic:Resource"]) {
      expect(withoutProviderSource(type, { __provider: source, secretName: "PROVIDER_KEY" })).toEqual({
        __provider: DYNAMIC_PROVIDER_PLACEHOLDER,
        secretName: "PROVIDER_KEY",
      });
    }
  });

  it("any other resource's inputs, even one named __provider, are returned as they are", () => {
    const inputs = { __provider: source };
    expect(withoutProviderSource("cloudflare:index/workersScript:WorkersScript", inputs)).toBe(inputs);
    expect(withoutProviderSource("pulumi-nodejs:dynamicx:Thing", inputs)).toBe(inputs);
    const noProvider = { value: "x" };
    expect(withoutProviderSource("pulumi-nodejs:dynamic/m:T", noProvider)).toBe(noProvider);
  });
});
