/**
 * `verify-token --admin`: proves the admin credential can do what `pulumi up` asks of it, above all
 * minting the stack's deploy token, with read-only calls only.
 *
 * 1. The verify endpoint (account form first, then user form): the credential is live.
 * 2. Its own token details (`GET …/tokens/<its id>`): Cloudflare hands back the credential's
 *    policies, so every permission it holds is read exactly, Write included, without writing.
 * 3. Each grant of `requiredAdminGrants` (lib/credentials.ts, the one definition) is checked
 *    against those policies, deny policies and wildcards included: the token permission (Account API
 *    Tokens Write / API Tokens Write) and, because Cloudflare mints zone-scoped groups on a specific
 *    zone only for a token that holds them there (terraform-provider-cloudflare #7241), every
 *    zone-scoped group of the deploy token on its zones.
 * 4. The token list the sweeper reads (`include_expired`), so `sweep-tokens` will work too.
 */
import type { Cloudflare } from "cloudflare";

import { requiredAdminGrants, type AdminGrant } from "../../lib/credentials";
import type { StackConfig } from "../../lib/config";
import type { DerivedGrant } from "../../policies/lib/derive";
import { compareGrants } from "../../policies/lib/least-privilege";
import { describePermissionId } from "../../policies/lib/permission-catalog";
import { policyGrants, type TokenGrant } from "../../policies/lib/token";
import {
  listTokensPage,
  tokenDetails,
  tokensPath,
  verifyPath,
  verifyToken,
  type TokenOwner,
  type TokenSummary,
  type VerifyAnswer,
} from "./endpoints";
import { PlanError } from "./probes";
import { callWithRetry, describeFailure, isTokenRejection, transportAdvice, type RetryPolicy } from "./retry";
import { verificationReport, type CheckResult, type VerificationReport } from "./types";

export interface AdminRunOptions {
  readonly client: Cloudflare;
  readonly retry: RetryPolicy;
  readonly deadlineMs?: number;
  /** Injected in tests. */
  readonly now?: () => Date;
}

const ADMIN_FIX =
  "give the admin credential these permissions in the dashboard (My Profile > API Tokens, or Manage Account > Account API Tokens), or create one that has them";

function where(grant: AdminGrant): string {
  return grant.resource ?? "the credential's own user";
}

/** The credential's effective grants from its policies (names from the catalog, else from the answer). */
function grantsOf(details: TokenSummary): { grants: TokenGrant[]; problem?: string } {
  const grants: TokenGrant[] = [];
  const names = new Map<string, string>();
  for (const [index, policy] of (details.policies ?? []).entries()) {
    for (const group of policy.permission_groups) if (group.name) names.set(group.id, group.name);
    const result = policyGrants({
      index,
      effect: policy.effect,
      permissionIds: policy.permission_groups.map((group) => group.id),
      resources: policy.resources,
    });
    if (!result.ok) return { grants, problem: result.error };
    grants.push(...result.grants);
  }
  // An id the offline catalog does not know keeps the name Cloudflare gave it.
  return {
    grants: grants.map((grant) =>
      grant.permission === describePermissionId(grant.permissionId) && names.has(grant.permissionId)
        ? { ...grant, permission: names.get(grant.permissionId)! }
        : grant,
    ),
  };
}

/** Whether `grants` give `need`: compareGrants for account and zone resources; user groups by name. */
function holds(grants: readonly TokenGrant[], need: AdminGrant): boolean {
  if (need.resource === undefined) {
    const denied = grants.some(
      (g) => g.effect === "deny" && g.permission === need.permission && g.resource.kind === "user",
    );
    return (
      !denied &&
      grants.some(
        (g) => g.effect === "allow" && g.permission === need.permission && g.resource.kind === "user",
      )
    );
  }
  const needed: DerivedGrant = {
    permission: need.permission,
    resource: need.resource,
    reason: need.reason,
    addedByHand: false,
  };
  return compareGrants(grants, [needed]).missing.length === 0;
}

async function verifyAdmin(
  config: StackConfig,
  options: AdminRunOptions,
  checks: CheckResult[],
): Promise<{ owner: TokenOwner; answer: VerifyAnswer } | undefined> {
  const tries: { owner: TokenOwner; got: string }[] = [];
  for (const owner of ["account", "user"] as const) {
    const outcome = await callWithRetry(
      (call) => verifyToken(options.client, owner, config.accountId, call),
      options.retry,
    );
    if (outcome.ok) {
      checks.push({
        name: `verify endpoint (admin credential, ${owner}-owned)`,
        kind: "verify",
        request: `GET ${verifyPath(owner, config.accountId)}`,
        expected: "200 with the token's status",
        got: "200",
        passed: true,
        why: "Cloudflare knows the admin credential",
      });
      return { owner, answer: outcome.value };
    }
    tries.push({ owner, got: describeFailure(outcome) });
    if (!isTokenRejection(outcome)) {
      checks.push({
        name: "verify endpoint (admin credential)",
        kind: "verify",
        request: `GET ${verifyPath(owner, config.accountId)}`,
        expected: "200 with the token's status",
        got: tries.at(-1)!.got,
        passed: false,
        ...transportAdvice(outcome),
      });
      return undefined;
    }
  }
  checks.push({
    name: "verify endpoint (admin credential)",
    kind: "verify",
    request: `GET ${verifyPath("account", config.accountId)}, GET ${verifyPath("user", config.accountId)}`,
    expected: "200 from one of them",
    got: tries.map((t) => `${t.owner}: ${t.got}`).join("; "),
    passed: false,
    why: "Cloudflare knows this token neither as an account token of the stack's account nor as a user token (wrong value, deleted, or a Global API Key)",
    fix: "export the admin API token (never a Global API Key) as CLOUDFLARE_ADMIN_API_TOKEN",
  });
  return undefined;
}

