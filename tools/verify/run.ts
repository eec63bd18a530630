/**
 * Runs the verification: the verify endpoint first (is the token live, and does its lifetime fit
 * the stack's rotation schedule?), then every probe from the plan, one at a time. Returns a report;
 * never throws for anything the API does (each answer becomes a passed or failed check).
 */
import type { Cloudflare } from "cloudflare";

import { DAY_MS, rotationWindow, toRfc3339 } from "../../policies/lib/rotation";
import { zoneResource } from "../../policies/lib/resources";
import type { StackConfig } from "../../lib/config";
import { callEndpoint, describeRequest, listZonesPage, verifyPath, verifyToken } from "./endpoints";
import { planProbes, grantPhrase, type ProbeOptions } from "./probes";
import {
  callWithRetry,
  describeFailure,
  isTokenRejection,
  transportAdvice,
  type CallFailure,
  type RetryPolicy,
} from "./retry";
import {
  verificationReport,
  type CheckResult,
  type NegativeProbe,
  type PositiveProbe,
  type VerificationReport,
  type ZoneVisibilityProbe,
} from "./types";

export interface RunOptions extends ProbeOptions {
  readonly client: Cloudflare;
  readonly retry: RetryPolicy;
  /** The overall deadline the CLI set (retry.deadline), for messages. */
  readonly deadlineMs?: number;
  /** Injected in tests. */
  readonly now?: () => Date;
}

/** Safety net for GET /zones paging: 50 pages of 50 zones is far more than any stack reaches. */
const MAX_ZONE_PAGES = 50;

type Failure = CallFailure;

function isIpRefusal(outcome: Failure): boolean {
  return (
    outcome.kind === "http" &&
    outcome.status === 403 &&
    outcome.errors.some((error) => /location|ip address|request ip/i.test(error.message))
  );
}

function days(ms: number): string {
  return `${(ms / DAY_MS).toFixed(1)} days`;
}

function rotateFix(config: StackConfig): string {
  return (
    `rotate the deploy token: pulumi config set scoped-edge:rotationGeneration ${config.token.generation + 1} ` +
    `--stack ${config.stack} && pulumi up --stack ${config.stack} (or run the rotate workflow)`
  );
}

function useStackTokenFix(config: StackConfig): string {
  return (
    `use the stack's own deploy token (pulumi up --stack ${config.stack} derives exactly this grant set; ` +
    `CI reads it from the deployTokenValue output), or change this token in the dashboard accordingly`
  );
}

