/**
 * The offline plan's report: what `pulumi up` would create, what the policy pack says about it and
 * what must be set first, as one JSON document or as text for a person. Pure: it works on values
 * already masked (see mask.ts); nothing here can see a secret.
 */
import type { CredentialRow } from "../../lib/credentials";
import { describePermissionId } from "../../policies/lib/permission-catalog";
import type { EnforcementLevel } from "./policy-config";
import type { MissingItem } from "./placeholders";

export interface PlanResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** URN of the parent resource; undefined for roots (the stack, default providers). */
  readonly parent?: string;
  /** Inputs with every secret as "[secret]". */
  readonly inputs: Record<string, unknown>;
}

export interface PlanViolation {
  readonly policy: string;
  readonly level: EnforcementLevel;
  /** The policy's own message (without the policy description the SDK prefixes). */
  readonly message: string;
  /** URN of the resource the violation is about; null for a stack-wide finding. */
  readonly resource: string | null;
  /** The policy's remediation steps (human output only). */
  readonly remediation?: string;
}

export interface PlanReport {
  readonly project: string;
  readonly stack: string;
  /** The instant the plan was computed for (the program's clock and the policies' `now`). */
  readonly now: string;
  readonly policyConfigFile: string;
  readonly resources: readonly PlanResource[];
  readonly violations: readonly PlanViolation[];
  readonly missing: readonly MissingItem[];
  /** The program's `credentials` output (never holds a secret value). */
  readonly credentials: readonly CredentialRow[];
  /** Notes about the inputs (e.g. a policy config entry naming no policy). */
  readonly notes: readonly string[];
}

/** The `--json` document: exactly the contract's keys. */
export function toJsonDocument(report: PlanReport): {
  stack: string;
  resources: { type: string; name: string; inputs: Record<string, unknown> }[];
  violations: { policy: string; level: EnforcementLevel; message: string; resource: string | null }[];
  missing: MissingItem[];
} {
  return {
    stack: report.stack,
    resources: report.resources.map(({ type, name, inputs }) => ({ type, name, inputs })),
    violations: report.violations.map(({ policy, level, message, resource }) => ({
      policy,
      level,
      message,
      resource,
    })),
    missing: [...report.missing],
  };
}

/** 1 when any violation is mandatory (the engine would stop the update), else 0. */
export function exitCodeOf(report: PlanReport): 0 | 1 {
  return report.violations.some((violation) => violation.level === "mandatory") ? 1 : 0;
}

/** Splits the SDK's "description\nmessage" back into the policy's own message. */
export function policyMessage(fullMessage: string, description: string): string {
  if (fullMessage === description) return description;
  return fullMessage.startsWith(`${description}\n`) ? fullMessage.slice(description.length + 1) : fullMessage;
}

// ---- human output ------------------------------------------------------------------------------

const MAX_VALUE = 100;

function short(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > MAX_VALUE ? `[${text.length} characters]` : text;
}

const TOKEN_TYPES = ["cloudflare:index/accountToken:AccountToken", "cloudflare:index/apiToken:ApiToken"];
const SCRIPT_TYPE = "cloudflare:index/workersScript:WorkersScript";

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A token policy as "effect: permission, permission on resource, resource". */
function tokenPolicyLine(policy: unknown): string {
  if (!isRecord(policy)) return short(policy);
  const groups = Array.isArray(policy["permissionGroups"]) ? policy["permissionGroups"] : [];
  const names = groups.map((group) => {
    const id = isRecord(group) ? group["id"] : group;
    return typeof id === "string" ? describePermissionId(id) : short(id);
  });
  let resources: string = short(policy["resources"]);
  if (typeof policy["resources"] === "string") {
    try {
      const parsed = JSON.parse(policy["resources"]) as unknown;
      if (isRecord(parsed)) resources = Object.keys(parsed).join(", ");
    } catch {
      // keep it as written
    }
  }
  return `${String(policy["effect"] ?? "allow")}: ${names.join(", ")} on ${resources}`;
}

