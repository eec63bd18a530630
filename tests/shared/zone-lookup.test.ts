/**
 * lib/route-pattern.ts zoneLookup (the index config validation uses for every route) finds what the
 * definition says: the longest of the zones that contains the host.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { hostInZone, mostSpecificZone, zoneLookup } from "../../lib/route-pattern";

/** The definition, scanning every zone. */
const byScan = (host: string, zones: readonly string[]) =>
  zones.filter((zone) => hostInZone(host, zone)).sort((a, b) => b.length - a.length)[0];

const label = fc.constantFrom("a", "b", "example", "com", "dev", "", "x-y");
const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join("."));

describe("zoneLookup", () => {
  it("finds the most specific zone containing a host, as a scan of every zone does", () => {
    fc.assert(
      fc.property(fc.array(name, { maxLength: 8 }), name, (zones, host) => {
        expect(zoneLookup(zones)(host)).toBe(byScan(host, zones));
        expect(mostSpecificZone(host, zones)).toBe(byScan(host, zones));
      }),
      { numRuns: 2000 },
    );
  });

  it("prefers the longer of two nested zones and never matches inside a label", () => {
    const lookup = zoneLookup(["example.com", "eu.example.com", "ample.com"]);
    expect(lookup("api.eu.example.com")).toBe("eu.example.com");
    expect(lookup("api.example.com")).toBe("example.com");
    expect(lookup("example.com")).toBe("example.com");
    expect(lookup("badexample.com")).toBeUndefined();
  });
});
