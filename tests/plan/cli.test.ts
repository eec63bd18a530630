/**
 * The plan CLI (tools/plan/main.ts) in process: arguments, the --json contract, exit codes, secret
 * masking in both outputs, any stack file and the policy config it is judged by.
 */
import { copyFileSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { DEFAULT_STACK, parseArgs, parseNow, USAGE, UsageError } from "../../tools/plan/main";
import {
  committedStack,
  NOW,
  onlyOf,
  removeTempRoots,
  REPO,
  runCli,
  tempRoot,
  TYPES,
  type CliRun,
  type JsonPlan,
} from "./helpers";

afterAll(removeTempRoots);

const A001 = "0000000000000000000000000000a001";
const D001 = "0000000000000000000000000000d001";
const IP_ADVISORY = { policy: "cloudflare-token-require-ip-restriction", level: "advisory" };
const DEV_TOKEN_URN =
  "urn:pulumi:dev::scoped-edge::scoped-edge:cloudflare:DeployToken$cloudflare:index/accountToken:AccountToken::deploy-token";

/** Parses `--json` output, proving it is exactly one pretty-printed document and a final newline. */
function jsonDocument(run: CliRun): JsonPlan {
  const document = JSON.parse(run.stdout) as JsonPlan;
  expect(run.stdout).toBe(`${JSON.stringify(document, null, 2)}\n`);
  return document;
}

const mandatory = (document: JsonPlan) => document.violations.filter((v) => v.level === "mandatory");
const lastLine = (text: string) => text.trimEnd().split("\n").at(-1);

describe("parseArgs and parseNow", () => {
  const clock = () => new Date("2030-01-02T03:04:05Z");

  it("defaults to the dev stack, text output, the clock's time and the repository root", () => {
    expect(parseArgs([], clock)).toEqual({
      stack: DEFAULT_STACK,
      json: false,
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
      json: true,
      now: new Date("2026-11-23T00:00:00Z"),
      policyConfig: resolve("x.json"),
      root: resolve("some/dir"),
      help: false,
    });
    expect(parseArgs(["-h"], clock).help).toBe(true);
    expect(parseArgs(["--help"], clock).help).toBe(true);
  });

  it.each([
    [["--stack"], "--stack needs a value"],
    [["--stack", "--json"], "--stack needs a value"],
    [["--now="], "--now needs a value"],
    [["--root", ""], "--root needs a value"],
    [["--bogus"], 'unknown argument "--bogus"'],
    [["dev"], 'unknown argument "dev"'],
  ])("refuses %j: %s", (argv, message) => {
    expect(() => parseArgs(argv, clock)).toThrow(UsageError);
    expect(() => parseArgs(argv, clock)).toThrow(message);
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
      new UsageError(`--now "${value}" is not an ISO-8601 instant; use e.g. 2026-11-23T00:00:00Z`),
    );
  });
});

describe("usage: exit 0 for --help, 2 for bad arguments, nothing on stdout", () => {
  it("--help and -h print the usage on stdout and exit 0", async () => {
    for (const flag of ["--help", "-h"]) {
      expect(await runCli([flag])).toEqual({ code: 0, stdout: `${USAGE}\n`, stderr: "" });
    }
  });

  it.each([
    [["--bogus"], 'plan: unknown argument "--bogus"'],
    [
      ["--now", "yesterday"],
      'plan: --now "yesterday" is not an ISO-8601 instant; use e.g. 2026-11-23T00:00:00Z',
    ],
    [
      ["--now", "2026-02-30"],
      'plan: --now "2026-02-30" is not an ISO-8601 instant; use e.g. 2026-11-23T00:00:00Z',
    ],
    [["--stack"], "plan: --stack needs a value"],
  ])("%j exits 2 with the problem and the usage on stderr", async (argv, message) => {
    expect(await runCli(argv)).toEqual({ code: 2, stdout: "", stderr: `${message}\n\n${USAGE}\n` });
  });

  it("an unknown stack exits 2 and lists the stacks the root has", async () => {
    expect(await runCli(["--stack", "nope"])).toEqual({
      code: 2,
      stdout: "",
      stderr:
        `plan: no stack file Pulumi.nope.yaml in ${REPO}; create one (e.g. copy Pulumi.dev.yaml) or run ` +
        `pulumi stack init nope\nstacks in ${REPO}: dev, prod, staging\n`,
    });
    const root = tempRoot({ alpha: committedStack("dev"), beta: committedStack("prod") });
    const run = await runCli(["--stack", "dev", "--root", root]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`\nstacks in ${root}: alpha, beta\n`);
  });

  it("a stack name that is not file-safe exits 2", async () => {
    const run = await runCli(["--stack", "../etc"]);
    expect(run).toEqual({
      code: 2,
      stdout: "",
      stderr: `plan: stack name "../etc" may contain only letters, digits, '-', '_' and '.'\n`,
    });
  });
});

