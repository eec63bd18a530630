/** tools/plan/report.ts: the JSON contract, the exit code and the text a person reads. Pure. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { SECRET_LOOKING } from "../../tools/plan/mask";
import {
  elide,
  exitCodeOf,
  grantsOf,
  grantTable,
  inPlanOrder,
  inputLines,
  MAX_WIDTH,
  newRemediation,
  policyMessage,
  renderHuman,
  shortType,
  toJsonDocument,
  wrap,
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
  it("holds the verdict, the violations (mandatory first, with remediation), to-dos, credentials, resources", () => {
    const full = report({
      violations: [{ ...violation("advisory"), resource: null }, violation("mandatory")],
    });
    const document = toJsonDocument(full);
    expect(document).toStrictEqual({
      stack: "qa",
      project: "scoped-edge",
      now: "2026-11-23T00:00:00Z",
      policyConfigFile: "policies/config/dev.json",
      result: { exitCode: 1, mandatory: 1, advisory: 1, toDo: 2, resources: 3 },
      violations: [
        {
          policy: "p-mandatory",
          level: "mandatory",
          message: "p-mandatory says no",
          remediation: "do better",
          resource: TOKEN_URN,
        },
        {
          policy: "p-advisory",
          level: "advisory",
          message: "p-advisory says no",
          remediation: "do better",
          resource: null,
        },
      ],
      missing: full.missing,
      credentials: full.credentials,
      resources: full.resources.map(({ urn, type, name, parent, inputs }) => ({
        urn,
        type,
        name,
        parent: parent ?? null,
        inputs,
      })),
      notes: full.notes,
    });
    expect(document.missing).not.toBe(full.missing);
  });

  it("escapes control characters in every string and hides secret-looking values", () => {
    const document = toJsonDocument(
      report({
        resources: [
          {
            urn: SCRIPT_URN,
            type: "cloudflare:index/workersScript:WorkersScript",
            name: "edge\u001b[8m",
            inputs: {
              bindings: [
                { name: "API_KEY", type: "plain_text", text: "not-obviously-a-key" },
                { name: "GREETING", type: "plain_text", text: "hi\nResult: forged" },
                { name: "LEAK", type: "plain_text", text: "sk-0123456789abcdef0123" },
              ],
              contentSha256: "f".repeat(64),
            },
          },
        ],
      }),
    );
    expect(document.resources[0]!.name).toBe("edge\\x1b[8m");
    expect(document.resources[0]!.inputs).toEqual({
      bindings: [
        { name: "API_KEY", type: "plain_text", text: SECRET_LOOKING },
        { name: "GREETING", type: "plain_text", text: "hi\\x0aResult: forged" },
        { name: "LEAK", type: "plain_text", text: SECRET_LOOKING },
      ],
      contentSha256: "f".repeat(64),
    });
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

describe("policyMessage and newRemediation", () => {
  it("strips the description the SDK prefixes, and nothing else", () => {
    expect(policyMessage("Tokens expire.\nThis one does not.", "Tokens expire.")).toBe("This one does not.");
    expect(policyMessage("Tokens expire.", "Tokens expire.")).toBe("Tokens expire.");
    expect(policyMessage("Tokens expire soon.\nx", "Tokens expire.")).toBe("Tokens expire soon.\nx");
    expect(policyMessage("Other\nmessage", "Tokens expire.")).toBe("Other\nmessage");
  });

  it("drops each remediation sentence the message already says, keeps the rest", () => {
    const message =
      "The token has no request-IP condition: a leaked copy works from any address. Set " +
      "condition.requestIp.ins to the CIDRs your CI egresses from (scoped-edge:tokenAllowedIps).";
    const base = { policy: "p", level: "advisory" as const, message, resource: null };
    expect(
      newRemediation({
        ...base,
        remediation:
          "Set condition.requestIp.ins to the CIDRs your CI egresses from (scoped-edge:x), or not.",
      }),
    ).toBeUndefined();
    expect(
      newRemediation({
        ...base,
        remediation: "Set condition.requestIp.ins to the CIDRs your CI egresses from. Also rotate the token.",
      }),
    ).toBe("Also rotate the token.");
    expect(newRemediation({ ...base, remediation: "Rotate the token." })).toBe("Rotate the token.");
    expect(newRemediation(base)).toBeUndefined();
  });
});

describe("text helpers", () => {
  it("wrap keeps every word, within MAX_WIDTH, with a hanging indent; escapes control characters", () => {
    const text = `${"word ".repeat(60)}${"x".repeat(150)} end\u001b`;
    const lines = wrap(text, "  - ", "    ");
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(MAX_WIDTH);
    expect(lines[0]!.startsWith("  - word")).toBe(true);
    expect(lines.slice(1).every((line) => line.startsWith("    "))).toBe(true);
    expect(
      lines
        .map((line) => line.trim().replace(/^- /, ""))
        .join(" ")
        .replace(/x x/g, "xx"),
    ).toContain("x".repeat(150));
    expect(lines.at(-1)!.endsWith("end\\x1b")).toBe(true);
  });

  it("elide cuts to the width and marks the cut", () => {
    expect(elide("abcdef", 6)).toBe("abcdef");
    expect(elide("abcdefg", 6)).toBe("abcde…");
  });

  it("shortType keeps package and type name", () => {
    expect(shortType("cloudflare:index/accountToken:AccountToken")).toBe("cloudflare:AccountToken");
    expect(shortType("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret")).toBe(
      "github:ActionsEnvironmentSecret",
    );
    expect(shortType("scoped-edge:cloudflare:EdgeWorker")).toBe("scoped-edge:cloudflare:EdgeWorker");
    expect(shortType("pulumi:providers:cloudflare")).toBe("pulumi:providers:cloudflare");
  });
});

describe("grants", () => {
  const A = "a".repeat(32);
  const zone = (n: number) => n.toString(16).padStart(32, "0");
  const token = (policies: unknown[]) => ({
    urn: TOKEN_URN,
    type: "cloudflare:index/accountToken:AccountToken",
    name: "deploy-token",
    inputs: { policies },
  });

  it("one row per permission, one column per scope, zones by name", () => {
    const grants = grantsOf(
      token([
        {
          effect: "allow",
          permissionGroups: [{ id: id("Workers Scripts Write") }],
          resources: JSON.stringify({ [`com.cloudflare.api.account.${A}`]: "*" }),
        },
        {
          effect: "allow",
          permissionGroups: [{ id: id("Workers Routes Write") }],
          resources: JSON.stringify({
            [`com.cloudflare.api.account.zone.${zone(1)}`]: "*",
            [`com.cloudflare.api.account.zone.${zone(2)}`]: "*",
          }),
        },
      ]),
      new Map([[zone(1), "example.com"]]),
    );
    expect(grantTable(grants, "  ")).toEqual([
      `  permission             account  example.com  zone …000002`,
      "  Workers Scripts Write  ✓",
      "  Workers Routes Write            ✓            ✓",
    ]);
  });

  it("falls back to one line per permission when the columns would not fit", () => {
    const zones = Array.from({ length: 12 }, (_, index) => zone(index + 1));
    const names = new Map(zones.map((z, index) => [z, `zone-number-${index}.example.com`]));
    const lines = grantTable(
      grantsOf(
        token([
          {
            effect: "allow",
            permissionGroups: [{ id: id("Workers Routes Write") }],
            resources: JSON.stringify(
              Object.fromEntries(zones.map((z) => [`com.cloudflare.api.account.zone.${z}`, "*"])),
            ),
          },
        ]),
        names,
      ),
      "  ",
    );
    expect(lines[0]).toBe("  Workers Routes Write: zone-number-0.example.com, zone-number-1.example.com,");
    expect(lines.every((line) => [...line].length <= MAX_WIDTH)).toBe(true);
    expect(lines.join(" ")).toContain("zone-number-11.example.com");
  });
});

describe("inputLines", () => {
  it("counts a token's policies (the grants are a table) and shows bindings by name and type", () => {
    expect(inputLines(report().resources[1]!)).toEqual([
      "accountId: a001",
      "policies: 1 (grants in the table above; full value in --json)",
    ]);
    expect(inputLines(report().resources[2]!, 40)).toEqual([
      "bindings:",
      "  KV (kv_namespace) -> ns1",
      "  PROVIDER_KEY (secret_text) = [secret]",
      "  BUCKET (r2_bucket) -> assets",
      "  AI (ai)",
      `content: ${"x".repeat(30)}…`,
    ]);
  });
});

describe("renderHuman", () => {
  it("renders the whole plan: verdict first, mandatory before advisory, resources last", () => {
    expect(renderHuman(report({ violations: [violation("advisory"), violation("mandatory")] }))).toBe(
      EXPECTED_WHOLE_PLAN,
    );
  });

  it("says when there is nothing to report, and labels stack-wide and unknown resources", () => {
    const clean = renderHuman(report({ violations: [], missing: [], notes: [] }));
    expect(clean.split("\n")[0]).toBe(
      "Result: no mandatory violation · 0 advisory · 0 to do before pulumi up",
    );
    expect(clean).toContain("\nMandatory violations: none.\n\nAdvisory: none.\n");
    expect(clean).toContain("\nBefore a real pulumi up: nothing left to set.\n");
    expect(clean).not.toContain("note:");

    const labelled = renderHuman(
      report({
        violations: [
          { policy: "stack-wide", level: "advisory", message: "line one\nline two", resource: null },
          { policy: "elsewhere", level: "remediate", message: "m", resource: "urn:other" },
        ],
      }),
    );
    expect(labelled).toContain("\nAdvisory (2):\n  elsewhere on urn:other [remediate]\n    m\n");
    expect(labelled).toContain("  stack-wide on the stack\n    line one\n    line two\n");
  });

  it("a value cannot forge a line or a terminal escape", () => {
    const text = renderHuman(
      report({
        resources: [
          {
            urn: SCRIPT_URN,
            type: "cloudflare:index/workersRoute:WorkersRoute",
            name: "route",
            inputs: { pattern: "api.example.dev/*\nResult: no mandatory violation.\u001b[8m" },
          },
        ],
        violations: [violation("mandatory")],
      }),
    );
    for (const raw of ["\u001b", "\r"]) expect(text).not.toContain(raw);
    expect(text.split("\n").filter((line) => line.startsWith("Result:"))).toHaveLength(1);
    expect(text).toContain("pattern: api.example.dev/*\\x0aResult: no mandatory violation.\\x1b[8m");
  });
});

/** What a person reads for the fixture, line by line. */
const EXPECTED_WHOLE_PLAN = [
  "Result: 1 mandatory violation(s): pulumi up would stop · 1 advisory · 2 to do before pulumi up",
  'Stack "qa" (scoped-edge) at 2026-11-23T00:00:00Z, policy config policies/config/dev.json; offline:',
  "  Pulumi's mock runtime and the pack's own policies.",
  "",
  "Mandatory violations (1):",
  "  p-mandatory on deploy-token (cloudflare:AccountToken)",
  "    p-mandatory says no",
  "    fix: do better",
  "",
  "Advisory (1):",
  "  p-advisory on deploy-token (cloudflare:AccountToken)",
  "    p-advisory says no",
  "    fix: do better",
  "",
  "Before a real pulumi up (2):",
  '  - github:token is not set (planned with a "[secret]" stand-in)',
  "    fix: set it",
  "  - scoped-edge:zones[0].id is the placeholder id 0000000000000000000000000000d001",
  "    fix: replace it",
  "",
  "Deploy token deploy-token grants (✓ allow, ✗ deny):",
  "  permission                     com.cloudflare.api.acco…",
  "  Workers Scripts Write          ✓",
  "  unknown permission group ffff  ✓",
  "",
  "Credentials (1):",
  "  deploy token",
  "    for:      deploys",
  "    lives in: GitHub",
  "    read by:  CI",
  "    expires:  2026-12-18T00:00:00Z",
  "    rotation: every 30 days",
  "",
  "Resources pulumi up would create (3; full inputs in --json):",
  "  scoped-edge-qa  pulumi:pulumi:Stack",
  "  ├─ deploy-token  cloudflare:AccountToken",
  "  │       accountId: a001",
  "  │       policies: 1 (grants in the table above; full value in --json)",
  "  └─ edge-script  cloudflare:WorkersScript",
  "          bindings:",
  "            KV (kv_namespace) -> ns1",
  "            PROVIDER_KEY (secret_text) = [secret]",
  "            BUCKET (r2_bucket) -> assets",
  "            AI (ai)",
  "          content: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…",
  "",
  'note: x.json configures "nope", which is not a policy of the pack',
  "",
].join("\n");

