/** tools/plan/report.ts: the JSON contract, the exit code and the text a person reads. Pure. */
import { describe, expect, it } from "vitest";

import {
  exitCodeOf,
  inputLines,
  policyMessage,
  renderHuman,
  toJsonDocument,
  type PlanReport,
  type PlanViolation,
} from "../../tools/plan/report";
import { permissionByName } from "../../policies/lib/permission-catalog";

const STACK_URN = "urn:pulumi:qa::scoped-edge::pulumi:pulumi:Stack::scoped-edge-qa";
const TOKEN_URN = "urn:pulumi:qa::scoped-edge::cloudflare:index/accountToken:AccountToken::deploy-token";
const SCRIPT_URN = "urn:pulumi:qa::scoped-edge::cloudflare:index/workersScript:WorkersScript::edge-script";
const id = (name: string) => permissionByName(name)!.id;

const violation = (level: PlanViolation["level"], policy = `p-${level}`): PlanViolation => ({
  policy,
  level,
  message: `${policy} says no`,
  resource: TOKEN_URN,
  remediation: "do better",
});

function report(overrides: Partial<PlanReport> = {}): PlanReport {
  return {
    project: "scoped-edge",
    stack: "qa",
    now: "2026-11-23T00:00:00Z",
    policyConfigFile: "policies/config/dev.json",
    resources: [
      { urn: STACK_URN, type: "pulumi:pulumi:Stack", name: "scoped-edge-qa", inputs: {} },
      {
        urn: TOKEN_URN,
        type: "cloudflare:index/accountToken:AccountToken",
        name: "deploy-token",
        parent: STACK_URN,
        inputs: {
          accountId: "a001",
          policies: [
            {
              effect: "allow",
              permissionGroups: [{ id: id("Workers Scripts Write") }, { id: "ffff" }],
              resources: '{"com.cloudflare.api.account.a001":"*"}',
            },
          ],
        },
      },
      {
        urn: SCRIPT_URN,
        type: "cloudflare:index/workersScript:WorkersScript",
        name: "edge-script",
        parent: STACK_URN,
        inputs: {
          bindings: [
            { name: "KV", type: "kv_namespace", namespaceId: "ns1" },
            { name: "PROVIDER_KEY", type: "secret_text", text: "[secret]" },
            { name: "BUCKET", type: "r2_bucket", bucketName: "assets" },
            { name: "AI", type: "ai" },
          ],
          content: "x".repeat(101),
        },
      },
    ],
    violations: [violation("advisory")],
    missing: [
      { key: "github:token", kind: "secret", fix: "set it" },
      {
        key: "scoped-edge:zones[0].id",
        kind: "placeholder-id",
        value: "0".repeat(28) + "d001",
        fix: "replace it",
      },
    ],
    credentials: [
      {
        credential: "deploy token",
        purpose: "deploys",
        livesIn: "GitHub",
        readBy: "CI",
        expires: "2026-12-18T00:00:00Z",
        rotation: "every 30 days",
      },
    ],
    notes: ['x.json configures "nope", which is not a policy of the pack'],
    ...overrides,
  };
}

describe("toJsonDocument", () => {
  it("keeps exactly stack, resources {type, name, inputs}, violations {policy, level, message, resource}, missing", () => {
    const full = report({
      violations: [violation("mandatory"), { ...violation("advisory"), resource: null }],
    });
    const document = toJsonDocument(full);
    expect(document).toStrictEqual({
      stack: "qa",
      resources: full.resources.map(({ type, name, inputs }) => ({ type, name, inputs })),
      violations: [
        { policy: "p-mandatory", level: "mandatory", message: "p-mandatory says no", resource: TOKEN_URN },
        { policy: "p-advisory", level: "advisory", message: "p-advisory says no", resource: null },
      ],
      missing: full.missing,
    });
    expect(document.missing).not.toBe(full.missing);
  });
});

describe("exitCodeOf", () => {
  it("is 1 only when some violation is mandatory", () => {
    expect(exitCodeOf(report({ violations: [] }))).toBe(0);
    expect(
      exitCodeOf(
        report({ violations: [violation("advisory"), violation("remediate"), violation("disabled")] }),
      ),
    ).toBe(0);
    expect(exitCodeOf(report({ violations: [violation("advisory"), violation("mandatory")] }))).toBe(1);
  });
});

