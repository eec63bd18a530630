/** Rendering the verifier's report, and keeping the token out of everything it prints. */
import { escapeControl, escapeControlDeep } from "../../lib/text";
import type { CheckResult, VerificationReport } from "./types";

export { REDACTED, redact, redactDeep } from "./redact";

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
  // Server text can carry CR/LF or ESC: shown escaped, so it can neither forge a line nor hide one.
  return escapeControl(parts[0] + tail);
}

export function formatText(report: VerificationReport): string {
  return [...report.checks.map(formatCheck), summaryLine(report)].join("\n") + "\n";
}

export function formatJson(report: VerificationReport): string {
  const document = { ...report, ok: report.failed === 0, summary: summaryLine(report) };
  return JSON.stringify(escapeControlDeep(document), null, 2) + "\n";
}
