/**
 * The median npm run bench reports (tools/bench/protocol.ts): of an even count it is the mean of the
 * two middle values, so two groups (--repeat 2) or an even --runs do not report the larger one.
 */
import { describe, expect, it } from "vitest";

import { median } from "../../tools/bench/protocol";

describe("the bench's median", () => {
  it("is the middle value of an odd count, whatever the order", () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([7])).toBe(7);
  });

  it("is the mean of the two middle values of an even count", () => {
    expect(median([1.34, 1.58])).toBe(1.46);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
