/** Shapes shared by the token verifier's planner, runner and report. */

/** A read-only Cloudflare API call the verifier makes. Every probe is a GET. */
export type Endpoint =
  | { readonly kind: "account-settings"; readonly accountId: string }
  | { readonly kind: "worker-scripts"; readonly accountId: string }
  | { readonly kind: "kv-namespaces"; readonly accountId: string }
  | { readonly kind: "r2-buckets"; readonly accountId: string }
  | { readonly kind: "worker-tails"; readonly accountId: string; readonly script: string }
  | { readonly kind: "account-tokens"; readonly accountId: string }
  | { readonly kind: "user-tokens" }
  | { readonly kind: "zone"; readonly zoneId: string }
  | { readonly kind: "worker-routes"; readonly zoneId: string }
  | { readonly kind: "dns-records"; readonly zoneId: string }
  | { readonly kind: "custom-hostnames"; readonly zoneId: string }
  | { readonly kind: "zones-list" };

/** A permission on a resource string, as Cloudflare token policies name them. */
export interface PermissionOn {
  readonly permission: string;
  readonly resource: string;
}

/** A call the token must be able to make: proves (at least the read side of) `grants`. */
export interface PositiveProbe {
  readonly type: "positive";
  readonly name: string;
  readonly endpoint: Endpoint;
  /** The stack's grants this call stands for; named as missing when it is refused. */
  readonly grants: readonly PermissionOn[];
  readonly why: string;
}

/** A call the token must NOT be able to make. */
export interface NegativeProbe {
  readonly type: "negative";
  readonly name: string;
  readonly endpoint: Endpoint;
  /** What a token that can make this call carries beyond the stack's needs. */
  readonly excess: string;
  readonly why: string;
  /** Statuses that count as "refused" (403 always; 400/404 too for ids outside the stack). */
  readonly refusedStatuses: readonly number[];
}

/** Lists every zone the token can see; only the stack's zones may appear. */
export interface ZoneVisibilityProbe {
  readonly type: "zone-visibility";
  readonly name: string;
  readonly endpoint: { readonly kind: "zones-list" };
  /** Zone ids the token is meant to reach. */
  readonly allowedZoneIds: readonly string[];
  readonly why: string;
}

export type Probe = PositiveProbe | NegativeProbe | ZoneVisibilityProbe;

export type CheckKind = "verify" | "positive" | "negative";

/** One line of the report. */
export interface CheckResult {
  readonly name: string;
  readonly kind: CheckKind;
  /** The API call, e.g. "GET /zones/<id>" (absent for checks computed from the verify answer). */
  readonly request?: string;
  readonly expected: string;
  readonly got: string;
  readonly passed: boolean;
  readonly why: string;
  /** On failure: the permission(s) the token lacks. */
  readonly missing?: readonly string[];
  /** On failure: the permission(s) the token has beyond the stack's needs. */
  readonly excess?: readonly string[];
  /** On failure: what to do about it. */
  readonly fix?: string;
}

export interface VerificationReport {
  readonly stack: string;
  readonly tokenOwner: "account" | "user";
  readonly checks: readonly CheckResult[];
  readonly passed: number;
  readonly failed: number;
}

/** The report of a stack's checks, with its pass and fail counts. */
export function verificationReport(
  config: { readonly stack: string; readonly token: { readonly owner: "account" | "user" } },
  checks: readonly CheckResult[],
): VerificationReport {
  const passed = checks.filter((check) => check.passed).length;
  return {
    stack: config.stack,
    tokenOwner: config.token.owner,
    checks,
    passed,
    failed: checks.length - passed,
  };
}
