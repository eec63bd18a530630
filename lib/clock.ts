/**
 * The program's clock. Rotation windows and expiry derive from it, so tests and the offline plan
 * (`--now`) pin it through SCOPED_EDGE_NOW (an ISO-8601 instant); otherwise it is the real time.
 */
export const CLOCK_ENV = "SCOPED_EDGE_NOW";

export function currentTime(env: NodeJS.ProcessEnv = process.env): Date {
  const pinned = env[CLOCK_ENV];
  if (pinned === undefined || pinned === "") return new Date();
  const date = new Date(pinned);
  if (Number.isNaN(date.getTime())) {
    throw new Error(
      `${CLOCK_ENV}="${pinned}" is not an ISO-8601 instant; use e.g. 2026-11-23T00:00:00Z or unset it`,
    );
  }
  return date;
}
