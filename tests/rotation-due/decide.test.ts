/** "Is a rotation due": the pure decision at window boundaries, and its agreement with the program. */
import { describe, expect, it } from "vitest";

import {
  decideRotation,
  HOUR_MS,
  RotationRequestError,
  type RotationRequest,
  type RotationStack,
} from "../../tools/rotation-due/decide";
import { loadStackConfig } from "../../tools/verify/stack";
import { only, ROOT, runStack, TYPES } from "../helpers/program";

// Weekly windows: 2026-11-26T00:00:00Z is a boundary (20 454 days since the epoch = 2922 weeks).
const WEEKLY: RotationStack = {
  stack: "prod",
  codeDeployedBy: "ci",
  token: { rotationDays: 7, ttlDays: 14, graceDays: 3, generation: 4 },
};
const BOUNDARY = Date.parse("2026-11-26T00:00:00Z");
const SCHEDULED: Omit<RotationRequest, "now"> = { lookbackHours: 72, force: false, bumpGeneration: false };

const at = (offsetMs: number, request: Partial<RotationRequest> = {}, stack = WEEKLY) =>
  decideRotation(stack, { ...SCHEDULED, now: new Date(BOUNDARY + offsetMs), ...request });

describe("decideRotation on a schedule", () => {
  it.each([
    { what: "the last millisecond of the old window", offsetMs: -1, lookbackHours: 72, due: false },
    { what: "the first instant of the new window", offsetMs: 0, lookbackHours: 72, due: true },
    { what: "one day into the new window", offsetMs: 24 * HOUR_MS, lookbackHours: 72, due: true },
    {
      what: "the last millisecond of the lookback",
      offsetMs: 72 * HOUR_MS - 1,
      lookbackHours: 72,
      due: true,
    },
    {
      what: "exactly the lookback after the rollover",
      offsetMs: 72 * HOUR_MS,
      lookbackHours: 72,
      due: false,
    },
    { what: "six days into the window", offsetMs: 6 * 24 * HOUR_MS, lookbackHours: 72, due: false },
    { what: "59 minutes in, lookback 1 h", offsetMs: 59 * 60_000, lookbackHours: 1, due: true },
    { what: "one hour in, lookback 1 h", offsetMs: HOUR_MS, lookbackHours: 1, due: false },
  ])("$what: due is $due", ({ offsetMs, lookbackHours, due }) => {
    expect(at(offsetMs, { lookbackHours }).due).toBe(due);
  });

  it("says why, and reports the window and the committed generation", () => {
    expect(at(HOUR_MS)).toEqual({
      stack: "prod",
      due: true,
      reason: "the rotation window rolled over at 2026-11-26T00:00:00Z, within the last 72 h",
      hasDeployToken: true,
      windowStart: "2026-11-26T00:00:00Z",
      nextRotation: "2026-12-03T00:00:00Z",
      expiresOn: "2026-12-10T00:00:00Z",
      committedGeneration: 4,
      generation: 4,
    });
    expect(at(-HOUR_MS).reason).toBe(
      "no window rollover in the last 72 h; next rotation 2026-11-26T00:00:00Z",
    );
  });

  it("is due on every run when the rotation period is shorter than the lookback", () => {
    const daily = { ...WEEKLY, token: { ...WEEKLY.token, rotationDays: 1, ttlDays: 5 } };
    for (const hours of [0, 5, 23, 47, 71]) expect(at(hours * HOUR_MS, {}, daily).due).toBe(true);
  });

  it("never rotates a stack without a deploy token on schedule", () => {
    const noToken = { ...WEEKLY, codeDeployedBy: "pulumi" as const };
    expect(at(0, {}, noToken)).toMatchObject({
      due: false,
      hasDeployToken: false,
      reason: "no deploy token (codeDeployedBy is pulumi): nothing to rotate",
    });
  });
});

describe("decideRotation on request", () => {
  it("forced: due mid-window with the committed generation", () => {
    expect(at(-2 * 24 * HOUR_MS, { force: true })).toMatchObject({
      due: true,
      reason: "applied on request (manual dispatch)",
      generation: 4,
      committedGeneration: 4,
    });
    expect(at(0, { force: true }, { ...WEEKLY, codeDeployedBy: "pulumi" }).due).toBe(true);
  });

  it.each([
    ["mid-window", -2 * 24 * HOUR_MS, false],
    ["at a rollover", 0, false],
    ["forced as well", -HOUR_MS, true],
  ])("generation bump %s: due, generation committed + 1", (_what, offsetMs, force) => {
    expect(at(offsetMs, { bumpGeneration: true, force })).toMatchObject({
      due: true,
      reason: "emergency rotation: rotationGeneration 4 -> 5 forces a new token",
      committedGeneration: 4,
      generation: 5,
    });
  });

  it("refuses a generation bump when there is no deploy token", () => {
    expect(() => at(0, { bumpGeneration: true }, { ...WEEKLY, codeDeployedBy: "pulumi" })).toThrow(
      new RotationRequestError(
        "stack prod has no deploy token to rotate (scoped-edge:codeDeployedBy is pulumi); run without the generation bump",
      ),
    );
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses a lookback of %s hours", (lookbackHours) => {
    expect(() => at(0, { lookbackHours })).toThrow(RotationRequestError);
    expect(() => at(0, { lookbackHours })).toThrow(/lookback must be a whole number of hours of at least 1/);
  });

  it("refuses an invalid date", () => {
    expect(() => decideRotation(WEEKLY, { ...SCHEDULED, now: new Date("nope") })).toThrow(
      "now is not a valid date",
    );
  });
});

describe("agreement with the program (prod stack, mock runtime)", () => {
  // `pulumi up` replaces the token exactly when its name changes (tests/rotation.test.ts), so a
  // rotation is due exactly when the name the program gives the token changed within the lookback.
  const tokenName = async (now: number, set: Record<string, string> = {}): Promise<unknown> => {
    const run = await runStack("prod", { now: new Date(now).toISOString(), set });
    expect(run.error).toBeUndefined();
    return only(run, TYPES.accountToken).inputs["name"];
  };
  const prod = () => loadStackConfig(ROOT, "prod");

  it.each([
    ["just before a rollover", -HOUR_MS],
    ["just after a rollover", HOUR_MS],
    ["at the end of the lookback", 72 * HOUR_MS],
  ])("%s: due iff the token's name changed since now - lookback", async (_what, offsetMs) => {
    const now = BOUNDARY + offsetMs;
    const changed = (await tokenName(now)) !== (await tokenName(now - 72 * HOUR_MS));
    expect(decideRotation(prod(), { ...SCHEDULED, now: new Date(now) }).due).toBe(changed);
  });

  it("a generation bump is a new token name at the same instant", async () => {
    const now = BOUNDARY - 2 * 24 * HOUR_MS;
    const decision = decideRotation(prod(), { ...SCHEDULED, now: new Date(now), bumpGeneration: true });
    const bumped = await tokenName(now, { "scoped-edge:rotationGeneration": String(decision.generation) });
    expect(bumped).not.toBe(await tokenName(now));
  });
});
