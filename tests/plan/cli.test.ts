/**
 * The plan CLI (tools/plan/main.ts) in process: arguments (node:util parseArgs), JSON on every exit
 * (checked against docs/plan.schema.json with ajv), exit codes, the text a person reads first,
 * secret masking and control-character escaping in every output.
 */
import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { DEFAULT_STACK, errorDocument, parseArgs, parseNow, USAGE, UsageError } from "../../tools/plan/main";
import { DYNAMIC_PROVIDER_PLACEHOLDER, SECRET_LOOKING } from "../../tools/plan/mask";
import {
  committedStack,
  expectSchemaValid,
  jsonOutput,
  NOW,
  onlyOf,
  removeTempRoots,
  REPO,
  runCli,
  tempRoot,
  TYPES,
  wideLines,
  type CliRun,
  type JsonPlan,
} from "./helpers";

afterAll(removeTempRoots);

const A001 = "0000000000000000000000000000a001";
const D001 = "0000000000000000000000000000d001";
const IP_POLICY = "cloudflare-token-require-ip-restriction";
const DEV_TOKEN_URN =
  "urn:pulumi:dev::scoped-edge::scoped-edge:cloudflare:DeployToken$cloudflare:index/accountToken:AccountToken::deploy-token";
const COMMITTED = ["dev", "staging", "prod"] as const;

interface ErrorJson {
  error?: { key: string; problem: string; fix: string };
  errors?: { key: string; problem: string; fix: string }[];
}
const problemsOf = (document: ErrorJson) => document.errors ?? (document.error ? [document.error] : []);
const mandatory = (document: JsonPlan) => document.violations.filter((v) => v.level === "mandatory");

describe("parseArgs (node:util) and parseNow", () => {
  const clock = () => new Date("2030-01-02T03:04:05Z");

  it("defaults to the dev stack, text output, the clock's time and the repository root", () => {
    expect(parseArgs([], clock)).toEqual({
      stack: DEFAULT_STACK,
      format: "text",
      now: new Date("2030-01-02T03:04:05Z"),
      root: REPO,
      help: false,
    });
    expect(DEFAULT_STACK).toBe("dev");
  });

  it("reads every option, in both --flag value and --flag=value forms, and resolves paths", () => {
    expect(
      parseArgs(
        ["--stack=prod", "--json", "--now", "2026-11-23", "--policy-config", "x.json", "--root=some/dir"],
        clock,
      ),
    ).toEqual({
      stack: "prod",
      format: "json",
      now: new Date("2026-11-23T00:00:00Z"),
      policyConfig: resolve("x.json"),
      root: resolve("some/dir"),
      help: false,
    });
    expect(parseArgs(["--markdown"], clock).format).toBe("markdown");
    expect(parseArgs(["-h"], clock).help).toBe(true);
    expect(parseArgs(["--help"], clock).help).toBe(true);
  });

  it.each([
    [["--stack"], "--stack", "needs a value"],
    [["--stack", "--json"], "--stack", "needs a value"],
    [["--now="], "--now", "needs a value"],
    [["--root", ""], "--root", "needs a value"],
    [["--bogus"], "--bogus", "Unknown option '--bogus'"],
    [["dev"], "arguments", "Unexpected argument 'dev'"],
    [["--json", "--markdown"], "--json", "cannot be combined with --markdown"],
  ])("refuses %j, naming %s", (argv, key, problem) => {
    let thrown: unknown;
    try {
      parseArgs(argv, clock);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as UsageError).key).toBe(key);
    expect((thrown as UsageError).problem).toContain(problem);
    expect((thrown as UsageError).fix).not.toBe("");
  });

  it("accepts ISO-8601 dates and instants with Z or an offset", () => {
    expect(parseNow("2026-11-23").toISOString()).toBe("2026-11-23T00:00:00.000Z");
    expect(parseNow("2026-11-23T10:30Z").toISOString()).toBe("2026-11-23T10:30:00.000Z");
    expect(parseNow("2026-11-23T10:30:15.250+02:00").toISOString()).toBe("2026-11-23T08:30:15.250Z");
  });

  it.each([
    "yesterday",
    "2026-11-23T10:30:00",
    "1795392000000",
    "2026-13-01",
    "2026-02-30",
    "2026-04-31T00:00:00Z",
  ])("refuses --now %s", (value) => {
    expect(() => parseNow(value)).toThrow(
      new UsageError("--now", `"${value}" is not an ISO-8601 instant`, "use e.g. --now 2026-11-23T00:00:00Z"),
    );
  });
});

