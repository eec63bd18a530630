/** Rendering the verifier's report, and keeping the token out of everything it prints. */
import type { CheckResult, VerificationReport } from "./types";

export const REDACTED = "[redacted]";

/** Shortest run of the secret's characters that is treated as "a part of it". */
const MIN_FRAGMENT = 8;

/**
 * Removes the secret, and any run of 8+ consecutive characters of it, from `text`. Messages are
 * built so the token never enters them; this is the belt to those braces (an API that echoes the
 * Authorization header, a runtime error quoting a header value).
 */
export function redact(text: string, secret: string | undefined): string {
  if (secret === undefined || secret.length === 0) return text;
  let out = text.split(secret).join(REDACTED);
  if (secret.length < MIN_FRAGMENT) return out;
  for (let changed = true; changed;) {
    changed = false;
    for (let start = 0; start + MIN_FRAGMENT <= secret.length; start++) {
      const fragment = secret.slice(start, start + MIN_FRAGMENT);
      if (out.includes(fragment)) {
        out = out.split(fragment).join(REDACTED);
        changed = true;
      }
    }
  }
  return out;
}

/** Redacts every string inside a value (before JSON escaping could disguise the secret). */
export function redactDeep<T>(value: T, secret: string | undefined): T {
  if (typeof value === "string") return redact(value, secret) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => redactDeep(item, secret)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, redactDeep(inner, secret)]),
    ) as T;
  }
  return value;
}

export function summaryLine(report: Pick<VerificationReport, "passed" | "failed">): string {
  return `${report.passed} passed, ${report.failed} failed`;
}

/** One line: "PASS name: expected …; got … (GET /path) — why[; missing: …][; excess: …][; fix: …]". */
export function formatCheck(check: CheckResult): string {
  const parts = [
    `${check.passed ? "PASS" : "FAIL"} ${check.name}: expected ${check.expected}; got ${check.got}`,
  ];
  if (check.request !== undefined) parts[0] += ` (${check.request})`;
  let tail = ` — ${check.why}`;
  if (!check.passed) {
    if (check.missing && check.missing.length > 0) tail += `; missing: ${check.missing.join(", ")}`;
    if (check.excess && check.excess.length > 0) tail += `; excess: ${check.excess.join(", ")}`;
    if (check.fix !== undefined) tail += `; fix: ${check.fix}`;
  }
  return (parts[0] + tail).replace(/[\r\n]+/g, " ");
}

export function formatText(report: VerificationReport): string {
  return [...report.checks.map(formatCheck), summaryLine(report)].join("\n") + "\n";
}

export function formatJson(report: VerificationReport): string {
  return JSON.stringify({ ...report, ok: report.failed === 0, summary: summaryLine(report) }, null, 2) + "\n";
}