export async function runAdminVerification(
  config: StackConfig,
  options: AdminRunOptions,
): Promise<VerificationReport> {
  const required = requiredAdminGrants(config);
  if (required.length === 0) throw new PlanError(`stack ${config.stack} needs no admin permission`);
  const now = (options.now ?? (() => new Date()))();
  const checks: CheckResult[] = [];
  const report = (): VerificationReport => verificationReport(config, checks);

  const verified = await verifyAdmin(config, options, checks);
  if (verified === undefined) return report();
  const { owner, answer } = verified;

  const active = answer.status === "active";
  checks.push({
    name: "admin credential status",
    kind: "verify",
    expected: "active",
    got: answer.status,
    passed: active,
    why: active ? "the credential can be used" : `a ${answer.status} credential cannot run pulumi up`,
    ...(active ? {} : { fix: "create a new admin credential and store it where pulumi up reads it" }),
  });
  if (answer.expires_on !== undefined) {
    const expiresOn = new Date(answer.expires_on);
    const live = Number.isNaN(expiresOn.getTime()) || expiresOn > now;
    checks.push({
      name: "admin credential expiry",
      kind: "verify",
      expected: "expires_on in the future",
      got: answer.expires_on,
      passed: live,
      why: live ? "the credential has not expired" : "an expired credential cannot run pulumi up",
      ...(live ? {} : { fix: "create a new admin credential and store it where pulumi up reads it" }),
    });
  }
  if (!active) return report();

  // Its own policies, read back: the exact permissions it holds.
  const detailsRequest = `GET ${tokensPath(owner, config.accountId)}/<the credential's id>`;
  const details = await callWithRetry(
    (call) => tokenDetails(options.client, owner, config.accountId, answer.id, call),
    options.retry,
  );
  const tokenPermission =
    owner === "account" ? "Account API Tokens Read or Write" : "API Tokens Read or Write";
  if (!details.ok) {
    const refused = details.kind === "http" && (details.status === 403 || details.status === 401);
    checks.push({
      name: "read the admin credential's own policies",
      kind: "positive",
      request: detailsRequest,
      expected: "200 with its policies",
      got: describeFailure(details),
      passed: false,
      ...(refused
        ? {
            why: `the credential cannot read tokens (${tokenPermission}), so it cannot hold the token permission pulumi up needs`,
            missing: required.map((grant) => `${grant.permission} on ${where(grant)}`),
            fix: ADMIN_FIX,
          }
        : transportAdvice(details)),
    });
    return report();
  }
  const { grants, problem } = grantsOf(details.value);
  checks.push({
    name: "read the admin credential's own policies",
    kind: "positive",
    request: detailsRequest,
    expected: "200 with its policies",
    got: problem === undefined ? `200, ${details.value.policies?.length ?? 0} policies` : `200, ${problem}`,
    passed: problem === undefined,
    why:
      problem === undefined ? "Cloudflare lists what the credential holds" : "its policies could not be read",
    ...(problem === undefined
      ? {}
      : { fix: "re-run; if it persists, inspect the credential in the dashboard" }),
  });
  if (problem !== undefined) return report();

  for (const need of required) {
    const ok = holds(grants, need);
    checks.push({
      name: `admin holds ${need.permission} on ${where(need)}`,
      kind: "positive",
      expected: "an allow policy covering it, no deny",
      got: ok ? "held" : "not held",
      passed: ok,
      why: need.reason,
      ...(ok ? {} : { missing: [`${need.permission} on ${where(need)}`], fix: ADMIN_FIX }),
    });
  }

  // The sweeper's call: listing the owner's tokens, expired ones included.
  const deployOwner = config.token.owner;
  const list = await callWithRetry(
    (call) => listTokensPage(options.client, deployOwner, config.accountId, 1, call),
    options.retry,
  );
  checks.push({
    name: `list ${deployOwner} tokens (what sweep-tokens reads)`,
    kind: "positive",
    request: `GET ${tokensPath(deployOwner, config.accountId)}?include_expired=true`,
    expected: "200",
    got: list.ok ? "200" : describeFailure(list),
    passed: list.ok,
    why: list.ok
      ? "sweep-tokens can find the stack's expired tokens"
      : "sweep-tokens could not list the stack's tokens",
    ...(list.ok ? {} : list.kind === "http" ? { fix: ADMIN_FIX } : { fix: transportAdvice(list).fix }),
  });
  return report();
}