describe("usage: exit 0 for --help; exit 2 for bad arguments, as JSON on stdout with --json", () => {
  it("--help and -h print the usage on stdout and exit 0", async () => {
    for (const flag of ["--help", "-h"]) {
      expect(await runCli([flag])).toEqual({ code: 0, stdout: `${USAGE}\n`, stderr: "" });
    }
    expect(wideLines(USAGE)).toEqual([]);
  });

  it.each([
    [["--bogus"], "--bogus"],
    [["--now", "yesterday"], "--now"],
    [["--now", "2026-02-30"], "--now"],
    [["--stack"], "--stack"],
  ])("%j: exit 2, key, problem and fix on stderr; nothing on stdout", async (argv, key) => {
    const run = await runCli(argv);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(new RegExp(`^plan: ${key}: .+\\n  fix: .+\\n\\n`));
    expect(run.stderr.endsWith(`${USAGE}\n`)).toBe(true);

    const json = await runCli([...argv, "--json"]);
    expect(json.code).toBe(2);
    const document = jsonOutput<ErrorJson>(json);
    expect(Object.keys(document)).toEqual(["error"]);
    expect(document.error!.key).toBe(key);
  });

  it("an unknown stack: exit 2, the stacks the root has, and how to start one", async () => {
    const run = await runCli(["--stack", "nope", "--json"]);
    expect(run.code).toBe(2);
    expect(jsonOutput<ErrorJson>(run)).toEqual({
      error: {
        key: "--stack",
        problem: `no stack file Pulumi.nope.yaml in ${REPO}; stacks in ${REPO}: dev, prod, staging`,
        fix: "npm run new-stack -- --name nope --environment <dev|staging|prod>, or pass one of: dev, prod, staging",
      },
    });
    const root = tempRoot({ alpha: committedStack("dev"), beta: committedStack("prod") });
    const text = await runCli(["--stack", "dev", "--root", root]);
    expect(text.code).toBe(2);
    expect(text.stdout).toBe("");
    expect(text.stderr).toContain(`stacks in ${root}: alpha, beta\n`);
  });

  it("a stack name that is not file-safe exits 2", async () => {
    const run = await runCli(["--stack", "../etc", "--json"]);
    expect(run.code).toBe(2);
    expect(jsonOutput<ErrorJson>(run).error).toEqual({
      key: "Pulumi.../etc.yaml",
      problem: `stack name "../etc" may contain only letters, digits, '-', '_' and '.'`,
      fix: "correct Pulumi.../etc.yaml, then run npm run plan -- --stack ../etc",
    });
  });

  it("errorDocument: one problem as error, several as errors, control characters escaped", () => {
    const problem = { key: "k\u001b", problem: "p\n", fix: "f" };
    expect(errorDocument([problem])).toEqual({ error: { key: "k\\x1b", problem: "p\\x0a", fix: "f" } });
    expect(errorDocument([problem, problem])).toEqual({
      errors: [
        { key: "k\\x1b", problem: "p\\x0a", fix: "f" },
        { key: "k\\x1b", problem: "p\\x0a", fix: "f" },
      ],
    });
    expectSchemaValid(errorDocument([problem, problem]));
  });
});

