import fc from "fast-check";
import { describe, expect, it } from "vitest";

import {
  POLICY_CLOCK_ENV,
  policyNow,
  resetPolicyClockForTests,
  useRealClockOnly,
} from "../../policies/lib/clock";
import { API_TOKEN_TYPE } from "../../policies/lib/resource-types";
import { tokenExpiry, tokenRotationHeadroom } from "../../policies/rules";
import { devToken, NOW, programExpiresOn, SCHEDULES, usePolicyClock } from "./fixtures";
import { analyzeResource, loadConfig, type PackConfig } from "./harness";

usePolicyClock();

const DEV = loadConfig("dev");

async function details(policy: typeof tokenExpiry, props: Record<string, unknown>, config: PackConfig = DEV) {
  const { diagnostics } = await analyzeResource(policy, devToken(props), { config });
  return diagnostics.map((d) => d.detail);
}

describe("cloudflare-token-enforce-expiry", () => {
  it("passes the program's dev token, as AccountToken and as ApiToken", async () => {
    expect(await details(tokenExpiry, {})).toEqual([]);
    const apiToken = { ...devToken(), type: API_TOKEN_TYPE };
    expect((await analyzeResource(tokenExpiry, apiToken, { config: DEV })).diagnostics).toEqual([]);
  });

  it.each([
    [
      "no expiresOn",
      { expiresOn: undefined },
      "The token has no expiresOn, so it never expires. Set expiresOn to an RFC 3339 UTC time at most 90 days " +
        "from now (no later than 2027-02-20T12:00:00Z).",
    ],
    [
      "an empty expiresOn",
      { expiresOn: "" },
      "The token has no expiresOn, so it never expires. Set expiresOn to an RFC 3339 UTC time at most 90 days " +
        "from now (no later than 2027-02-20T12:00:00Z).",
    ],
    [
      "a malformed expiresOn",
      { expiresOn: "next tuesday" },
      'expiresOn "next tuesday" is not an RFC 3339 timestamp. Set it like "2026-12-01T00:00:00Z", at most 90 days ' +
        "from now (no later than 2027-02-20T12:00:00Z).",
    ],
    [
      "an expiresOn in the past",
      { expiresOn: "2026-11-01T00:00:00Z" },
      "The token expired at 2026-11-01T00:00:00Z (now is 2026-11-22T12:00:00Z). Set expiresOn to a future time no " +
        "later than 2027-02-20T12:00:00Z and let the next rotation replace the token.",
    ],
    [
      "an expiresOn beyond the maximum TTL",
      { expiresOn: "2027-03-01T00:00:00Z" },
      "expiresOn 2027-03-01T00:00:00Z is 98.5 days from now, beyond this environment's maximum token lifetime of " +
        "90 days. Set expiresOn no later than 2027-02-20T12:00:00Z (lower the token's TTL).",
    ],
  ])("reports %s", async (_case, change, expected) => {
    const props = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined));
    const base = devToken().props;
    const changed = { ...base, ...props };
    for (const [key, value] of Object.entries(change)) if (value === undefined) delete changed[key];
    const { diagnostics } = await analyzeResource(
      tokenExpiry,
      { ...devToken(), props: changed },
      { config: DEV },
    );
    expect(diagnostics.map((d) => [d.policyName, d.enforcementLevel, d.detail])).toEqual([
      ["cloudflare-token-enforce-expiry", "mandatory", expected],
    ]);
  });

  it("accepts expiresOn exactly at the maximum TTL and rejects one second later", async () => {
    expect(await details(tokenExpiry, { expiresOn: "2027-02-20T12:00:00Z" })).toEqual([]);
    expect(await details(tokenExpiry, { expiresOn: "2027-02-20T12:00:01Z" })).toHaveLength(1);
  });

  it("uses the environment's maxTtlDays (prod: 30)", async () => {
    const prod = loadConfig("prod");
    expect(await details(tokenExpiry, { expiresOn: "2026-12-18T00:00:00Z" }, prod)).toEqual([]);
    expect(await details(tokenExpiry, { expiresOn: "2026-12-23T00:00:00Z" }, prod)).toEqual([
      "expiresOn 2026-12-23T00:00:00Z is 30.5 days from now, beyond this environment's maximum token lifetime of " +
        "30 days. Set expiresOn no later than 2026-12-22T12:00:00Z (lower the token's TTL).",
    ]);
  });

  it("falls back to its schema defaults when no config is given (90 days, real clock)", async () => {
    const { diagnostics } = await analyzeResource(
      tokenExpiry,
      devToken({ expiresOn: programExpiresOn("dev", new Date()) }),
    );
    expect(diagnostics).toEqual([]);
  });

  it("refuses a now in the policy config: the pack's clock is not config", async () => {
    const config = { "cloudflare-token-enforce-expiry": { now: "2020-01-01T00:00:00Z" } };
    expect(await details(tokenExpiry, { expiresOn: "2019-01-01T00:00:00Z" }, config)).toEqual([
      'Invalid policy config: "now" is not policy config: the pack judges time by the real clock (the offline ' +
        "plan pins it with its --now). Fix this policy's entry in the policy config.",
    ]);
  });

  it("reports a malformed pinned instant instead of crashing, without quoting it", async () => {
    const saved = process.env[POLICY_CLOCK_ENV];
    process.env[POLICY_CLOCK_ENV] = "yesterday\u001b[8m";
    try {
      expect(await details(tokenExpiry, {})).toEqual([
        `${POLICY_CLOCK_ENV} is not an ISO 8601 instant such as 2026-11-22T00:00:00Z (unset it for the real clock).`,
      ]);
    } finally {
      process.env[POLICY_CLOCK_ENV] = saved;
    }
  });

  it("ignores the pinned instant once the pack's entry point asked for the real clock", () => {
    const pinned = { [POLICY_CLOCK_ENV]: "2020-01-01T00:00:00Z" };
    expect(policyNow(pinned)).toEqual({ ok: true, now: new Date("2020-01-01T00:00:00Z") });
    const real = new Date("2031-05-06T07:08:09Z");
    useRealClockOnly();
    try {
      expect(policyNow(pinned, () => real)).toEqual({ ok: true, now: real });
    } finally {
      resetPolicyClockForTests();
    }
  });

  it("honours a configured enforcement level", async () => {
    const config = { "cloudflare-token-enforce-expiry": { enforcementLevel: "advisory" } };
    const { diagnostics } = await analyzeResource(
      tokenExpiry,
      devToken({ expiresOn: "2026-11-01T00:00:00Z" }),
      {
        config,
      },
    );
    expect(diagnostics.map((d) => d.enforcementLevel)).toEqual(["advisory"]);
  });
});

