/**
 * The offline plan's report: what `pulumi up` would create, what the policy pack says about it and
 * what must be set first, as one JSON document (docs/plan.schema.json) or as text a person reads at
 * a glance: the verdict and counts first, mandatory findings before advisory ones, every line within
 * 100 columns. Pure: it works on values already masked (mask.ts), hides values that look like
 * secrets, and escapes control characters in everything that came from config or resources.
 */
import { rootPulumiStackTypeName } from "@pulumi/pulumi/runtime/stack";

import type { CredentialRow } from "../../lib/credentials";
import { escapeControl, escapeControlDeep } from "../../lib/text";
import { describePermissionId } from "../../policies/lib/permission-catalog";
import { classifyResource } from "../../policies/lib/resources";
import { TOKEN_TYPES, WORKERS_SCRIPT_TYPE } from "../../policies/lib/resource-types";
import { maskSecretLooking } from "./mask";
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
  /** The policy's remediation steps. */
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

/** What the human and Markdown outputs know beyond the report: zone names for the grants table. */
export interface RenderOptions {
  /** Zone id -> zone name, from the stack's `scoped-edge:zones`. */
  readonly zoneNames?: ReadonlyMap<string, string>;
}

/** The widest line the human output prints. */
export const MAX_WIDTH = 100;

export { TOKEN_TYPES };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

// ---- the facts both outputs show ---------------------------------------------------------------

/** Code-unit order: the same on every machine and locale. */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Violations with mandatory ones first, then by policy name; the order both outputs use. */
export function orderedViolations(violations: readonly PlanViolation[]): PlanViolation[] {
  const rank = (violation: PlanViolation) => (violation.level === "mandatory" ? 0 : 1);
  return [...violations].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      a.policy.localeCompare(b.policy) ||
      a.message.localeCompare(b.message) ||
      byText(a.resource ?? "", b.resource ?? ""),
  );
}

/**
 * Resources in tree order, the same on every run: the stack first, then the other roots (default
 * providers), each followed by its children, siblings by name then type. Registration order is not
 * stable: a dynamic resource registers only once its provider is serialized, and the engine's default
 * provider for it comes just before.
 */
export function inPlanOrder<T extends PlanResource>(resources: readonly T[]): T[] {
  const urns = new Set(resources.map((resource) => resource.urn));
  const children = new Map<string | undefined, T[]>();
  for (const resource of resources) {
    const parent = resource.parent !== undefined && urns.has(resource.parent) ? resource.parent : undefined;
    const siblings = children.get(parent);
    if (siblings === undefined) children.set(parent, [resource]);
    else siblings.push(resource);
  }
  const isStack = (resource: T) => (resource.type === rootPulumiStackTypeName ? 0 : 1);
  const sorted = (list: readonly T[]) =>
    [...list].sort(
      (a, b) =>
        isStack(a) - isStack(b) || byText(a.name, b.name) || byText(a.type, b.type) || byText(a.urn, b.urn),
    );
  const result: T[] = [];
  const visit = (resource: T) => {
    result.push(resource);
    for (const child of sorted(children.get(resource.urn) ?? [])) visit(child);
  };
  for (const root of sorted(children.get(undefined) ?? [])) visit(root);
  return result;
}

export interface PlanCounts {
  readonly mandatory: number;
  /** Every violation that does not stop an update (advisory, remediate, disabled). */
  readonly advisory: number;
  /** Items to set before a real `pulumi up`. */
  readonly toDo: number;
  readonly resources: number;
}

export function countsOf(report: PlanReport): PlanCounts {
  const mandatory = report.violations.filter((violation) => violation.level === "mandatory").length;
  return {
    mandatory,
    advisory: report.violations.length - mandatory,
    toDo: report.missing.length,
    resources: report.resources.length,
  };
}

/** 1 when any violation is mandatory (the engine would stop the update), else 0. */
export function exitCodeOf(report: PlanReport): 0 | 1 {
  return report.violations.some((violation) => violation.level === "mandatory") ? 1 : 0;
}

/** The verdict in one line: the first line of the human output and the Markdown heading. */
export function verdictLine(report: PlanReport): string {
  const counts = countsOf(report);
  const verdict =
    counts.mandatory > 0
      ? `${counts.mandatory} mandatory violation(s): pulumi up would stop`
      : "no mandatory violation";
  return `Result: ${verdict} · ${counts.advisory} advisory · ` + `${counts.toDo} to do before pulumi up`;
}

/** Splits the SDK's "description\nmessage" back into the policy's own message. */
export function policyMessage(fullMessage: string, description: string): string {
  if (fullMessage === description) return description;
  return fullMessage.startsWith(`${description}\n`) ? fullMessage.slice(description.length + 1) : fullMessage;
}

