/**
 * The time policies' clock. The instant a policy judges expiry and rotation against is not policy
 * config: a `--policy-pack-config` that could set it could freeze the expiry check forever.
 *
 * In process (the offline plan and the tests import `rules/`), the instant comes from the
 * environment variable POLICY_CLOCK_ENV when it is set, so the plan judges at the same instant its
 * program computed the rotation window (`npm run plan -- --now ...`). The pack's entry point
 * (`policies/index.ts`, what `pulumi preview --policy-pack` runs) calls `useRealClockOnly()` first:
 * there the variable is ignored and the real clock always decides.
 */

/** The environment variable the offline plan sets to its `--now` (an ISO 8601 UTC instant). */
export const POLICY_CLOCK_ENV = "SCOPED_EDGE_POLICY_NOW";

let pinnable = true;

/** Called by the pack's entry point: from now on only the real clock counts. */
export function useRealClockOnly(): void {
  pinnable = false;
}

/** Tests only: undo useRealClockOnly. */
export function resetPolicyClockForTests(): void {
  pinnable = true;
}

export type PolicyNow =
  { readonly ok: true; readonly now: Date } | { readonly ok: false; readonly error: string };

/** The instant to judge at: the pinned one in process when POLICY_CLOCK_ENV is set, else the real clock. */
export function policyNow(
  env: NodeJS.ProcessEnv = process.env,
  clock: () => Date = () => new Date(),
): PolicyNow {
  const pinned = pinnable ? env[POLICY_CLOCK_ENV] : undefined;
  if (pinned === undefined || pinned === "") return { ok: true, now: clock() };
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(pinned)
    ? Date.parse(pinned)
    : Number.NaN;
  if (Number.isNaN(ms)) {
    return {
      ok: false,
      error: `${POLICY_CLOCK_ENV} is not an ISO 8601 instant such as 2026-11-22T00:00:00Z (unset it for the real clock)`,
    };
  }
  return { ok: true, now: new Date(ms) };
}
