/**
 * Rotation windows for deploy tokens. Pure and deterministic: windows are anchored at the Unix
 * epoch, so every `pulumi up` inside one window computes the same window, the same expiry and the
 * same rotation keepers (no diff, no churn), and the window rolls over at the same instant for
 * everyone, whatever the clock of the machine that runs it.
 */

export const DAY_MS = 86_400_000;

/**
 * The longest a deploy token may live in each environment: the program refuses a longer
 * tokenTtlDays, and policies/config/<env>.json gives the expiry policy the same maxTtlDays (a test
 * reads those files and compares).
 */
export const MAX_TTL_DAYS = { dev: 90, staging: 60, prod: 30 } as const;

export interface RotationSchedule {
  /** Length of a window: a new token is created at the start of each. */
  readonly rotationDays: number;
  /** Lifetime of each token, counted from the start of its window. */
  readonly ttlDays: number;
  /** Headroom: a token must stay valid this long after the next rotation is due. */
  readonly graceDays: number;
}

export interface RotationWindow {
  /** Window number since the epoch. */
  readonly index: number;
  readonly start: Date;
  /** When the next window starts and the token is replaced. */
  readonly nextRotation: Date;
  /** The token's `expiresOn`: window start + TTL. */
  readonly expiresOn: Date;
}

/**
 * Why a schedule cannot keep CI supplied with a live token, or `undefined` when it can. The TTL
 * must exceed the rotation period plus the grace period, so a token outlives the next rotation
 * (and a failed rotation run has `grace` days to be fixed).
 */
export function scheduleProblem(schedule: RotationSchedule): string | undefined {
  const { rotationDays, ttlDays, graceDays } = schedule;
  for (const [key, value] of Object.entries({ rotationDays, ttlDays, graceDays })) {
    if (!Number.isInteger(value)) return `${key} must be a whole number of days, got ${value}`;
  }
  if (rotationDays < 1) return `rotationDays must be at least 1, got ${rotationDays}`;
  if (ttlDays < 1) return `ttlDays must be at least 1, got ${ttlDays}`;
  if (graceDays < 0) return `graceDays must not be negative, got ${graceDays}`;
  if (ttlDays <= rotationDays + graceDays) {
    return (
      `ttlDays (${ttlDays}) must exceed rotationDays (${rotationDays}) + graceDays (${graceDays}) = ` +
      `${rotationDays + graceDays}, or a token expires before CI has replaced it`
    );
  }
  return undefined;
}

/** The window `now` falls in. */
export function rotationWindow(now: Date, schedule: RotationSchedule): RotationWindow {
  const nowMs = now.getTime();
  if (Number.isNaN(nowMs)) throw new RangeError("rotationWindow: now is not a valid date");
  const periodMs = schedule.rotationDays * DAY_MS;
  const index = Math.floor(nowMs / periodMs);
  const startMs = index * periodMs;
  return {
    index,
    start: new Date(startMs),
    nextRotation: new Date(startMs + periodMs),
    expiresOn: new Date(startMs + schedule.ttlDays * DAY_MS),
  };
}

/** RFC 3339 in UTC without milliseconds, the form Cloudflare's token API uses. */
export function toRfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