describe("committed stacks plan clean: exit 0, one JSON document, no mandatory violation", () => {
  const documents = new Map<string, JsonPlan>();

  it.each(["dev", "staging", "prod"])("%s", async (stack) => {
    const run = await runCli(["--stack", stack, "--json", "--now", NOW]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const document = jsonDocument(run);
    documents.set(stack, document);

    expect(Object.keys(document).sort()).toEqual(["missing", "resources", "stack", "violations"]);
    expect(document.stack).toBe(stack);
    for (const resource of document.resources) {
      expect(Object.keys(resource).sort()).toEqual(["inputs", "name", "type"]);
    }
    for (const violation of document.violations) {
      expect(Object.keys(violation).sort()).toEqual(["level", "message", "policy", "resource"]);
    }
    expect(mandatory(document)).toEqual([]);
    // The one finding on every committed stack: no IP restriction, advisory only.
    expect(document.violations.map(({ policy, level }) => ({ policy, level }))).toEqual([IP_ADVISORY]);
  });

  it("dev: exactly the resources pulumi up would create, with the engine's default providers", () => {
    const dev = documents.get("dev")!;
    expect(dev.resources.map(({ type, name }) => `${type}  ${name}`).sort()).toEqual(
      [
        `${TYPES.stack}  scoped-edge-dev`,
        `${TYPES.edgeWorker}  edge`,
        `${TYPES.kv}  edge-kv`,
        `${TYPES.script}  edge-script`,
        `${TYPES.route}  edge-route-api-example-dev-a44707`,
        `${TYPES.deployToken}  deploy`,
        `${TYPES.randomId}  deploy-rotation`,
        `${TYPES.accountToken}  deploy-token`,
        `${TYPES.githubProvider}  github`,
        `${TYPES.deploySecret}  deploy-secret`,
        `${TYPES.envVariable}  deploy-secret-account-id`,
        `${TYPES.envSecret}  deploy-secret-token`,
        `${TYPES.cloudflareProvider}  default_6_22_1`,
        `${TYPES.randomProvider}  default_4_21_2`,
      ].sort(),
    );
    const token = onlyOf(dev.resources, TYPES.accountToken);
    expect(token.inputs["accountId"]).toBe(A001);
    expect(token.inputs["expiresOn"]).toBe("2026-12-18T00:00:00Z");
    expect(token.inputs["name"]).toMatch(/^scoped-edge-dev-deploy-[0-9a-f]{8}$/);
    const policies = token.inputs["policies"] as { resources: string }[];
    expect(policies.map((policy) => policy.resources)).toEqual([
      `{"com.cloudflare.api.account.${A001}":"*"}`,
      `{"com.cloudflare.api.account.zone.${D001}":"*"}`,
    ]);
    expect(onlyOf(dev.resources, TYPES.route).inputs).toEqual({
      pattern: "api.example.dev/*",
      script: "edge-chat-dev",
      zoneId: D001,
    });
    expect(dev.violations[0]!.resource).toBe(DEV_TOKEN_URN);
  });

  it("prod: one route per pattern and both zones in the token", () => {
    const prod = documents.get("prod")!;
    expect(
      prod.resources
        .filter((resource) => resource.type === TYPES.route)
        .map((route) => route.inputs["pattern"])
        .sort(),
    ).toEqual(["api.example.com/*", "api.example.net/*", "example.com/v1/*"]);
    const token = onlyOf(prod.resources, TYPES.accountToken);
    const resources = (token.inputs["policies"] as { resources: string }[]).map((p) => p.resources);
    expect(resources).toContain(
      '{"com.cloudflare.api.account.zone.0000000000000000000000000000d003":"*",' +
        '"com.cloudflare.api.account.zone.0000000000000000000000000000d004":"*"}',
    );
  });

  it("missing: dev lists its three secrets, then the placeholder ids with their config paths", () => {
    expect(documents.get("dev")!.missing).toEqual([
      {
        key: "scoped-edge:providerKey",
        kind: "secret",
        fix: "pulumi config set --secret scoped-edge:providerKey <LLM provider key> --stack dev",
      },
      {
        key: "cloudflare:apiToken",
        kind: "secret",
        fix:
          'pulumi config set --secret cloudflare:apiToken <admin token with "Account API Tokens Write"> ' +
          "--stack dev (or export CLOUDFLARE_API_TOKEN for the pulumi step)",
      },
      {
        key: "github:token",
        kind: "secret",
        fix:
          "pulumi config set --secret github:token <token that can write Actions secrets> --stack dev " +
          "(or export GITHUB_TOKEN for the pulumi step)",
      },
      {
        key: "scoped-edge:accountId",
        kind: "placeholder-id",
        value: A001,
        fix: "pulumi config set scoped-edge:accountId <your 32-hex account id> --stack dev (dashboard: Overview page)",
      },
      {
        key: "scoped-edge:zones[0].id",
        kind: "placeholder-id",
        value: D001,
        fix: `replace ${D001} with the real id in Pulumi.dev.yaml (dashboard: the domain's Overview page)`,
      },
    ]);
    expect(documents.get("prod")!.missing.filter((item) => item.kind === "placeholder-id")).toEqual([
      expect.objectContaining({ key: "scoped-edge:accountId", value: "0000000000000000000000000000a002" }),
      expect.objectContaining({ key: "scoped-edge:zones[0].id", value: "0000000000000000000000000000d003" }),
      expect.objectContaining({ key: "scoped-edge:zones[1].id", value: "0000000000000000000000000000d004" }),
    ]);
  });

  it("the text output of dev says the same and ends with the result", async () => {
    const run = await runCli(["--stack", "dev", "--now", NOW]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const lines = run.stdout.split("\n");
    expect(lines.slice(0, 2)).toEqual([
      'Offline plan for stack "dev" (project scoped-edge)',
      `  at ${NOW}; policy config ${relative(process.cwd(), join(REPO, "policies/config/dev.json"))}`,
    ]);
    expect(run.stdout).toContain("Resources pulumi up would create (14):\n");
    expect(run.stdout).toContain("Policy violations (1: 0 mandatory, 1 other):\n");
    expect(run.stdout).toContain(
      "  - scoped-edge:zones[0].id is the placeholder id 0000000000000000000000000000d001\n",
    );
    expect(lastLine(run.stdout)).toBe("Result: no mandatory violation.");
  });
});

describe("exit 1: a mandatory violation stops the plan", () => {
  it("dev judged by prod's policy config: its account and zone are out of scope", async () => {
    const args = ["--stack", "dev", "--policy-config", join(REPO, "policies/config/prod.json"), "--now", NOW];
    const json = await runCli([...args, "--json"]);
    expect(json.code).toBe(1);
    expect(json.stderr).toBe("");
    const document = jsonDocument(json);
    expect(mandatory(document)).toEqual([
      {
        policy: "cloudflare-token-enforce-allowed-scope",
        level: "mandatory",
        resource: DEV_TOKEN_URN,
        message: expect.stringContaining(
          `com.cloudflare.api.account.${A001} (account not in allowedAccountIds); ` +
            `com.cloudflare.api.account.zone.${D001} (zone not in allowedZoneIds)`,
        ) as unknown as string,
      },
    ]);
    const text = await runCli(args);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      "  [mandatory] cloudflare-token-enforce-allowed-scope  (cloudflare:index/accountToken:AccountToken  deploy-token)\n",
    );
    expect(lastLine(text.stdout)).toBe(
      "Result: 1 mandatory violation(s); pulumi up with this policy pack would stop.",
    );
  });

  it("a permission added by hand: allowed extra in dev (exit 0), outside staging's allow-list (exit 1)", async () => {
    const extra = "  scoped-edge:extraPermissions:\n    - Workers Tail Read\n";
    const root = tempRoot({
      dev: committedStack("dev") + extra,
      staging: committedStack("staging") + extra,
    });
    const dev = await runCli(["--stack", "dev", "--root", root, "--json", "--now", NOW]);
    expect(dev.code).toBe(0);
    expect(mandatory(jsonDocument(dev))).toEqual([]);

    const staging = await runCli(["--stack", "staging", "--root", root, "--json", "--now", NOW]);
    expect(staging.code).toBe(1);
    const violations = mandatory(jsonDocument(staging));
    expect(violations.map((violation) => violation.policy).sort()).toEqual([
      "cloudflare-token-enforce-derived-least-privilege",
      "cloudflare-token-enforce-permission-allowlist",
    ]);
    for (const violation of violations) expect(violation.message).toContain("Workers Tail Read");
  });
});

describe("exit 2: bad config names the key and the fix, prints nothing on stdout", () => {
  it("a malformed zone id", async () => {
    const root = tempRoot({ dev: committedStack("dev").replace(`id: ${D001}`, "id: not-a-zone") });
    for (const json of [[], ["--json"]]) {
      expect(await runCli(["--stack", "dev", "--root", root, "--now", NOW, ...json])).toEqual({
        code: 2,
        stdout: "",
        stderr:
          'plan: Invalid configuration for stack "dev" (nothing was deployed):\n' +
          "  - scoped-edge:zones[0].id: must be a 32-character lowercase hex Cloudflare zone id\n" +
          "    fix: pulumi config set --path 'scoped-edge:zones[0].id' <value> --stack dev (or edit Pulumi.dev.yaml)\n",
      });
    }
  });

  it("a policy config that is missing, not JSON, has a bad level or breaks a policy's schema", async () => {
    const root = tempRoot(
      {},
      {
        "broken.json": "{nope",
        "level.json": JSON.stringify({ "cloudflare-token-enforce-expiry": "strict" }),
        "schema.json": JSON.stringify({ "cloudflare-token-enforce-expiry": { maxTtlDays: "ninety" } }),
      },
    );
    const plan = (file: string) =>
      runCli(["--stack", "dev", "--policy-config", join(root, file), "--now", NOW]);

    expect(await plan("absent.json")).toEqual({
      code: 2,
      stdout: "",
      stderr: `plan: policy config ${join(root, "absent.json")} does not exist\n`,
    });
    const broken = await plan("broken.json");
    expect(broken.code).toBe(2);
    expect(broken.stdout).toBe("");
    expect(broken.stderr).toMatch(new RegExp(`^plan: ${join(root, "broken.json")} is not valid JSON: `));
    expect(await plan("level.json")).toEqual({
      code: 2,
      stdout: "",
      stderr:
        `plan: ${join(root, "level.json")}: parsing enforcement level for "cloudflare-token-enforce-expiry": ` +
        `"strict" is not a valid enforcement level (use one of advisory, mandatory, remediate, disabled)\n`,
    });
    expect(await plan("schema.json")).toEqual({
      code: 2,
      stdout: "",
      stderr:
        `plan: ${join(root, "schema.json")} is not a valid config for the policy pack:\n` +
        "  - cloudflare-token-enforce-expiry: maxTtlDays: Invalid type. Expected: integer, given: string\n",
    });
  });
});

describe("secrets never reach stdout or stderr", () => {
  const CIPHERTEXTS = ["v1:CIPHER-provider-7f3a", "v1:CIPHER-cftoken-9b2c", "v1:CIPHER-ghtoken-41de"];
  const secureStack = committedStack("dev").concat(
    `  scoped-edge:providerKey:\n    secure: ${CIPHERTEXTS[0]}\n`,
    `  cloudflare:apiToken:\n    secure: ${CIPHERTEXTS[1]}\n`,
    `  github:token:\n    secure: ${CIPHERTEXTS[2]}\n`,
  );

  it("secure: values stand in as [secret] in the JSON document; the deploy token's value too", async () => {
    const root = tempRoot({ dev: secureStack });
    const run = await runCli(["--stack", "dev", "--root", root, "--json", "--now", NOW]);
    expect(run.code).toBe(0);
    const output = run.stdout + run.stderr;
    expect(output).not.toContain("CIPHER");
    // The offline runtime's stand-in value of the deploy token (a secret output) must not show either.
    expect(output).not.toContain("offline-token");

    const document = jsonDocument(run);
    const bindings = onlyOf(document.resources, TYPES.script).inputs["bindings"] as Record<string, unknown>[];
    expect(bindings.find((binding) => binding["name"] === "PROVIDER_KEY")).toEqual({
      name: "PROVIDER_KEY",
      type: "secret_text",
      text: "[secret]",
    });
    expect(onlyOf(document.resources, TYPES.envSecret).inputs["value"]).toBe("[secret]");
    expect(onlyOf(document.resources, TYPES.githubProvider).inputs["token"]).toBe("[secret]");
    expect(onlyOf(document.resources, TYPES.cloudflareProvider).inputs).toEqual({
      apiToken: "[secret]",
      version: "6.22.1",
    });
    // Set (as secrets), so no longer missing: only the placeholder ids are left.
    expect(document.missing.map((item) => item.kind)).toEqual(["placeholder-id", "placeholder-id"]);
  });

  it("the text output masks the same values", async () => {
    const root = tempRoot({ dev: secureStack });
    const run = await runCli(["--stack", "dev", "--root", root, "--now", NOW]);
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).not.toContain("CIPHER");
    expect(run.stdout + run.stderr).not.toContain("offline-token");
    expect(run.stdout).toContain("PROVIDER_KEY (secret_text) = [secret]\n");
    expect(run.stdout).toMatch(/\n[\s│]+secretName: CLOUDFLARE_API_TOKEN\n[\s│]+value: \[secret\]\n/);
    expect(run.stdout).toMatch(/\n[\s│]+owner: example-org\n[\s│]+token: \[secret\]\n/);
    expect(run.stdout).toMatch(/\n[\s│]+apiToken: \[secret\]\n/);
    expect(run.stdout).toContain("Before a real pulumi up:\n  - scoped-edge:accountId is the placeholder id");
  });

  it("a secure: value inside workerVars is refused (vars deploy as plain text), without echoing it", async () => {
    const root = tempRoot({
      dev: secureStack.replace(
        "    ALLOWED_ORIGINS: https://www.example.dev\n",
        "    ALLOWED_ORIGINS: https://www.example.dev\n    GREETING:\n      secure: v1:CIPHER-var-0c55\n",
      ),
    });
    const run = await runCli(["--stack", "dev", "--root", root, "--now", NOW]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(
      "scoped-edge:workerVars: holds a Pulumi secret, but Worker vars are deployed as plain text",
    );
    expect(run.stderr).toContain("the provider key belongs in scoped-edge:providerKey");
    expect(run.stderr).not.toContain("CIPHER");
  });

  it("secrets written as plain config are refused by key, and their values are never echoed", async () => {
    const values = [
      "gsk_PLAIN_provider_key_5a1e9c",
      "PLAIN_cf_admin_token_77d0b2",
      "ghp_PLAIN_github_token_e41f",
      "PLAIN0global0api0key0123456789abcdef012",
    ];
    const root = tempRoot({
      dev:
        committedStack("dev") +
        `  scoped-edge:providerKey: ${values[0]}\n  cloudflare:apiToken: ${values[1]}\n` +
        `  github:token: ${values[2]}\n  cloudflare:apiKey: ${values[3]}\n`,
    });
    for (const json of [[], ["--json"]]) {
      const run = await runCli(["--stack", "dev", "--root", root, "--now", NOW, ...json]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      for (const key of ["scoped-edge:providerKey", "cloudflare:apiToken", "github:token"]) {
        expect(run.stderr).toContain(
          `  - ${key}: is stored as plain text; it must be a Pulumi secret\n` +
            `    fix: pulumi config set --secret ${key} <value> --stack dev\n`,
        );
      }
      expect(run.stderr).toContain("  - cloudflare:apiKey: configures a Global API Key");
      for (const value of values) expect(run.stderr).not.toContain(value);
    }
  });
});

describe("any stack file plans", () => {
  it("a custom stack is judged by its environment's policy config by default", async () => {
    const root = tempRoot({ "eu-canary": committedStack("prod") });
    const run = await runCli(["--stack", "eu-canary", "--root", root, "--json", "--now", NOW]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const document = jsonDocument(run);
    expect(document.stack).toBe("eu-canary");
    expect(onlyOf(document.resources, TYPES.stack).name).toBe("scoped-edge-eu-canary");
    expect(onlyOf(document.resources, TYPES.accountToken).inputs["name"]).toMatch(
      /^scoped-edge-eu-canary-deploy-[0-9a-f]{8}$/,
    );

    const text = await runCli(["--stack", "eu-canary", "--root", root, "--now", NOW]);
    expect(text.stdout.split("\n")[1]).toBe(
      `  at ${NOW}; policy config ${relative(process.cwd(), join(REPO, "policies/config/prod.json"))}`,
    );
    expect(text.stdout).toContain("--stack eu-canary");
  });

  it("--policy-config is what the custom stack is judged by", async () => {
    const narrowed = JSON.parse(readFileSync(join(REPO, "policies/config/prod.json"), "utf8")) as Record<
      string,
      Record<string, unknown>
    >;
    narrowed["cloudflare-token-enforce-allowed-scope"]!["allowedZoneIds"] = [
      "0000000000000000000000000000d003",
    ];
    const root = tempRoot(
      { "eu-canary": committedStack("prod") },
      { "narrow.json": JSON.stringify(narrowed) },
    );
    copyFileSync(join(REPO, "policies/config/prod.json"), join(root, "same.json"));

    const same = await runCli([
      "--stack",
      "eu-canary",
      "--root",
      root,
      "--policy-config",
      join(root, "same.json"),
    ]);
    expect(same.code).toBe(0);
    expect(same.stdout.split("\n")[1]).toContain(
      `policy config ${relative(process.cwd(), join(root, "same.json"))}`,
    );

    const narrow = await runCli([
      "--stack",
      "eu-canary",
      "--root",
      root,
      "--json",
      "--policy-config",
      join(root, "narrow.json"),
    ]);
    expect(narrow.code).toBe(1);
    const [violation, ...others] = mandatory(jsonDocument(narrow));
    expect(others).toEqual([]);
    expect(violation!.policy).toBe("cloudflare-token-enforce-allowed-scope");
    expect(violation!.message).toContain(
      "com.cloudflare.api.account.zone.0000000000000000000000000000d004 (zone not in allowedZoneIds)",
    );
  });

  it("a stack with an unknown environment gets the config error, with or without --policy-config", async () => {
    const root = tempRoot({ qa: committedStack("dev").replace("environment: dev", "environment: qa") });
    const expected = {
      code: 2,
      stdout: "",
      stderr:
        'plan: Invalid configuration for stack "qa" (nothing was deployed):\n' +
        "  - scoped-edge:environment: must be one of dev, staging, prod\n" +
        "    fix: pulumi config set scoped-edge:environment dev --stack qa\n",
    };
    expect(await runCli(["--stack", "qa", "--root", root])).toEqual(expected);
    expect(
      await runCli([
        "--stack",
        "qa",
        "--root",
        root,
        "--policy-config",
        join(REPO, "policies/config/dev.json"),
      ]),
    ).toEqual(expected);
  });

  it("a policy config entry naming no policy is a note, not an error", async () => {
    const root = tempRoot({}, { "unknown.json": JSON.stringify({ "no-such-policy": "mandatory" }) });
    const file = join(root, "unknown.json");
    const run = await runCli(["--stack", "dev", "--policy-config", file, "--now", NOW]);
    expect(run.stdout).toContain(
      `\nnote: ${relative(process.cwd(), file)} configures "no-such-policy", which is not a policy of the pack\n`,
    );
    // The schema defaults allow no account and no zone: the scope policy stops the plan.
    expect(run.code).toBe(1);
  });
});