describe("inPlanOrder", () => {
  const urn = (type: string, name: string) => `urn:pulumi:qa::scoped-edge::${type}::${name}`;
  const resource = (type: string, name: string, parent?: string) => ({
    urn: urn(type, name),
    type,
    name,
    ...(parent === undefined ? {} : { parent }),
    inputs: {},
  });
  const EDGE = urn("scoped-edge:cloudflare:EdgeWorker", "edge");
  // In one registration order; a dynamic resource's place in it varies from run to run.
  const registered = [
    resource("pulumi:pulumi:Stack", "scoped-edge-qa"),
    resource("scoped-edge:cloudflare:EdgeWorker", "edge", STACK_URN),
    resource("pulumi:providers:cloudflare", "default_6_22_1"),
    resource("cloudflare:index/workersKvNamespace:WorkersKvNamespace", "edge-kv", EDGE),
    resource("cloudflare:index/workersScript:WorkersScript", "edge-script", EDGE),
    resource("pulumi:providers:pulumi-nodejs", "default"),
    resource("pulumi-nodejs:dynamic/scoped-edge:WorkerSecret", "edge-provider-key", EDGE),
    resource("scoped-edge:cloudflare:DeployToken", "deploy", STACK_URN),
    resource(
      "cloudflare:index/accountToken:AccountToken",
      "deploy-token",
      urn("scoped-edge:cloudflare:DeployToken", "deploy"),
    ),
  ];
  const EXPECTED = [
    "scoped-edge-qa",
    "deploy",
    "deploy-token",
    "edge",
    "edge-kv",
    "edge-provider-key",
    "edge-script",
    "default",
    "default_6_22_1",
  ];

  it("tree order: the stack, then the other roots; each resource followed by its children, by name", () => {
    expect(inPlanOrder(registered).map((r) => r.name)).toEqual(EXPECTED);
  });

  it("the same order whatever the registration order", () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(registered, { minLength: registered.length }), (shuffled) => {
        expect(inPlanOrder(shuffled).map((r) => r.name)).toEqual(EXPECTED);
      }),
    );
  });
});
