/**
 * The driver's request messages (tools/plan/analyzer.ts): a resource's properties travel in a Struct
 * built lazily, which must read back exactly as the Struct google-protobuf builds from the same value
 * (what the SDK's handlers see in process) and serialize to the same bytes (what the pack receives
 * over gRPC). Checked over generated JSON values, secret signatures and unknown sentinels included.
 */
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";
import * as fc from "fast-check";
import { Struct, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";
import { describe, expect, it } from "vitest";

import { analyzeRequest } from "../../tools/plan/analyzer";
import { structJavaScript } from "../../tools/shared/struct-javascript";

const propertiesOf = (inputs: Record<string, unknown>) =>
  analyzeRequest({ urn: "urn:pulumi:dev::p::t::n", type: "t", name: "n", inputs }).getProperties()!;

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom<unknown>(null, true, false, unknownValue, 0, -0, 1.5, -2, ""),
    fc.string(),
    fc.double({ noNaN: true }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie("value"), { maxKeys: 5 }),
    tie("value").map((value) => ({ [specialSigKey]: specialSecretSig, value })),
  ),
}));
const inputs = fc.dictionary(fc.string(), json.value, { maxKeys: 6 }) as fc.Arbitrary<
  Record<string, unknown>
>;

describe("the Analyze request's properties", () => {
  it("read back as google-protobuf's own Struct reads back, keys in its order, frozen", () => {
    fc.assert(
      fc.property(inputs, (value) => {
        const expected = Struct.fromJavaScript(value as Record<string, JavaScriptValue>).toJavaScript();
        const actual = propertiesOf(value).toJavaScript();
        expect(actual).toEqual(expected);
        expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
        expect(Object.isFrozen(actual)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("serialize to the bytes google-protobuf's own Struct serializes to", () => {
    fc.assert(
      fc.property(inputs, (value) => {
        const expected = Struct.fromJavaScript(value as Record<string, JavaScriptValue>).serializeBinary();
        expect(Buffer.from(propertiesOf(value).serializeBinary())).toEqual(Buffer.from(expected));
      }),
      { numRuns: 300 },
    );
  });

  it("refuse what a Struct cannot hold, with google-protobuf's error", () => {
    for (const bad of [{ a: undefined }, { a: [1, undefined] }, { a: () => 1 }, { a: { b: 1n } }]) {
      expect(() => Struct.fromJavaScript(bad as never)).toThrow("Unexpected struct type.");
      expect(() => propertiesOf(bad)).toThrow("Unexpected struct type.");
    }
  });

  it("from a Struct's own JavaScript form (what the offline runtime records) are that form, not a copy", () => {
    fc.assert(
      fc.property(inputs, (value) => {
        const struct = Struct.fromJavaScript(value as Record<string, JavaScriptValue>);
        const recorded = structJavaScript(struct);
        const properties = propertiesOf(recorded);
        expect(properties.toJavaScript()).toBe(recorded);
        expect(Object.isFrozen(recorded)).toBe(true);
        expect(Buffer.from(properties.serializeBinary())).toEqual(Buffer.from(struct.serializeBinary()));
      }),
      { numRuns: 300 },
    );
  });
});