const sentences = (text: string): string[] =>
  text
    .split(/(?<=[.;:])\s+(?=[A-Z])/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence !== "");

const normalized = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, " ");

/**
 * The remediation minus every sentence the message already says (a sentence counts as said when
 * its first 40 characters, punctuation aside, appear in the message); undefined when nothing is left.
 */
export function newRemediation(violation: PlanViolation): string | undefined {
  if (violation.remediation === undefined) return undefined;
  const message = normalized(violation.message);
  const left = sentences(violation.remediation).filter(
    (sentence) => !message.includes(normalized(sentence).slice(0, 40).trim()),
  );
  return left.length === 0 ? undefined : left.join(" ");
}

/** The inputs a reader may see: secret-looking values replaced (mask.ts), nothing else changed. */
function shownInputs(resource: PlanResource): Record<string, unknown> {
  return maskSecretLooking(resource.inputs);
}

// ---- JSON --------------------------------------------------------------------------------------

export interface PlanDocument {
  stack: string;
  project: string;
  now: string;
  policyConfigFile: string;
  result: { exitCode: 0 | 1 } & PlanCounts;
  violations: {
    policy: string;
    level: EnforcementLevel;
    message: string;
    remediation: string | null;
    resource: string | null;
  }[];
  missing: MissingItem[];
  credentials: CredentialRow[];
  resources: {
    urn: string;
    type: string;
    name: string;
    parent: string | null;
    inputs: Record<string, unknown>;
  }[];
  notes: string[];
}

/**
 * The `--json` document (docs/plan.schema.json): full values, secret-looking ones hidden, control
 * characters escaped; violations in the same order as the text.
 */
export function toJsonDocument(report: PlanReport): PlanDocument {
  const document: PlanDocument = {
    stack: report.stack,
    project: report.project,
    now: report.now,
    policyConfigFile: report.policyConfigFile,
    result: { exitCode: exitCodeOf(report), ...countsOf(report) },
    violations: orderedViolations(report.violations).map((violation) => ({
      policy: violation.policy,
      level: violation.level,
      message: violation.message,
      remediation: violation.remediation ?? null,
      resource: violation.resource,
    })),
    missing: report.missing.map((item) => ({ ...item })),
    credentials: report.credentials.map((row) => ({ ...row })),
    resources: report.resources.map((resource) => ({
      urn: resource.urn,
      type: resource.type,
      name: resource.name,
      parent: resource.parent ?? null,
      inputs: shownInputs(resource),
    })),
    notes: [...report.notes],
  };
  return escapeControlDeep(document) as PlanDocument;
}

// ---- text helpers ------------------------------------------------------------------------------

/** `text` cut to `width` characters, the cut marked with "…". */
export function elide(text: string, width: number): string {
  const characters = [...text];
  if (characters.length <= width) return text;
  return `${characters.slice(0, Math.max(0, width - 1)).join("")}…`;
}

/** A value from config or resources as one safe line: JSON for non-strings, control characters escaped. */
export function shown(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return escapeControl(text === undefined ? String(value) : text);
}

/**
 * `text` wrapped at word boundaries to MAX_WIDTH: the first line after `first`, the others after
 * `rest` (a hanging indent). Words longer than a line are cut, never lost.
 */
export function wrap(text: string, first: string, rest: string = first): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  const push = () => {
    lines.push(line.trimEnd());
    line = rest;
    empty = true;
  };
  for (let word of escapeControl(text)
    .split(/\s+/)
    .filter((candidate) => candidate !== "")) {
    while (word.length > MAX_WIDTH - rest.length) {
      if (!empty) push();
      const room = MAX_WIDTH - line.length;
      line += word.slice(0, room);
      word = word.slice(room);
      push();
    }
    if (!empty && line.length + 1 + word.length > MAX_WIDTH) push();
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  if (!empty || lines.length === 0) lines.push(line.trimEnd());
  return lines;
}

/** A type token as a reader names it: `cloudflare:index/accountToken:AccountToken` -> `cloudflare:AccountToken`. */
export function shortType(type: string): string {
  const parts = type.split(":");
  if (parts.length === 3 && (parts[1] === "index" || parts[1]!.includes("/")))
    return `${parts[0]}:${parts[2]}`;
  return type;
}

function resourceLabel(report: PlanReport, urn: string | null): string {
  if (urn === null) return "the stack";
  const resource = report.resources.find((candidate) => candidate.urn === urn);
  return resource === undefined
    ? escapeControl(urn)
    : `${shown(resource.name)} (${shortType(resource.type)})`;
}

// ---- the deploy token's grants ------------------------------------------------------------------

export interface Grant {
  readonly permission: string;
  readonly effect: string;
  /** The scope as a reader names it: "account", a zone name, or the resource key. */
  readonly scope: string;
}