/** The inputs worth reading, one per line: tokens' grants spelled out, bindings by name and type. */
export function inputLines(resource: PlanResource): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(resource.inputs)) {
    if (TOKEN_TYPES.includes(resource.type) && key === "policies" && Array.isArray(value)) {
      lines.push("policies:");
      for (const policy of value) lines.push(`  ${tokenPolicyLine(policy)}`);
    } else if (resource.type === SCRIPT_TYPE && key === "bindings" && Array.isArray(value)) {
      lines.push("bindings:");
      for (const binding of value) {
        if (!isRecord(binding)) continue;
        const shown =
          binding["text"] !== undefined
            ? ` = ${short(binding["text"])}`
            : binding["namespaceId"] !== undefined
              ? ` -> ${short(binding["namespaceId"])}`
              : binding["bucketName"] !== undefined
                ? ` -> ${short(binding["bucketName"])}`
                : "";
        lines.push(`  ${String(binding["name"])} (${String(binding["type"])})${shown}`);
      }
    } else {
      lines.push(`${key}: ${short(value)}`);
    }
  }
  return lines;
}

function tree(resources: readonly PlanResource[]): string[] {
  const children = new Map<string | undefined, PlanResource[]>();
  const urns = new Set(resources.map((resource) => resource.urn));
  for (const resource of resources) {
    const parent = resource.parent !== undefined && urns.has(resource.parent) ? resource.parent : undefined;
    const list = children.get(parent) ?? [];
    list.push(resource);
    children.set(parent, list);
  }
  const lines: string[] = [];
  const visit = (resource: PlanResource, prefix: string, last: boolean, root: boolean) => {
    const branch = root ? "" : last ? "└─ " : "├─ ";
    lines.push(`${prefix}${branch}${resource.type}  ${resource.name}`);
    const childPrefix = root ? prefix : `${prefix}${last ? "   " : "│  "}`;
    const kids = children.get(resource.urn) ?? [];
    const detailPrefix = `${childPrefix}${kids.length > 0 ? "│  " : "   "}`;
    for (const line of inputLines(resource)) lines.push(`${detailPrefix}  ${line}`);
    kids.forEach((kid, index) => visit(kid, childPrefix, index === kids.length - 1, false));
  };
  for (const root of children.get(undefined) ?? []) visit(root, "", true, true);
  return lines;
}

function resourceLabel(report: PlanReport, urn: string | null): string {
  if (urn === null) return "the stack";
  const resource = report.resources.find((candidate) => candidate.urn === urn);
  return resource === undefined ? urn : `${resource.type}  ${resource.name}`;
}

/** The plan as text for a person. */
export function renderHuman(report: PlanReport): string {
  const out: string[] = [];
  out.push(`Offline plan for stack "${report.stack}" (project ${report.project})`);
  out.push(`  at ${report.now}; policy config ${report.policyConfigFile}`);
  out.push(
    "  No cloud, no credentials, no Pulumi CLI: Pulumi's mock runtime and the policy pack's own policies.",
  );
  out.push("");
  out.push(`Resources pulumi up would create (${report.resources.length}):`);
  for (const line of tree(report.resources)) out.push(`  ${line}`);

  out.push("");
  out.push("Credentials:");
  for (const row of report.credentials) {
    out.push(`  ${row.credential}`);
    out.push(`    for:      ${row.purpose}`);
    out.push(`    lives in: ${row.livesIn}`);
    out.push(`    read by:  ${row.readBy}`);
    out.push(`    expires:  ${row.expires}`);
    out.push(`    rotation: ${row.rotation}`);
  }

  out.push("");
  const mandatory = report.violations.filter((violation) => violation.level === "mandatory").length;
  if (report.violations.length === 0) {
    out.push("Policy violations: none.");
  } else {
    out.push(
      `Policy violations (${report.violations.length}: ${mandatory} mandatory, ${report.violations.length - mandatory} other):`,
    );
    for (const violation of report.violations) {
      out.push(`  [${violation.level}] ${violation.policy}  (${resourceLabel(report, violation.resource)})`);
      for (const line of violation.message.split("\n")) out.push(`    ${line}`);
      if (violation.remediation) out.push(`    remediation: ${violation.remediation}`);
    }
  }

  out.push("");
  if (report.missing.length === 0) {
    out.push("Before a real pulumi up: nothing left to set.");
  } else {
    out.push("Before a real pulumi up:");
    for (const item of report.missing) {
      const what =
        item.kind === "secret"
          ? `${item.key} is not set (planned with a "[secret]" stand-in)`
          : `${item.key} is the placeholder id ${item.value}`;
      out.push(`  - ${what}`);
      out.push(`    fix: ${item.fix}`);
    }
  }
  for (const note of report.notes) out.push(`note: ${note}`);
  out.push("");
  out.push(
    mandatory > 0
      ? `Result: ${mandatory} mandatory violation(s); pulumi up with this policy pack would stop.`
      : "Result: no mandatory violation.",
  );
  return `${out.join("\n")}\n`;
}