/** The verify endpoint, and what its answer says. Returns the checks and whether probes can run. */
async function verifyChecks(
  config: StackConfig,
  options: RunOptions,
  now: Date,
): Promise<{ checks: CheckResult[]; usable: boolean; reason?: string }> {
  const owner = config.token.owner;
  const request = `GET ${verifyPath(owner, config.accountId)}`;
  const outcome = await callWithRetry(
    (call) => verifyToken(options.client, owner, config.accountId, call),
    options.retry,
  );
  const name = `verify endpoint (${owner}-owned token)`;
  if (!outcome.ok) {
    let why = "Cloudflare did not confirm the token";
    let fix = "check that CLOUDFLARE_API_TOKEN holds the stack's current deploy token";
    if (isTokenRejection(outcome)) {
      // Try the other owner form: a user token verifies only on /user/tokens/verify, and the other way round.
      const other = owner === "account" ? "user" : "account";
      const probe = await callWithRetry(
        (call) => verifyToken(options.client, other, config.accountId, call),
        { ...options.retry, attempts: 1 },
      );
      if (probe.ok) {
        why = `the token is ${other}-owned, but the stack's tokenOwner is ${owner}`;
        fix = `use the stack's ${owner}-owned deploy token, or set scoped-edge:tokenOwner ${other} if that is intended`;
      } else {
        why = "Cloudflare does not know this token (wrong value, deleted, or rolled)";
      }
    } else {
      const advice = transportAdvice(outcome);
      why = `${advice.why}; nothing could be checked`;
      fix = advice.fix;
    }
    return {
      checks: [
        {
          name,
          kind: "verify",
          request,
          expected: "200 with the token's status",
          got: describeFailure(outcome),
          passed: false,
          why,
          fix,
        },
      ],
      usable: false,
      reason:
        outcome.kind === "http"
          ? "the verify endpoint did not accept the token"
          : "Cloudflare's API could not be reached (see the first check)",
    };
  }

  const answer = outcome.value;
  const checks: CheckResult[] = [
    {
      name,
      kind: "verify",
      request,
      expected: "200 with the token's status",
      got: "200",
      passed: true,
      why: "Cloudflare knows the token",
    },
  ];
  let usable = true;
  let reason: string | undefined;

  const active = answer.status === "active";
  checks.push({
    name: "token status",
    kind: "verify",
    expected: "active",
    got: String(answer.status),
    passed: active,
    why: active ? "the token can be used" : `a ${answer.status} token cannot deploy anything`,
    ...(active
      ? {}
      : {
          fix:
            answer.status === "disabled"
              ? `find out who disabled it (a suspected leak?), then ${rotateFix(config)}`
              : rotateFix(config),
        }),
  });
  if (!active) {
    usable = false;
    reason = `the token is ${answer.status}`;
  }

  const notBefore = answer.not_before ? new Date(answer.not_before) : undefined;
  const started = notBefore === undefined || Number.isNaN(notBefore.getTime()) || notBefore <= now;
  checks.push({
    name: "token not before",
    kind: "verify",
    expected: "no not_before, or one in the past",
    got: notBefore === undefined ? "none" : `${answer.not_before}`,
    passed: started,
    why: started
      ? "the token is already valid"
      : `the token only becomes valid in ${days(notBefore!.getTime() - now.getTime())}`,
    ...(started
      ? {}
      : {
          fix: `wait until ${answer.not_before}, or correct scoped-edge:tokenNotBefore and run pulumi up --stack ${config.stack}`,
        }),
  });
  if (!started && usable) {
    usable = false;
    reason = "the token is not valid yet";
  }

  const expiresOn = answer.expires_on ? new Date(answer.expires_on) : undefined;
  const window = rotationWindow(now, {
    rotationDays: config.token.rotationDays,
    ttlDays: config.token.ttlDays,
    graceDays: config.token.graceDays,
  });
  if (expiresOn === undefined || Number.isNaN(expiresOn.getTime())) {
    checks.push({
      name: "token expiry",
      kind: "verify",
      expected: "an expires_on date",
      got: "never expires",
      passed: false,
      why: `the stack's deploy tokens expire after ${config.token.ttlDays} days; a token that never expires is not the stack's`,
      excess: ["no expiry (expires_on unset)"],
      fix: useStackTokenFix(config),
    });
    return { checks, usable, ...(reason === undefined ? {} : { reason }) };
  }
  const left = expiresOn.getTime() - now.getTime();
  const expired = left <= 0;
  checks.push({
    name: "token expiry",
    kind: "verify",
    expected: "expires_on in the future",
    got: `${answer.expires_on} (${expired ? `${days(-left)} ago` : `${days(left)} left`})`,
    passed: !expired,
    why: expired ? "an expired token cannot deploy anything" : "the token has not expired",
    ...(expired ? { fix: rotateFix(config) } : {}),
  });
  if (expired) {
    if (usable) reason = "the token has expired";
    return { checks, usable: false, ...(reason === undefined ? {} : { reason }) };
  }

  // Days left against the rotation schedule: the token must outlive the next rotation plus grace,
  // and must not outlive the token the stack issues in this window.
  const needed = window.nextRotation.getTime() + config.token.graceDays * DAY_MS;
  const latest = window.expiresOn.getTime();
  const tooShort = expiresOn.getTime() < needed;
  const tooLong = expiresOn.getTime() > latest;
  const scheduleOk = !tooShort && !tooLong;
  checks.push({
    name: "days left against the rotation schedule",
    kind: "verify",
    expected: `expires between ${toRfc3339(new Date(needed))} (next rotation ${toRfc3339(window.nextRotation)} + ${config.token.graceDays} days grace) and ${toRfc3339(window.expiresOn)} (this window's token, ${config.token.ttlDays}-day TTL)`,
    got: `${days(left)} left, next rotation in ${days(window.nextRotation.getTime() - now.getTime())}`,
    passed: scheduleOk,
    why: scheduleOk
      ? "the token outlives the next scheduled rotation plus grace"
      : tooShort
        ? "the token expires before the next rotation plus grace: one failed rotation run and CI is locked out (rotation is overdue)"
        : `the token lives longer than the stack's ${config.token.ttlDays}-day TTL allows: it is not this window's token`,
    ...(scheduleOk ? {} : { fix: tooShort ? rotateFix(config) : useStackTokenFix(config) }),
  });
  return { checks, usable, ...(reason === undefined ? {} : { reason }) };
}

async function runPositive(
  probe: PositiveProbe,
  config: StackConfig,
  options: RunOptions,
): Promise<CheckResult> {
  const request = describeRequest(probe.endpoint);
  const outcome = await callWithRetry(
    (call) => callEndpoint(options.client, probe.endpoint, call),
    options.retry,
  );
  const base = { name: probe.name, kind: "positive" as const, request, expected: "200" };
  if (outcome.ok) return { ...base, got: "200", passed: true, why: probe.why };
  const got = describeFailure(outcome);
  const missing = probe.grants.map(grantPhrase);
  if (isIpRefusal(outcome)) {
    return {
      ...base,
      got,
      passed: false,
      why: "refused because of the token's IP condition, not a missing permission",
      fix: "run the verifier from an address scoped-edge:tokenAllowedIps allows (and tokenDeniedIps does not)",
    };
  }
  if (outcome.kind === "http" && outcome.status === 403) {
    return {
      ...base,
      got,
      passed: false,
      why: `the token lacks ${probe.grants.map((g) => g.permission).join(" + ")} (${probe.why.replace(/^needs [^:]+: /, "")})`,
      missing,
      fix: `add ${missing.join(", ")} to the token: ${useStackTokenFix(config)}`,
    };
  }
  if (outcome.kind === "http" && outcome.status === 401) {
    return {
      ...base,
      got,
      passed: false,
      why: "the token was rejected (revoked, rolled or expired during the run?)",
      missing,
      fix: "re-run; if it persists, check the token's status in the dashboard",
    };
  }
  if (outcome.kind === "http" && (outcome.status === 404 || outcome.status === 400)) {
    return {
      ...base,
      got,
      passed: false,
      why: "the API does not know this object, or the token cannot see it",
      missing,
      fix: `check the account/zone ids in Pulumi.${config.stack}.yaml; if they are right, add ${missing.join(", ")} to the token`,
    };
  }
  return { ...base, got, passed: false, ...transportAdvice(outcome) };
}