function scopeLabel(resourceKey: string, zoneNames: ReadonlyMap<string, string>): string {
  const { kind, id } = classifyResource(resourceKey);
  const exact = /^[0-9a-f]{32}$/.test(id);
  if (kind === "zone" && exact) return zoneNames.get(id) ?? `zone …${id.slice(-6)}`;
  if (kind === "account" && exact) return "account";
  // Wildcards: the wildcard policy flags them; the table says plainly how far they reach.
  if (kind === "account" && id === "*") return "EVERY account (*)";
  if (kind === "zone" && id === "*") return "EVERY zone (*)";
  return resourceKey;
}

function resourceKeys(resources: unknown): string[] {
  let parsed: unknown = resources;
  if (typeof resources === "string") {
    try {
      parsed = JSON.parse(resources) as unknown;
    } catch {
      return [resources];
    }
  }
  if (!isRecord(parsed)) return [JSON.stringify(parsed)];
  // Nested form: {"com.cloudflare.api.account.<id>": {"com.cloudflare.api.account.zone.<id>": "*"}}.
  return Object.entries(parsed).flatMap(([key, value]) => (isRecord(value) ? Object.keys(value) : [key]));
}

/** A token resource's policies as one grant per permission and scope. */
export function grantsOf(
  resource: PlanResource,
  zoneNames: ReadonlyMap<string, string> = new Map(),
): Grant[] {
  const policies = resource.inputs["policies"];
  if (!Array.isArray(policies)) return [];
  return policies.flatMap((policy) => {
    if (!isRecord(policy)) return [];
    const groups = Array.isArray(policy["permissionGroups"]) ? policy["permissionGroups"] : [];
    const effect = typeof policy["effect"] === "string" ? policy["effect"] : "allow";
    const scopes = resourceKeys(policy["resources"]).map((key) => scopeLabel(key, zoneNames));
    return groups.flatMap((group) => {
      const id = isRecord(group) ? group["id"] : group;
      const permission = typeof id === "string" ? describePermissionId(id) : shown(id);
      return scopes.map((scope) => ({ permission, effect, scope }));
    });
  });
}

const MARK: Readonly<Record<string, string>> = { allow: "✓", deny: "✗" };

/** The grants as a permission × scope table; one line per permission when the columns would not fit. */
export function grantTable(grants: readonly Grant[], indent: string): string[] {
  if (grants.length === 0) return [`${indent}no permission`];
  const permissions = [...new Set(grants.map((grant) => grant.permission))];
  const scopes = [...new Set(grants.map((grant) => grant.scope))];
  const first = Math.max("permission".length, ...permissions.map((permission) => permission.length)) + 2;
  const widths = scopes.map((scope) => Math.min(Math.max(escapeControl(scope).length, 3), 24) + 2);
  const cell = (permission: string, scope: string) =>
    grants
      .filter((grant) => grant.permission === permission && grant.scope === scope)
      .map((grant) => MARK[grant.effect] ?? "?")
      .join("");
  if (indent.length + first + widths.reduce((sum, width) => sum + width, 0) <= MAX_WIDTH) {
    const header =
      `${indent}${"permission".padEnd(first)}` +
      scopes
        .map((scope, index) => elide(escapeControl(scope), widths[index]! - 2).padEnd(widths[index]!))
        .join("");
    const rows = permissions.map(
      (permission) =>
        `${indent}${permission.padEnd(first)}` +
        scopes.map((scope, index) => cell(permission, scope).padEnd(widths[index]!)).join(""),
    );
    return [header.trimEnd(), ...rows.map((row) => row.trimEnd())];
  }
  return permissions.flatMap((permission) => {
    const on = grants
      .filter((grant) => grant.permission === permission)
      .map((grant) => (grant.effect === "allow" ? grant.scope : `${grant.effect} ${grant.scope}`));
    return wrap(`${permission}: ${on.join(", ")}`, indent, `${indent}    `);
  });
}

// ---- human output ------------------------------------------------------------------------------

/** The inputs worth reading, one per line, each within `width`: bindings by name and type. */
export function inputLines(resource: PlanResource, width = MAX_WIDTH): string[] {
  const lines: string[] = [];
  const line = (text: string) => lines.push(elide(text, width));
  for (const [key, value] of Object.entries(shownInputs(resource))) {
    if (TOKEN_TYPES.includes(resource.type) && key === "policies" && Array.isArray(value)) {
      line(`policies: ${value.length} (grants in the table above; full value in --json)`);
    } else if (resource.type === WORKERS_SCRIPT_TYPE && key === "bindings" && Array.isArray(value)) {
      line("bindings:");
      for (const binding of value) {
        if (!isRecord(binding)) continue;
        const target =
          binding["text"] !== undefined
            ? ` = ${shown(binding["text"])}`
            : binding["namespaceId"] !== undefined
              ? ` -> ${shown(binding["namespaceId"])}`
              : binding["bucketName"] !== undefined
                ? ` -> ${shown(binding["bucketName"])}`
                : "";
        line(`  ${shown(binding["name"])} (${shown(binding["type"])})${target}`);
      }
    } else {
      line(`${escapeControl(key)}: ${shown(value)}`);
    }
  }
  return lines;
}

