/**
 * The plan as Markdown for a CI job summary (`npm run plan -- --markdown`), with a Mermaid picture
 * of the stack's credentials: who creates each, where it lives, who reads it, when it expires. The
 * picture is drawn from the planned resources themselves (token type, GitHub secret scope, Worker
 * name), so it is right for tokenOwner user, codeDeployedBy pulumi and a githubEnvironment alike.
 * The README shows the dev stack's picture (undated); tests/plan/markdown.test.ts keeps them equal.
 */
import { DEPLOY_TOKEN_SECRET_NAME } from "../../lib/credentials";
import { escapeControl } from "../../lib/text";
import { API_TOKEN_TYPE, WORKERS_SCRIPT_TYPE } from "../../policies/lib/resource-types";
import { DAY_MS } from "../../policies/lib/rotation";
import { WORKER_BINDINGS } from "../../worker/src/defaults";
import { adminTokenPermission, type TokenOwner } from "./placeholders";
import {
  countsOf,
  grantsOf,
  missingWhat,
  newRemediation,
  orderedViolations,
  shortType,
  TOKEN_TYPES,
  verdictLine,
  type Grant,
  type PlanReport,
  type PlanResource,
  type RenderOptions,
} from "./report";

/** The Worker secret binding and the GitHub secret the diagram names (the program's own names). */
const DEPLOY_SECRET_NAME = DEPLOY_TOKEN_SECRET_NAME;
const RUNTIME_KEY_NAME = WORKER_BINDINGS.providerKey;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/** What the diagram needs, read off the planned resources. */
export interface CredentialFacts {
  readonly stack: string;
  readonly workerName: string;
  /** undefined when Pulumi deploys the code and no deploy token exists. */
  readonly deployToken?: {
    readonly owner: TokenOwner;
    readonly expiresOn?: string;
    /** Days from the start of its rotation window to expiry, when the plan shows both. */
    readonly ttlDays?: number;
    /** Where the token is stored: the GitHub repository and, if any, its environment. */
    readonly repository: string;
    readonly environment?: string;
  };
}

export function credentialFacts(report: PlanReport): CredentialFacts {
  const of = (predicate: (resource: PlanResource) => boolean) => report.resources.find(predicate);
  const script = of((resource) => resource.type === WORKERS_SCRIPT_TYPE);
  const token = of((resource) => TOKEN_TYPES.includes(resource.type));
  const secret = of(
    (resource) =>
      /^github:index\/actions(Environment)?Secret:/.test(resource.type) &&
      resource.inputs["secretName"] === DEPLOY_SECRET_NAME,
  );
  const githubProvider = of((resource) => resource.type === "pulumi:providers:github");
  const workerName = text(script?.inputs["scriptName"]) ?? "the Worker";
  if (token === undefined) return { stack: report.stack, workerName };

  const expiresOn = text(token.inputs["expiresOn"]);
  const windowStart = report.resources
    .filter((resource) => resource.parent === token.parent && resource.type.startsWith("random:"))
    .map((resource) =>
      isRecord(resource.inputs["keepers"]) ? text(resource.inputs["keepers"]["windowStart"]) : undefined,
    )
    .find((value) => value !== undefined);
  const ttlDays =
    expiresOn !== undefined && windowStart !== undefined
      ? Math.round((Date.parse(expiresOn) - Date.parse(windowStart)) / DAY_MS)
      : undefined;
  const owner = text(githubProvider?.inputs["owner"]);
  const repository = text(secret?.inputs["repository"]) ?? "the application repository";
  const environment = text(secret?.inputs["environment"]);
  return {
    stack: report.stack,
    workerName,
    deployToken: {
      owner: token.type === API_TOKEN_TYPE ? "user" : "account",
      ...(expiresOn === undefined ? {} : { expiresOn }),
      ...(ttlDays === undefined || Number.isNaN(ttlDays) ? {} : { ttlDays }),
      repository: owner === undefined || repository.includes("/") ? repository : `${owner}/${repository}`,
      ...(environment === undefined ? {} : { environment }),
    },
  };
}

