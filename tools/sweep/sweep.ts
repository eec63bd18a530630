/**
 * The token sweeper: finds this stack's deploy tokens that expired or were disabled and (with
 * `--delete`) deletes them with the admin credential.
 *
 * Why: when a token expires or is revoked, the Cloudflare provider drops it from Pulumi state on the
 * next refresh but never deletes it, so every rotation that ran late leaves one behind, and
 * Cloudflare caps tokens at 50 per user and 500 per account.
 *
 * What it may delete, all conditions at once:
 * - the name is exactly `<project>-<stack>-deploy-<8 lowercase hex>` (the program's prefix plus the
 *   rotation suffix, a 4-byte random.RandomId): another stack's prefix never matches, not even one
 *   that extends this one (`…-dev-deploy-x-1a2b3c4d` is not `…-dev-deploy-<hex>`);
 * - it is expired (status `expired`, or `expires_on` in the past) or `disabled`; an active token
 *   that has not expired, or one without an expiry, is never deleted;
 * - it is not the credential doing the sweep, and not a token named with --keep-token-id (the
 *   rotate workflow passes the stack's current deployTokenId).
 */
import type { Cloudflare } from "cloudflare";

import type { StackConfig } from "../../lib/config";
import { deployTokenNamePrefix } from "../../lib/credentials";
import {
  deleteToken,
  listTokensPage,
  tokensPath,
  verifyToken,
  type CallOptions,
  type TokenOwner,
  type TokenSummary,
} from "../verify/endpoints";
import {
  callWithRetry,
  describeFailure,
  transportAdvice,
  type CallFailure,
  type RetryPolicy,
} from "../verify/retry";

/** The rotation suffix: random.RandomId with byteLength 4 in components/deploy-token.ts, as hex. */
const ROTATION_SUFFIX = "[0-9a-f]{8}";

/** Cloudflare's caps on tokens (developers.cloudflare.com/fundamentals/api/reference/limits). */
export const TOKEN_LIMITS: Readonly<Record<TokenOwner, number>> = { user: 50, account: 500 };

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Matches exactly this stack's deploy-token names. */
export function stackTokenName(config: Pick<StackConfig, "project" | "stack">): RegExp {
  return new RegExp(`^${escapeRegExp(deployTokenNamePrefix(config))}-${ROTATION_SUFFIX}$`);
}

export type Verdict =
  | { readonly action: "delete"; readonly reason: string }
  | { readonly action: "keep"; readonly reason: string };

/** Whether one of this stack's tokens goes, and why. Pure. */
export function verdictFor(
  token: TokenSummary,
  now: Date,
  protectedIds: ReadonlySet<string>,
  sweeperId: string | undefined,
): Verdict {
  if (token.id === sweeperId) return { action: "keep", reason: "it is the credential doing the sweep" };
  if (protectedIds.has(token.id))
    return { action: "keep", reason: "named with --keep-token-id (the current token)" };
  const expiresOn = token.expires_on === undefined ? undefined : Date.parse(token.expires_on);
  const expiredByDate = expiresOn !== undefined && !Number.isNaN(expiresOn) && expiresOn <= now.getTime();
  if (token.status === "expired" || expiredByDate) {
    return {
      action: "delete",
      reason: `expired${token.expires_on === undefined ? "" : ` ${token.expires_on}`}`,
    };
  }
  if (token.status === "disabled") return { action: "delete", reason: "disabled (revoked)" };
  if (token.status !== "active")
    return { action: "keep", reason: `status ${token.status} is not one the sweeper deletes` };
  return {
    action: "keep",
    reason: token.expires_on === undefined ? "active, no expiry" : `active, expires ${token.expires_on}`,
  };
}

export interface SweepOptions {
  readonly client: Cloudflare;
  readonly retry: RetryPolicy;
  /** false: dry run, nothing is deleted. */
  readonly apply: boolean;
  readonly keepTokenIds: readonly string[];
  readonly now: Date;
}

export interface SweptToken {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly expiresOn?: string;
  readonly action: "delete" | "keep";
  readonly reason: string;
  /** With --delete: what happened to a token marked for deletion. */
  readonly result?: "deleted" | "already gone" | "failed";
  readonly error?: string;
  readonly fix?: string;
}

export type SweepReport =
  | {
      readonly ok: true;
      readonly stack: string;
      readonly owner: TokenOwner;
      readonly dryRun: boolean;
      readonly pattern: string;
      readonly tokens: readonly SweptToken[];
      /** Tokens of the owner that are not this stack's (never touched). */
      readonly others: number;
      readonly limit: number;
    }
  | { readonly ok: false; readonly stack: string; readonly error: string; readonly fix: string };

const MAX_PAGES = 20; // 20 x 50 covers the 500-token account cap twice over.

function permissionFix(owner: TokenOwner, config: StackConfig, write: boolean): string {
  const group =
    owner === "account"
      ? `Account API Tokens ${write ? "Write" : "Read (or Write)"} on account ${config.accountId}`
      : `API Tokens ${write ? "Write" : "Read (or Write)"} (user level)`;
  return `give the admin credential ${group}; npm run verify-token -- --stack ${config.stack} --admin checks it`;
}