function tree(resources: readonly PlanResource[], indent: string): string[] {
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
    const head = `${indent}${prefix}${branch}`;
    lines.push(elide(`${head}${shown(resource.name)}  ${shortType(resource.type)}`, MAX_WIDTH));
    const childPrefix = root ? prefix : `${prefix}${last ? "   " : "│  "}`;
    const kids = children.get(resource.urn) ?? [];
    const detail = `${indent}${childPrefix}${kids.length > 0 ? "│  " : "   "}  `;
    for (const text of inputLines(resource, MAX_WIDTH - detail.length)) lines.push(`${detail}${text}`);
    kids.forEach((kid, index) => visit(kid, childPrefix, index === kids.length - 1, false));
  };
  for (const root of children.get(undefined) ?? []) visit(root, "", true, true);
  return lines;
}

/** What a to-do item says is wrong, in one short phrase. */
export function missingWhat(item: MissingItem): string {
  return item.kind === "secret"
    ? `${item.key} is not set (planned with a "[secret]" stand-in)`
    : `${item.key} is the placeholder id ${item.value ?? ""}`;
}

/** The plan as text for a person: verdict, findings, to-dos, grants, credentials, then resources. */
export function renderHuman(report: PlanReport, options: RenderOptions = {}): string {
  const counts = countsOf(report);
  const violations = orderedViolations(report.violations);
  const out: string[] = [];
  out.push(...wrap(verdictLine(report), "", "  "));
  out.push(
    ...wrap(
      `Stack "${report.stack}" (${report.project}) at ${report.now}, policy config ${report.policyConfigFile}; ` +
        "offline: Pulumi's mock runtime and the pack's own policies.",
      "",
      "  ",
    ),
  );

  const section = (title: string, list: readonly PlanViolation[]) => {
    out.push("");
    if (list.length === 0) {
      out.push(`${title}: none.`);
      return;
    }
    out.push(`${title} (${list.length}):`);
    for (const violation of list) {
      out.push(
        ...wrap(
          `${violation.policy} on ${resourceLabel(report, violation.resource)}` +
            (violation.level === "mandatory" || violation.level === "advisory"
              ? ""
              : ` [${violation.level}]`),
          "  ",
          "    ",
        ),
      );
      for (const paragraph of violation.message.split("\n")) out.push(...wrap(paragraph, "    "));
      const fix = newRemediation(violation);
      if (fix !== undefined) out.push(...wrap(fix, "    fix: ", "         "));
    }
  };
  section(
    "Mandatory violations",
    violations.filter((violation) => violation.level === "mandatory"),
  );
  section(
    "Advisory",
    violations.filter((violation) => violation.level !== "mandatory"),
  );

  out.push("");
  if (counts.toDo === 0) {
    out.push("Before a real pulumi up: nothing left to set.");
  } else {
    out.push(`Before a real pulumi up (${counts.toDo}):`);
    for (const item of report.missing) {
      out.push(...wrap(missingWhat(item), "  - ", "    "));
      out.push(...wrap(item.fix, "    fix: ", "         "));
    }
  }

  const zoneNames = options.zoneNames ?? new Map<string, string>();
  for (const token of report.resources.filter((resource) => TOKEN_TYPES.includes(resource.type))) {
    out.push("");
    const expires = token.inputs["expiresOn"];
    out.push(
      ...wrap(
        `Deploy token ${shown(token.name)} grants (✓ allow, ✗ deny)` +
          (expires === undefined ? ":" : `, expires ${shown(expires)}:`),
        "",
        "  ",
      ),
    );
    out.push(...grantTable(grantsOf(token, zoneNames), "  "));
  }

  out.push("");
  out.push(`Credentials (${report.credentials.length}):`);
  for (const row of report.credentials) {
    out.push(...wrap(row.credential, "  ", "    "));
    const fields: [string, string][] = [
      ["for", row.purpose],
      ["lives in", row.livesIn],
      ["read by", row.readBy],
      ["expires", row.expires],
      ["rotation", row.rotation],
    ];
    for (const [label, value] of fields)
      out.push(...wrap(value, `    ${`${label}:`.padEnd(10)}`, " ".repeat(14)));
  }

  out.push("");
  out.push(`Resources pulumi up would create (${counts.resources}; full inputs in --json):`);
  out.push(...tree(report.resources, "  "));

  for (const note of report.notes) {
    out.push("");
    out.push(...wrap(note, "note: ", "      "));
  }
  return `${out.join("\n")}\n`;
}