describe("policyMessage", () => {
  it("strips the description the SDK prefixes, and nothing else", () => {
    expect(policyMessage("Tokens expire.\nThis one does not.", "Tokens expire.")).toBe("This one does not.");
    expect(policyMessage("Tokens expire.", "Tokens expire.")).toBe("Tokens expire.");
    expect(policyMessage("Tokens expire soon.\nx", "Tokens expire.")).toBe("Tokens expire soon.\nx");
    expect(policyMessage("Other\nmessage", "Tokens expire.")).toBe("Other\nmessage");
  });
});

describe("inputLines", () => {
  it("spells out a token's grants by permission name and its resources by key", () => {
    expect(inputLines(report().resources[1]!)).toEqual([
      "accountId: a001",
      "policies:",
      "  allow: Workers Scripts Write, unknown permission group ffff on com.cloudflare.api.account.a001",
    ]);
  });

  it("shows bindings by name and type, and long values by their length", () => {
    expect(inputLines(report().resources[2]!)).toEqual([
      "bindings:",
      "  KV (kv_namespace) -> ns1",
      "  PROVIDER_KEY (secret_text) = [secret]",
      "  BUCKET (r2_bucket) -> assets",
      "  AI (ai)",
      "content: [101 characters]",
    ]);
  });
});

describe("renderHuman", () => {
  it("renders the whole plan", () => {
    expect(renderHuman(report({ violations: [violation("mandatory"), violation("advisory")] }))).toBe(
      [
        'Offline plan for stack "qa" (project scoped-edge)',
        "  at 2026-11-23T00:00:00Z; policy config policies/config/dev.json",
        "  No cloud, no credentials, no Pulumi CLI: Pulumi's mock runtime and the policy pack's own policies.",
        "",
        "Resources pulumi up would create (3):",
        "  pulumi:pulumi:Stack  scoped-edge-qa",
        "  ├─ cloudflare:index/accountToken:AccountToken  deploy-token",
        "  │       accountId: a001",
        "  │       policies:",
        "  │         allow: Workers Scripts Write, unknown permission group ffff on com.cloudflare.api.account.a001",
        "  └─ cloudflare:index/workersScript:WorkersScript  edge-script",
        "          bindings:",
        "            KV (kv_namespace) -> ns1",
        "            PROVIDER_KEY (secret_text) = [secret]",
        "            BUCKET (r2_bucket) -> assets",
        "            AI (ai)",
        "          content: [101 characters]",
        "",
        "Credentials:",
        "  deploy token",
        "    for:      deploys",
        "    lives in: GitHub",
        "    read by:  CI",
        "    expires:  2026-12-18T00:00:00Z",
        "    rotation: every 30 days",
        "",
        "Policy violations (2: 1 mandatory, 1 other):",
        "  [mandatory] p-mandatory  (cloudflare:index/accountToken:AccountToken  deploy-token)",
        "    p-mandatory says no",
        "    remediation: do better",
        "  [advisory] p-advisory  (cloudflare:index/accountToken:AccountToken  deploy-token)",
        "    p-advisory says no",
        "    remediation: do better",
        "",
        "Before a real pulumi up:",
        '  - github:token is not set (planned with a "[secret]" stand-in)',
        "    fix: set it",
        "  - scoped-edge:zones[0].id is the placeholder id 0000000000000000000000000000d001",
        "    fix: replace it",
        'note: x.json configures "nope", which is not a policy of the pack',
        "",
        "Result: 1 mandatory violation(s); pulumi up with this policy pack would stop.",
        "",
      ].join("\n"),
    );
  });

  it("says when there is nothing to report, and labels stack-wide and unknown resources", () => {
    const clean = renderHuman(report({ violations: [], missing: [], notes: [] }));
    expect(clean).toContain("\nPolicy violations: none.\n");
    expect(clean).toContain("\nBefore a real pulumi up: nothing left to set.\n");
    expect(clean.endsWith("\nResult: no mandatory violation.\n")).toBe(true);
    expect(clean).not.toContain("note:");

    const labelled = renderHuman(
      report({
        violations: [
          { policy: "stack-wide", level: "advisory", message: "line one\nline two", resource: null },
          { policy: "elsewhere", level: "advisory", message: "m", resource: "urn:other" },
        ],
      }),
    );
    expect(labelled).toContain("  [advisory] stack-wide  (the stack)\n    line one\n    line two\n");
    expect(labelled).toContain("  [advisory] elsewhere  (urn:other)\n    m\n");
    expect(labelled).toContain("Policy violations (2: 0 mandatory, 2 other):");
  });
});