describe("cloudflare-token-require-rotation-headroom", () => {
  it("passes the program's dev token", async () => {
    expect(await details(tokenRotationHeadroom, {})).toEqual([]);
  });

  it("reports a token that expires before the next rotation plus grace", async () => {
    expect(await details(tokenRotationHeadroom, { expiresOn: "2026-12-09T23:59:59Z" })).toEqual([
      "The token expires at 2026-12-09T23:59:59Z, before its next scheduled rotation (2026-12-03T00:00:00Z) plus " +
        "the 7-day grace period (2026-12-10T00:00:00Z): if that rotation run fails, deploys break. Set expiresOn to " +
        "2026-12-10T00:00:00Z or later (a TTL above 37 days from the window start 2026-11-03T00:00:00Z).",
    ]);
    expect(await details(tokenRotationHeadroom, { expiresOn: "2026-12-10T00:00:00Z" })).toEqual([]);
  });

  it("leaves a missing or malformed expiresOn to the expiry policy", async () => {
    expect(await details(tokenRotationHeadroom, { expiresOn: "" })).toEqual([]);
    expect(await details(tokenRotationHeadroom, { expiresOn: "soon" })).toEqual([]);
  });

  it("uses the environment's schedule (prod: rotate 7, grace 3)", async () => {
    const prod = loadConfig("prod");
    expect(await details(tokenRotationHeadroom, { expiresOn: "2026-11-29T00:00:00Z" }, prod)).toEqual([]);
    expect(await details(tokenRotationHeadroom, { expiresOn: "2026-11-28T00:00:00Z" }, prod)).toEqual([
      "The token expires at 2026-11-28T00:00:00Z, before its next scheduled rotation (2026-11-26T00:00:00Z) plus " +
        "the 3-day grace period (2026-11-29T00:00:00Z): if that rotation run fails, deploys break. Set expiresOn to " +
        "2026-11-29T00:00:00Z or later (a TTL above 10 days from the window start 2026-11-19T00:00:00Z).",
    ]);
  });

  it.each([
    [{ rotationDays: 0, graceDays: 3 }, "rotationDays is 0; it must be a whole number from 1 to 3650"],
    [
      { rotationDays: 1e300, graceDays: 3 },
      "rotationDays is 1e+300; it must be a whole number from 1 to 3650",
    ],
    [{ rotationDays: 7, graceDays: 1e300 }, "graceDays is 1e+300; it must be a whole number from 0 to 3650"],
    [{ rotationDays: 7.5, graceDays: 3 }, "rotationDays is 7.5; it must be a whole number from 1 to 3650"],
  ])("refuses an out-of-bounds schedule in the config: %j", async (properties, problem) => {
    const config = { "cloudflare-token-require-rotation-headroom": properties };
    expect(await details(tokenRotationHeadroom, {}, config)).toEqual([
      `Invalid policy config: ${problem}. Fix this policy's entry in the policy config.`,
    ]);
  });

  it("refuses a maxTtlDays that would switch the expiry check off", async () => {
    const config = { "cloudflare-token-enforce-expiry": { maxTtlDays: 1e15 } };
    expect(await details(tokenExpiry, {}, config)).toEqual([
      "Invalid policy config: maxTtlDays is 1000000000000000; it must be a whole number from 1 to 3650. Fix this " +
        "policy's entry in the policy config.",
    ]);
  });
});

describe("the program's generated tokens pass both time policies at every instant", () => {
  for (const env of ["dev", "staging", "prod"] as const) {
    it(`${env}: expiresOn = window start + ${SCHEDULES[env].ttlDays} days`, async () => {
      const base = loadConfig(env);
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: Date.parse("2026-01-01T00:00:00Z"), max: Date.parse("2030-12-31T23:59:59Z") }),
          async (ms) => {
            const now = new Date(ms);
            process.env[POLICY_CLOCK_ENV] = now.toISOString();
            const token = devToken({ expiresOn: programExpiresOn(env, now) });
            try {
              const { diagnostics } = await analyzeResource([tokenExpiry, tokenRotationHeadroom], token, {
                config: base,
              });
              expect(diagnostics).toEqual([]);
            } finally {
              process.env[POLICY_CLOCK_ENV] = NOW;
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  }
});