function failureFix(outcome: CallFailure, owner: TokenOwner, config: StackConfig, write: boolean) {
  if (outcome.kind === "http" && (outcome.status === 401 || outcome.status === 403)) {
    return {
      error: `${describeFailure(outcome)}: the admin credential may not ${write ? "delete" : "list"} ${owner} tokens`,
      fix: permissionFix(owner, config, write),
    };
  }
  const advice = transportAdvice(outcome);
  return { error: `${describeFailure(outcome)}: ${advice.why}`, fix: advice.fix };
}

/** The id of the credential doing the sweep (never deleted), from whichever verify form knows it. */
async function sweeperTokenId(options: SweepOptions, accountId: string): Promise<string | undefined> {
  for (const owner of ["account", "user"] as const) {
    const outcome = await callWithRetry(
      (call: CallOptions) => verifyToken(options.client, owner, accountId, call),
      { ...options.retry, attempts: 1 },
    );
    if (outcome.ok) return outcome.value.id;
  }
  return undefined;
}

export async function sweepTokens(config: StackConfig, options: SweepOptions): Promise<SweepReport> {
  const owner = config.token.owner;
  const pattern = stackTokenName(config);
  const all: TokenSummary[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const outcome = await callWithRetry(
      (call) => listTokensPage(options.client, owner, config.accountId, page, call),
      options.retry,
    );
    if (!outcome.ok) {
      const { error, fix } = failureFix(outcome, owner, config, false);
      return {
        ok: false,
        stack: config.stack,
        error: `GET ${tokensPath(owner, config.accountId)}: ${error}`,
        fix,
      };
    }
    all.push(...outcome.value.tokens);
    if (outcome.value.last) break;
  }
  const sweeperId = await sweeperTokenId(options, config.accountId);
  const protectedIds = new Set(options.keepTokenIds);
  const mine = all.filter((token) => pattern.test(token.name)).sort((a, b) => a.name.localeCompare(b.name));

  const tokens: SweptToken[] = [];
  for (const token of mine) {
    const verdict = verdictFor(token, options.now, protectedIds, sweeperId);
    const base = {
      id: token.id,
      name: token.name,
      status: token.status,
      ...(token.expires_on === undefined ? {} : { expiresOn: token.expires_on }),
      ...verdict,
    };
    if (verdict.action === "keep" || !options.apply) {
      tokens.push(base);
      continue;
    }
    const outcome = await callWithRetry(
      (call) => deleteToken(options.client, owner, config.accountId, token.id, call),
      options.retry,
    );
    if (outcome.ok) tokens.push({ ...base, result: "deleted" });
    else if (outcome.kind === "http" && outcome.status === 404)
      tokens.push({ ...base, result: "already gone" });
    else tokens.push({ ...base, result: "failed", ...failureFix(outcome, owner, config, true) });
  }
  return {
    ok: true,
    stack: config.stack,
    owner,
    dryRun: !options.apply,
    pattern: `${deployTokenNamePrefix(config)}-<8 hex>`,
    tokens,
    others: all.length - mine.length,
    limit: TOKEN_LIMITS[owner],
  };
}

/** Human lines; every value from the API has its control characters escaped by the caller. */
export function formatSweep(report: SweepReport): string {
  if (!report.ok) return `sweep-tokens: ${report.error}; fix: ${report.fix}\n`;
  const total = report.tokens.length + report.others;
  const lines = [
    `sweep-tokens: stack ${report.stack}, ${report.owner}-owned tokens named ${report.pattern}` +
      (report.dryRun ? " (dry run: nothing is deleted; pass --delete to delete)" : ""),
  ];
  for (const token of report.tokens) {
    const label =
      token.action === "keep"
        ? "KEEP"
        : token.result === undefined
          ? "WOULD DELETE"
          : token.result === "failed"
            ? "FAILED TO DELETE"
            : token.result === "deleted"
              ? "DELETED"
              : "ALREADY GONE";
    let line = `${label} ${token.name} (id ${token.id}): ${token.reason}`;
    if (token.error !== undefined) line += `; ${token.error}; fix: ${token.fix}`;
    lines.push(line);
  }
  const toDelete = report.tokens.filter((token) => token.action === "delete");
  const failed = toDelete.filter((token) => token.result === "failed").length;
  const verb = report.dryRun ? "would delete" : "deleted";
  const done = report.dryRun ? toDelete.length : toDelete.length - failed;
  lines.push(
    `${report.tokens.length} token(s) of this stack: ${verb} ${done}, kept ${report.tokens.length - toDelete.length}` +
      (failed > 0 ? `, failed ${failed}` : "") +
      `; ${report.others} other ${report.owner} token(s) left alone; ${total} of Cloudflare's ${report.limit}-token ${report.owner} limit in use`,
  );
  return lines.join("\n") + "\n";
}

/** Whether the run did everything it set out to. */
export function sweepSucceeded(report: SweepReport): boolean {
  return report.ok && report.tokens.every((token) => token.result !== "failed");
}