describe("committed stacks: exit 0, a schema-valid document, a plan that reads at a glance", () => {
  // Each stack's JSON plan, run once for the file: the tests below read it in any order.
  const jsonRuns = new Map<string, CliRun>();
  const documents = new Map<string, JsonPlan>();
  beforeAll(async () => {
    for (const stack of COMMITTED) {
      const run = await runCli(["--stack", stack, "--json", "--now", NOW]);
      jsonRuns.set(stack, run);
      documents.set(stack, JSON.parse(run.stdout) as JsonPlan);
    }
  });

  it.each(COMMITTED)("%s: JSON", (stack) => {
    const run = jsonRuns.get(stack)!;
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const document = jsonOutput(run);
    expect(document.stack).toBe(stack);
    expect(document.now).toBe(NOW);
    expect(mandatory(document)).toEqual([]);
    expect(document.result).toEqual({
      exitCode: 0,
      mandatory: 0,
      advisory: document.violations.length,
      toDo: document.missing.length,
      resources: document.resources.length,
    });
    // The one finding on every committed stack: no IP restriction, advisory, with its remediation.
    expect(document.violations.map(({ policy, level }) => ({ policy, level }))).toEqual([
      { policy: IP_POLICY, level: "advisory" },
    ]);
    expect(document.violations[0]!.remediation).toContain("condition.requestIp.ins");
    // The credentials table is in the document: the admin credential, the deploy token, the runtime key.
    expect(document.credentials.map((row) => row.credential)).toEqual([
      "admin credential (cloudflare:apiToken)",
      "deploy token (CLOUDFLARE_API_TOKEN)",
      "runtime key (PROVIDER_KEY)",
    ]);
  });

  it.each(COMMITTED)(
    "%s: text within 100 columns, verdict first, mandatory before advisory",
    async (stack) => {
      const run = await runCli(["--stack", stack, "--now", NOW]);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe("");
      expect(wideLines(run.stdout)).toEqual([]);
      const lines = run.stdout.split("\n");
      const document = documents.get(stack)!;
      expect(lines[0]).toBe(
        `Result: no mandatory violation · 1 advisory · ${document.missing.length} to do before pulumi up`,
      );
      const heading = (prefix: string) => lines.findIndex((line) => line.startsWith(prefix));
      const order = [
        heading("Mandatory violations"),
        heading("Advisory"),
        heading("Before a real pulumi up"),
        heading("Deploy token deploy-token grants"),
        heading("Credentials ("),
        heading("Resources pulumi up would create"),
      ];
      expect(order.every((index) => index > 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(lines.filter((line) => line.startsWith("Result:"))).toHaveLength(1);
      // Each message once: the remediation repeats the message's sentence, so no second copy.
      expect(run.stdout.replace(/\s+/g, " ").split("Set condition.requestIp.ins").length - 1).toBe(1);
      expect(run.stdout).not.toContain("scoped-edge: scoped-edge:");
    },
  );

  it.each(COMMITTED)(
    "%s: Markdown holds the verdict, the credential picture and the tables",
    async (stack) => {
      const run = await runCli(["--stack", stack, "--markdown", "--now", NOW]);
      expect(run.code).toBe(0);
      expect(run.stdout.split("\n").slice(0, 3)).toEqual([
        `## Plan for stack \`${stack}\`: ✅`,
        "",
        expect.stringMatching(/^Result: no mandatory violation · 1 advisory · /) as unknown as string,
      ]);
      expect(run.stdout).toContain("\n```mermaid\nflowchart LR\n");
      expect(run.stdout).toContain("\n| credential | for | lives in | read by | expires | rotation |\n");
    },
  );

  it("dev: the grants table names the zone, the tree shows short types, full values stay in --json", async () => {
    const run = await runCli(["--stack", "dev", "--now", NOW]);
    expect(run.stdout).toMatch(
      /\n {2}│ {2}├─ edge-route-api-example-dev-a44707 {2}cloudflare:WorkersRoute\n/,
    );
    expect(run.stdout).toMatch(/content: .{10,}…\n/);
    const dev = documents.get("dev")!;
    const script = onlyOf(dev.resources, TYPES.script);
    expect((script.inputs["content"] as string).length).toBeGreaterThan(1000);
    const token = onlyOf(dev.resources, TYPES.accountToken);
    expect(token.inputs["accountId"]).toBe(A001);
    expect(token.parent).toBe(
      "urn:pulumi:dev::scoped-edge::pulumi:pulumi:Stack$scoped-edge:cloudflare:DeployToken::deploy",
    );
    expect(dev.violations[0]!.resource).toBe(DEV_TOKEN_URN);
  });

  it("dev: two runs print the same plan; the dynamic provider's source reads as a placeholder", async () => {
    for (const format of [[], ["--json"], ["--markdown"]]) {
      const [first, second] = [
        await runCli(["--stack", "dev", "--now", NOW, ...format]),
        await runCli(["--stack", "dev", "--now", NOW, ...format]),
      ];
      expect(second).toEqual(first);
    }
    const dev = documents.get("dev")!;
    const workerSecret = onlyOf(dev.resources, "pulumi-nodejs:dynamic/scoped-edge:WorkerSecret");
    expect(workerSecret.inputs["__provider"]).toBe(DYNAMIC_PROVIDER_PLACEHOLDER);
    // Default providers are listed as the engine creates them, the dynamic resources' one included.
    expect(dev.resources.filter((r) => r.parent === null).map((r) => `${r.type}::${r.name}`)).toEqual([
      "pulumi:pulumi:Stack::scoped-edge-dev",
      "pulumi:providers:pulumi-nodejs::default",
      "pulumi:providers:random::default_4_21_2",
      "pulumi:providers:cloudflare::default_6_22_1",
    ]);
  });

  it("missing: dev lists its three secrets (entered at a prompt), then the placeholder ids", () => {
    expect(documents.get("dev")!.missing).toEqual([
      {
        key: "scoped-edge:providerKey",
        kind: "secret",
        fix: "pulumi config set --secret scoped-edge:providerKey --stack dev (paste <LLM provider key> when prompted)",
      },
      {
        key: "cloudflare:apiToken",
        kind: "secret",
        fix:
          'pulumi config set --secret cloudflare:apiToken --stack dev (paste <admin account token with "Account ' +
          'API Tokens Write" and the rest the credentials table lists> when prompted; or export CLOUDFLARE_API_TOKEN for the pulumi step)',
      },
      {
        key: "github:token",
        kind: "secret",
        fix:
          "pulumi config set --secret github:token --stack dev (paste <token that can write Actions secrets> " +
          "when prompted; or export GITHUB_TOKEN for the pulumi step)",
      },
      {
        key: "scoped-edge:accountId",
        kind: "placeholder-id",
        value: A001,
        fix: `replace ${A001} with your account id in Pulumi.dev.yaml (dashboard: a domain's Overview page, API section: Account ID)`,
      },
      {
        key: "scoped-edge:zones[0].id",
        kind: "placeholder-id",
        value: D001,
        fix: `replace ${D001} with the zone id of example.dev in Pulumi.dev.yaml (dashboard: the domain's Overview page, API section: Zone ID)`,
      },
    ]);
  });

  it("tokenOwner user: the to-do asks for API Tokens Write, not Account API Tokens Write", async () => {
    const root = tempRoot({ dev: `${committedStack("dev")}  scoped-edge:tokenOwner: user\n` });
    const run = await runCli(["--stack", "dev", "--root", root, "--json", "--now", NOW]);
    const document = jsonOutput(run);
    const admin = document.missing.find((item) => item.key === "cloudflare:apiToken")!;
    expect(admin.fix).toContain('<admin user token with "API Tokens Write" and the rest');
    expect(admin.fix).not.toContain("Account API Tokens Write");
  });
});

describe("exit 1: a mandatory violation stops the plan", () => {
  it("a token permission outside staging's allow-list: mandatory first in every output", async () => {
    const extra = "  scoped-edge:extraPermissions:\n    - Workers Tail Read\n";
    const root = tempRoot({ staging: committedStack("staging") + extra });
    const args = ["--stack", "staging", "--root", root, "--now", NOW];
    const json = await runCli([...args, "--json"]);
    expect(json.code).toBe(1);
    const document = jsonOutput(json);
    expect(document.result.exitCode).toBe(1);
    const levels = document.violations.map((violation) => violation.level);
    expect(levels.indexOf("advisory")).toBeGreaterThan(levels.lastIndexOf("mandatory"));
    for (const violation of mandatory(document)) expect(violation.remediation).not.toBeNull();

    const text = await runCli(args);
    expect(text.code).toBe(1);
    expect(wideLines(text.stdout)).toEqual([]);
    expect(text.stdout.split("\n")[0]).toMatch(
      /^Result: \d+ mandatory violation\(s\): pulumi up would stop · 1 advisory · /,
    );
    expect(text.stdout.indexOf("Mandatory violations (")).toBeLessThan(text.stdout.indexOf("Advisory ("));
    const markdown = await runCli([...args, "--markdown"]);
    expect(markdown.code).toBe(1);
    expect(markdown.stdout.split("\n")[0]).toBe("## Plan for stack `staging`: ❌");
  });
});

describe("exit 2: bad config names key, problem and fix; JSON on stdout with --json", () => {
  it("a malformed zone id", async () => {
    const root = tempRoot({ dev: committedStack("dev").replace(`id: ${D001}`, "id: not-a-zone") });
    const text = await runCli(["--stack", "dev", "--root", root, "--now", NOW]);
    expect(text.code).toBe(2);
    expect(text.stdout).toBe("");
    expect(text.stderr).toMatch(/^plan: scoped-edge:zones\[0\]\.id: .+\n {2}fix: .+\n$/);
    const json = await runCli(["--stack", "dev", "--root", root, "--now", NOW, "--json"]);
    expect(json.code).toBe(2);
    const [problem, ...others] = problemsOf(jsonOutput<ErrorJson>(json));
    expect(others).toEqual([]);
    expect(problem!.key).toBe("scoped-edge:zones[0].id");
    expect(problem!.fix).toContain("scoped-edge:zones[0].id");
  });

  it("several bad keys: {errors: [...]}, one per key", async () => {
    const root = tempRoot({
      dev: committedStack("dev")
        .replace(`id: ${D001}`, "id: not-a-zone")
        .replace("rotationDays: 30", "rotationDays: -1"),
    });
    const run = await runCli(["--stack", "dev", "--root", root, "--now", NOW, "--json"]);
    expect(run.code).toBe(2);
    const document = jsonOutput<ErrorJson>(run);
    expect(document.errors!.map((problem) => problem.key)).toEqual(
      expect.arrayContaining(["scoped-edge:zones[0].id", "scoped-edge:rotationDays"]),
    );
  });

  it("a policy config that breaks a policy's schema: one problem per key, naming value, rule and file", async () => {
    const dev = JSON.parse(readFileSync(join(REPO, "policies", "config", "dev.json"), "utf8")) as Record<
      string,
      Record<string, unknown>
    >;
    dev["cloudflare-token-enforce-expiry"]!["maxTtlDays"] = 1.5;
    dev["cloudflare-token-require-rotation-headroom"]!["rotationDays"] = "30";
    const root = tempRoot({}, { "bad.json": JSON.stringify(dev) });
    const file = join(root, "bad.json");
    const args = ["--stack", "dev", "--policy-config", file, "--now", NOW];
    const json = await runCli([...args, "--json"]);
    expect(json.code).toBe(2);
    expect(problemsOf(jsonOutput<ErrorJson>(json))).toEqual([
      {
        key: "cloudflare-token-enforce-expiry.maxTtlDays",
        problem: `is 1.5 in ${file}; it must be an integer`,
        fix: `correct cloudflare-token-enforce-expiry.maxTtlDays in ${file}; it must match {"type":"integer","minimum":1,"maximum":3650}`,
      },
      {
        key: "cloudflare-token-require-rotation-headroom.rotationDays",
        problem: `is "30" in ${file}; it must be an integer`,
        fix: `correct cloudflare-token-require-rotation-headroom.rotationDays in ${file}; it must match {"type":"integer","minimum":1,"maximum":3650}`,
      },
    ]);
    const text = await runCli(args);
    expect(text.code).toBe(2);
    expect(text.stdout).toBe("");
    expect(text.stderr.split("\n")[0]).toBe(
      `plan: cloudflare-token-enforce-expiry.maxTtlDays: is 1.5 in ${file}; it must be an integer`,
    );
  });

  it("a policy config that is missing or not JSON", async () => {
    const root = tempRoot({}, { "broken.json": "{nope" });
    for (const file of ["absent.json", "broken.json"]) {
      const run = await runCli([
        "--stack",
        "dev",
        "--policy-config",
        join(root, file),
        "--now",
        NOW,
        "--json",
      ]);
      expect(run.code).toBe(2);
      const document = jsonOutput<ErrorJson>(run);
      expect(document.error!.key).toBe("--policy-config");
      expect(document.error!.problem).toContain(join(root, file));
    }
  });
});

describe("what the plan prints cannot leak a secret or forge a line", () => {
  const CIPHERTEXTS = ["v1:CIPHER-provider-7f3a", "v1:CIPHER-cftoken-9b2c", "v1:CIPHER-ghtoken-41de"];
  const secureStack = committedStack("dev").concat(
    `  scoped-edge:providerKey:\n    secure: ${CIPHERTEXTS[0]}\n`,
    `  cloudflare:apiToken:\n    secure: ${CIPHERTEXTS[1]}\n`,
    `  github:token:\n    secure: ${CIPHERTEXTS[2]}\n`,
  );

  it("secure: values stand in as [secret] in every output; the deploy token's value too", async () => {
    const root = tempRoot({ dev: secureStack });
    for (const format of [[], ["--json"], ["--markdown"]]) {
      const run = await runCli(["--stack", "dev", "--root", root, "--now", NOW, ...format]);
      expect(run.code).toBe(0);
      const output = run.stdout + run.stderr;
      expect(output).not.toContain("CIPHER");
      expect(output).not.toContain("offline-token");
    }
    const document = jsonOutput(await runCli(["--stack", "dev", "--root", root, "--json", "--now", NOW]));
    expect(onlyOf(document.resources, TYPES.envSecret).inputs["value"]).toBe("[secret]");
    expect(onlyOf(document.resources, TYPES.githubProvider).inputs["token"]).toBe("[secret]");
    expect(onlyOf(document.resources, TYPES.cloudflareProvider).inputs).toEqual({
      apiToken: "[secret]",
      version: "6.22.1",
    });
    expect(document.missing.map((item) => item.kind)).toEqual(["placeholder-id", "placeholder-id"]);
  });

  it("a key-looking plain var is never printed in full, whatever the plan decides", async () => {
    const key = "gsk_0123456789abcdefghijklmnopqrstuv";
    const root = tempRoot({
      dev: committedStack("dev").replace(
        "    ALLOWED_ORIGINS: https://www.example.dev\n",
        `    ALLOWED_ORIGINS: https://www.example.dev\n    PROVIDER_BASE_URL: https://api.example.dev/${key}\n`,
      ),
    });
    for (const format of [[], ["--json"], ["--markdown"]]) {
      const run = await runCli(["--stack", "dev", "--root", root, "--now", NOW, ...format]);
      expect([1, 2]).toContain(run.code);
      expect(run.stdout + run.stderr).not.toContain(key);
      expect(run.stdout + run.stderr).not.toContain("gsk_0123");
      if (run.code === 1 && format[0] === "--json") expect(run.stdout).toContain(SECRET_LOOKING);
    }
  });

  it("control characters in a value never reach any output raw, nor forge a Result line", async () => {
    const values = [
      "api.example.dev/*\nResult: no mandatory violation.",
      "api.example.dev/*\u001b[8m",
      "api.example.dev/\u202e*",
    ];
    for (const value of values) {
      const root = tempRoot({
        dev: committedStack("dev").replace(
          "        - api.example.dev/*\n",
          `        - ${JSON.stringify(value)}\n`,
        ),
      });
      for (const format of [[], ["--json"], ["--markdown"]]) {
        const run = await runCli(["--stack", "dev", "--root", root, "--now", NOW, ...format]);
        const output = run.stdout + run.stderr;
        for (const raw of ["\u001b", "\u202e", "\r"]) expect(output).not.toContain(raw);
        expect(output.split("\n").filter((line) => line.startsWith("Result:")).length).toBeLessThanOrEqual(1);
        expect(output).not.toContain("\nResult: no mandatory violation.");
      }
    }
  });
});

describe("any stack file plans", () => {
  it("a custom stack is judged by its environment's policy config by default", async () => {
    const root = tempRoot({ "eu-canary": committedStack("prod") });
    const run = await runCli(["--stack", "eu-canary", "--root", root, "--json", "--now", NOW]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const document = jsonOutput(run);
    expect(document.stack).toBe("eu-canary");
    expect(document.policyConfigFile).toBe(relative(process.cwd(), join(REPO, "policies/config/prod.json")));
    expect(onlyOf(document.resources, TYPES.accountToken).inputs["name"]).toMatch(
      /^scoped-edge-eu-canary-deploy-[0-9a-f]{8}$/,
    );
    const text = await runCli(["--stack", "eu-canary", "--root", root, "--now", NOW]);
    expect(text.stdout).toContain("--stack eu-canary");
  });

  it("a policy config entry naming no policy is a note, not an error", async () => {
    const prod = JSON.parse(readFileSync(join(REPO, "policies/config/dev.json"), "utf8")) as Record<
      string,
      unknown
    >;
    const root = tempRoot({}, { "unknown.json": JSON.stringify({ ...prod, "no-such-policy": "mandatory" }) });
    const file = join(root, "unknown.json");
    const run = await runCli(["--stack", "dev", "--policy-config", file, "--now", NOW, "--json"]);
    expect(jsonOutput(run).notes).toEqual([
      `${relative(process.cwd(), file)} configures "no-such-policy", which is not a policy of the pack`,
    ]);
  });
});