async function runNegative(probe: NegativeProbe, options: RunOptions): Promise<CheckResult> {
  const request = describeRequest(probe.endpoint);
  const outcome = await callWithRetry(
    (call) => callEndpoint(options.client, probe.endpoint, call),
    options.retry,
  );
  const expected = `refused (${probe.refusedStatuses.join("/")})`;
  const base = { name: probe.name, kind: "negative" as const, request, expected };
  if (outcome.ok) {
    return {
      ...base,
      got: "200 (allowed)",
      passed: false,
      why: `over-privileged: ${probe.why}`,
      excess: [probe.excess],
      fix: `remove ${probe.excess} from the token; the stack's own token never carries it`,
    };
  }
  const got = describeFailure(outcome);
  if (outcome.kind === "http" && probe.refusedStatuses.includes(outcome.status)) {
    return { ...base, got, passed: true, why: probe.why };
  }
  if (outcome.kind === "http") {
    return {
      ...base,
      got,
      passed: false,
      why: "the call was neither allowed nor refused, so least privilege is unproven",
      fix: "re-run the verifier later",
    };
  }
  return { ...base, got, passed: false, ...transportAdvice(outcome) };
}

async function runZoneVisibility(
  probe: ZoneVisibilityProbe,
  config: StackConfig,
  options: RunOptions,
): Promise<CheckResult> {
  const allowed = new Set(probe.allowedZoneIds);
  const base = {
    name: probe.name,
    kind: "negative" as const,
    request: describeRequest(probe.endpoint),
    expected: `no zone outside the stack (${probe.allowedZoneIds.length} stack zone(s))`,
  };
  const seen: { id: string; name: string }[] = [];
  for (let page = 1; page <= MAX_ZONE_PAGES; page++) {
    const outcome = await callWithRetry((call) => listZonesPage(options.client, page, call), options.retry);
    if (!outcome.ok) {
      if (outcome.kind === "http" && (outcome.status === 403 || outcome.status === 401) && page === 1) {
        return {
          ...base,
          got: `${describeFailure(outcome)}: no zone is listed`,
          passed: true,
          why: probe.why,
        };
      }
      if (outcome.kind === "http") {
        return {
          ...base,
          got: describeFailure(outcome),
          passed: false,
          why: "the zone list could not be read, so least privilege is unproven",
          fix: "re-run the verifier, or name a zone outside the stack with --foreign-zone <id>",
        };
      }
      return { ...base, got: describeFailure(outcome), passed: false, ...transportAdvice(outcome) };
    }
    seen.push(...outcome.value.zones);
    if (outcome.value.last) break;
  }
  const outside = seen.filter((zone) => !allowed.has(zone.id));
  if (outside.length === 0) {
    return { ...base, got: `${seen.length} zone(s) visible, all in the stack`, passed: true, why: probe.why };
  }
  const listed = outside
    .slice(0, 5)
    .map((zone) => `${zone.name} (${zone.id})`)
    .join(", ");
  const more = outside.length > 5 ? ` and ${outside.length - 5} more` : "";
  return {
    ...base,
    got: `${outside.length} zone(s) outside the stack visible: ${listed}${more}`,
    passed: false,
    why: `over-privileged: ${probe.why}`,
    excess: [`zone permissions on ${outside.length} zone(s) outside the stack`],
    fix: `scope every zone policy of the token to the stack's zones only (${zoneResource("<id>")}, never all zones); ${useStackTokenFix(config)}`,
  };
}

export async function runVerification(config: StackConfig, options: RunOptions): Promise<VerificationReport> {
  const now = (options.now ?? (() => new Date()))();
  const probes = planProbes(config, options);
  const { checks, usable, reason } = await verifyChecks(config, options, now);
  if (!usable) {
    checks.push({
      name: `permission probes (${probes.length})`,
      kind: "verify",
      expected: "run",
      got: "not run",
      passed: false,
      why: `${reason ?? "the token is not usable"}, so every probe would only be refused`,
      fix: "fix what the checks above name first, then re-run",
    });
  } else {
    for (const probe of probes) {
      if (probe.type === "positive") checks.push(await runPositive(probe, config, options));
      else if (probe.type === "negative") checks.push(await runNegative(probe, options));
      else checks.push(await runZoneVisibility(probe, config, options));
    }
  }
  return verificationReport(config, checks);
}