/** One Mermaid label line: control characters escaped, quotes and angle brackets as entities. */
function label(...lines: string[]): string {
  const safe = lines.map((line) =>
    escapeControl(line)
      .replace(/"/g, "#quot;")
      .replace(/</g, "#lt;")
      .replace(/>/g, "#gt;")
      .replace(/`/g, "#96;"),
  );
  return `"${safe.join("<br/>")}"`;
}

/**
 * The three credentials as a Mermaid flowchart. `dated` adds the deploy token's expiry instant
 * (the job summary); without it the picture depends on the config only (the README).
 */
export function credentialDiagram(facts: CredentialFacts, options: { dated: boolean }): string {
  const token = facts.deployToken;
  const lines = ["flowchart LR"];
  const node = (id: string, shape: [string, string], ...text: string[]) =>
    lines.push(`  ${id}${shape[0]}${label(...text)}${shape[1]}`);
  const edge = (from: string, verb: string, to: string) => lines.push(`  ${from} -->|${label(verb)}| ${to}`);
  const actor: [string, string] = ["([", "])"];
  const credential: [string, string] = ["[", "]"];
  const store: [string, string] = ["[(", ")]"];

  node("you", actor, "you");
  node("pulumi", actor, `pulumi up (stack ${facts.stack})`);
  node(
    "admin",
    credential,
    "admin credential",
    token === undefined
      ? "Cloudflare API token: what Pulumi creates"
      : `Cloudflare ${token.owner} API token: "${adminTokenPermission(token.owner)}" + what Pulumi creates`,
    "expires: the date you give it when you create it",
  );
  node("adminStore", store, "Pulumi config secret", "cloudflare:apiToken");
  edge("you", "creates in the Cloudflare dashboard", "admin");
  edge("admin", "stored in", "adminStore");
  edge("adminStore", "read by", "pulumi");

  if (token === undefined) {
    node("worker", actor, `Worker ${facts.workerName}`);
    edge("pulumi", "uploads the code (codeDeployedBy: pulumi, no deploy token)", "worker");
  } else {
    const expiry = [
      ...(token.ttlDays === undefined ? [] : [`expires ${token.ttlDays} days into its rotation window`]),
      ...(options.dated && token.expiresOn !== undefined ? [`this one: ${token.expiresOn}`] : []),
    ];
    node(
      "deploy",
      credential,
      `deploy token ${DEPLOY_SECRET_NAME}`,
      `Cloudflare ${token.owner} API token, derived least privilege`,
      ...(expiry.length === 0 ? ["expires: expiresOn"] : expiry),
    );
    node(
      "deployStore",
      store,
      token.environment === undefined
        ? "GitHub Actions repository secret"
        : "GitHub Actions environment secret",
      token.environment === undefined
        ? token.repository
        : `${token.repository}, environment ${token.environment}`,
    );
    node("ci", actor, "the app's deploy workflow", "wrangler deploy");
    node("worker", actor, `Worker ${facts.workerName}`);
    edge("pulumi", "creates and rotates", "deploy");
    edge("deploy", "stored in", "deployStore");
    edge("deployStore", "read by", "ci");
    edge("ci", "uploads the code", "worker");
  }

  node("key", credential, `runtime key ${RUNTIME_KEY_NAME}`, "expires: as the provider sets it");
  node("keyStore", store, "Pulumi config secret", "scoped-edge:providerKey");
  node("workerSecret", store, `Worker secret binding ${RUNTIME_KEY_NAME}`, `on ${facts.workerName}`);
  edge("you", "creates at the LLM provider", "key");
  edge("key", "stored in", "keyStore");
  edge("keyStore", "read by", "pulumi");
  edge("pulumi", "writes", "workerSecret");
  edge("workerSecret", "read by", "worker");
  return `${lines.join("\n")}\n`;
}

/** A Markdown table cell: control characters escaped, pipes and newlines made harmless. */
function cell(value: string): string {
  return escapeControl(value).replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/`/g, "'");
}

function grantsTable(grants: readonly Grant[]): string[] {
  const permissions = [...new Set(grants.map((grant) => grant.permission))];
  const scopes = [...new Set(grants.map((grant) => grant.scope))];
  const mark = (permission: string, scope: string) =>
    grants
      .filter((grant) => grant.permission === permission && grant.scope === scope)
      .map((grant) => (grant.effect === "allow" ? "✓" : grant.effect === "deny" ? "✗" : "?"))
      .join("");
  return [
    `| permission | ${scopes.map(cell).join(" | ")} |`,
    `| --- |${scopes.map(() => " :---: |").join("")}`,
    ...permissions.map(
      (permission) =>
        `| ${cell(permission)} | ${scopes.map((scope) => mark(permission, scope)).join(" | ")} |`,
    ),
  ];
}

/** The plan as Markdown: verdict, findings, to-dos, the credential picture, grants, credentials. */
export function renderMarkdown(report: PlanReport, options: RenderOptions = {}): string {
  const counts = countsOf(report);
  const out: string[] = [];
  out.push(`## Plan for stack \`${cell(report.stack)}\`: ${counts.mandatory > 0 ? "❌" : "✅"}`);
  out.push("");
  out.push(cell(verdictLine(report)));
  out.push("");
  out.push(`Planned offline at ${cell(report.now)} with policy config \`${cell(report.policyConfigFile)}\`.`);

  const violations = orderedViolations(report.violations);
  if (violations.length > 0) {
    out.push("");
    out.push("| level | policy | resource | finding | fix |");
    out.push("| --- | --- | --- | --- | --- |");
    for (const violation of violations) {
      const resource = report.resources.find((candidate) => candidate.urn === violation.resource);
      out.push(
        `| ${violation.level} | ${cell(violation.policy)} | ` +
          `${resource === undefined ? "the stack" : cell(`${resource.name} (${shortType(resource.type)})`)} | ` +
          `${cell(violation.message.replace(/\n/g, " "))} | ${cell(newRemediation(violation) ?? "")} |`,
      );
    }
  }

  if (report.missing.length > 0) {
    out.push("");
    out.push(`### Before a real pulumi up (${report.missing.length})`);
    out.push("");
    for (const item of report.missing) out.push(`- ${cell(missingWhat(item))}: ${cell(item.fix)}`);
  }

  out.push("");
  out.push("### Credentials");
  out.push("");
  out.push("```mermaid");
  out.push(credentialDiagram(credentialFacts(report), { dated: true }).trimEnd());
  out.push("```");
  out.push("");
  out.push("| credential | for | lives in | read by | expires | rotation |");
  out.push("| --- | --- | --- | --- | --- | --- |");
  for (const row of report.credentials) {
    out.push(
      `| ${[row.credential, row.purpose, row.livesIn, row.readBy, row.expires, row.rotation].map(cell).join(" | ")} |`,
    );
  }

  for (const token of report.resources.filter((resource) => TOKEN_TYPES.includes(resource.type))) {
    out.push("");
    out.push(`### Deploy token \`${cell(token.name)}\` grants`);
    out.push("");
    out.push(...grantsTable(grantsOf(token, options.zoneNames)));
  }
  return `${out.join("\n")}\n`;
}
