/** Rotation windows (pure) and rotation as the program applies it (mock runtime). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { DAY_MS, rotationWindow, scheduleProblem, toRfc3339 } from "../policies/lib/rotation";
import { only, runStack, TYPES } from "./helpers/program";

const DEV = { rotationDays: 30, ttlDays: 45, graceDays: 7 };
const STAGING = { rotationDays: 14, ttlDays: 21, graceDays: 3 };
const PROD = { rotationDays: 7, ttlDays: 14, graceDays: 3 };

describe("rotationWindow", () => {
  it("puts the last second of a window and the first of the next in different windows", () => {
    const boundary = Date.parse("2026-12-03T00:00:00Z"); // a 30-day window boundary (692 * 30 days after the epoch)
    const last = rotationWindow(new Date(boundary - 1000), DEV);
    const first = rotationWindow(new Date(boundary), DEV);
    expect(last.index).toBe(692);
    expect(first.index).toBe(693);
    expect(toRfc3339(last.nextRotation)).toBe("2026-12-03T00:00:00Z");
    expect(toRfc3339(first.start)).toBe("2026-12-03T00:00:00Z");
    expect(toRfc3339(last.expiresOn)).toBe("2026-12-18T00:00:00Z");
    expect(toRfc3339(first.expiresOn)).toBe("2027-01-17T00:00:00Z");
  });

  it("gives every instant of a window the same start, rotation and expiry", () => {
    const start = Date.parse("2026-11-19T00:00:00Z");
    const instants = [0, 1, DAY_MS, 7 * DAY_MS - 1].map((offset) =>
      rotationWindow(new Date(start + offset), PROD),
    );
    expect(new Set(instants.map((w) => JSON.stringify(w))).size).toBe(1);
  });

  it("schedules each environment on its own period", () => {
    const now = new Date("2026-11-23T12:00:00Z");
    expect(toRfc3339(rotationWindow(now, DEV).nextRotation)).toBe("2026-12-03T00:00:00Z");
    expect(toRfc3339(rotationWindow(now, STAGING).nextRotation)).toBe("2026-12-03T00:00:00Z");
    expect(toRfc3339(rotationWindow(now, PROD).nextRotation)).toBe("2026-11-26T00:00:00Z");
  });

  it("rejects an invalid clock", () => {
    expect(() => rotationWindow(new Date("nope"), DEV)).toThrow("rotationWindow: now is not a valid date");
  });
});

describe("scheduleProblem", () => {
  it.each([
    [{ rotationDays: 30, ttlDays: 45, graceDays: 7 }, undefined],
    [{ rotationDays: 7, ttlDays: 11, graceDays: 3 }, undefined],
    [
      { rotationDays: 7, ttlDays: 10, graceDays: 3 },
      "ttlDays (10) must exceed rotationDays (7) + graceDays (3) = 10, or a token expires before CI has replaced it",
    ],
    [{ rotationDays: 0, ttlDays: 10, graceDays: 3 }, "rotationDays must be at least 1, got 0"],
    [{ rotationDays: 7, ttlDays: 0, graceDays: 3 }, "ttlDays must be at least 1, got 0"],
    [{ rotationDays: 7, ttlDays: 20, graceDays: -1 }, "graceDays must not be negative, got -1"],
    [
      { rotationDays: 7.5, ttlDays: 20, graceDays: 1 },
      "rotationDays must be a whole number of days, got 7.5",
    ],
  ])("%j -> %s", (schedule, problem) => {
    expect(scheduleProblem(schedule)).toBe(problem);
  });

  it("property: with any valid schedule, at every instant the live token outlives the next rotation plus grace", () => {
    const schedule = fc
      .record({
        rotationDays: fc.integer({ min: 1, max: 90 }),
        graceDays: fc.integer({ min: 0, max: 30 }),
        extra: fc.integer({ min: 1, max: 30 }),
      })
      .map(({ rotationDays, graceDays, extra }) => ({
        rotationDays,
        graceDays,
        ttlDays: rotationDays + graceDays + extra,
      }));
    const instant = fc.integer({
      min: Date.parse("2000-01-01T00:00:00Z"),
      max: Date.parse("2100-01-01T00:00:00Z"),
    });
    fc.assert(
      fc.property(schedule, instant, (s, nowMs) => {
        expect(scheduleProblem(s)).toBeUndefined();
        const window = rotationWindow(new Date(nowMs), s);
        expect(window.start.getTime()).toBeLessThanOrEqual(nowMs);
        expect(window.nextRotation.getTime()).toBeGreaterThan(nowMs);
        // The token minted in this window is still valid grace days after the next rotation.
        expect(window.expiresOn.getTime()).toBeGreaterThanOrEqual(
          window.nextRotation.getTime() + s.graceDays * DAY_MS,
        );
        // And it is live now.
        expect(window.expiresOn.getTime()).toBeGreaterThan(nowMs);
      }),
      { numRuns: 2000 },
    );
  });

  it("property: a schedule whose TTL does not exceed rotation + grace is always rejected", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 200 }),
        (rotationDays, graceDays, shortBy) => {
          const ttlDays = rotationDays + graceDays - shortBy;
          if (ttlDays < 1) return;
          expect(scheduleProblem({ rotationDays, graceDays, ttlDays })).toMatch(/must exceed/);
        },
      ),
    );
  });
});

describe("rotation in the program", () => {
  const token = async (now: string, set: Record<string, string> = {}) => {
    const run = await runStack("prod", { now, set });
    expect(run.error).toBeUndefined();
    return {
      token: only(run, TYPES.accountToken),
      rotation: only(run, TYPES.randomId),
      outputs: run.outputs!,
    };
  };

  it("produces identical inputs for repeated runs within a window (no diff, no churn)", async () => {
    const a = await token("2026-11-19T00:00:00Z");
    const b = await token("2026-11-25T23:59:59Z");
    expect(b.token.inputs).toEqual(a.token.inputs);
    expect(b.rotation.inputs).toEqual(a.rotation.inputs);
  });

  it("rolls the rotation keepers, name and expiry at the first second of the next window", async () => {
    const last = await token("2026-11-25T23:59:59Z");
    const first = await token("2026-11-26T00:00:00Z");
    expect(last.rotation.inputs["keepers"]).toEqual({ windowStart: "2026-11-19T00:00:00Z", generation: "0" });
    expect(first.rotation.inputs["keepers"]).toEqual({
      windowStart: "2026-11-26T00:00:00Z",
      generation: "0",
    });
    expect(first.token.inputs["name"]).not.toBe(last.token.inputs["name"]);
    expect(last.token.inputs["expiresOn"]).toBe("2026-12-03T00:00:00Z");
    expect(first.token.inputs["expiresOn"]).toBe("2026-12-10T00:00:00Z");
    // The name change is what replaces the token, create-before-delete.
    expect(first.token.replaceOnChanges).toEqual(["name"]);
    expect(first.token.deleteBeforeReplace).toBe(false);
  });

  it("forces a new token at once when the generation is bumped, keeping the window's expiry", async () => {
    const before = await token("2026-11-23T12:00:00Z");
    const after = await token("2026-11-23T12:00:00Z", { "scoped-edge:rotationGeneration": "1" });
    expect(after.rotation.inputs["keepers"]).toEqual({
      windowStart: "2026-11-19T00:00:00Z",
      generation: "1",
    });
    expect(after.token.inputs["name"]).not.toBe(before.token.inputs["name"]);
    expect(after.token.inputs["expiresOn"]).toBe(before.token.inputs["expiresOn"]);
  });

  it("exports the current window, next rotation and expiry", async () => {
    const { outputs } = await token("2026-11-23T12:00:00Z");
    expect(outputs["rotation"]).toEqual({
      window: 2968,
      windowStart: "2026-11-19T00:00:00Z",
      nextRotation: "2026-11-26T00:00:00Z",
      expiresOn: "2026-12-03T00:00:00Z",
      generation: 0,
    });
  });

  it("rejects a bad SCOPED_EDGE_NOW clock with a clear message", async () => {
    const run = await runStack("prod", { now: "yesterday" });
    expect(run.error?.message).toBe(
      'SCOPED_EDGE_NOW="yesterday" is not an ISO-8601 instant; use e.g. 2026-11-23T00:00:00Z or unset it',
    );
  });
});
