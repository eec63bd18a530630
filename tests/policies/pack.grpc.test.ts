/**
 * Starts the real policy pack the way the Pulumi CLI does and talks to it over the analyzer gRPC
 * interface, through the proto stubs shipped in @pulumi/pulumi.
 *
 * The CLI (pkg/resource/plugin/analyzer_plugin.go) reads PulumiPolicy.yaml, runs the
 * `pulumi-analyzer-policy` script with the policy pack directory as its working directory and the
 * arguments [<engine address>, ".", -<runtime option>=<value>...]; that script is
 *   node "$(node -e "require.resolve('@pulumi/pulumi/cmd/run-policy-pack')")" "$@"
 * which registers ts-node (typeCheck on, the pack's tsconfig.json) and requires the pack's `main`
 * (index.ts); that type-check takes seconds on a busy machine, hence the generous startup wait.
 * Constructing the PolicyPack binds 127.0.0.1:0 and prints the port on stdout.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerpb from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

import { ACCOUNT_TOKEN_TYPE } from "../../policies/lib/resource-types";
import { policies } from "../../policies/rules";
import {
  ACCOUNT,
  devStack,
  devToken,
  IDS,
  programExpiresOn,
  tokenPolicies,
  usePolicyClock,
} from "./fixtures";
import {
  analyzeRequest,
  analyzeResource,
  analyzeStackRequest,
  configureRequest,
  loadConfig,
  PACK_VERSION,
  POLICIES_DIR,
  POLICY_PACK_NAME,
  readResponse,
} from "./harness";

usePolicyClock();

const LEVEL: Record<string, analyzerpb.EnforcementLevel> = {
  advisory: analyzerpb.EnforcementLevel.ADVISORY,
  mandatory: analyzerpb.EnforcementLevel.MANDATORY,
  disabled: analyzerpb.EnforcementLevel.DISABLED,
  remediate: analyzerpb.EnforcementLevel.REMEDIATE,
};

let pack: ChildProcess | undefined;
let client: AnalyzerClient;
let stderr = "";

/** One unary call: `start` issues it on the client with the callback it is given. */
function unary<Resp>(
  start: (callback: (error: grpc.ServiceError | null, response: Resp) => void) => unknown,
) {
  return new Promise<Resp>((resolve, reject) => {
    start((error, response) => (error ? reject(error) : resolve(response)));
  });
}

beforeAll(async () => {
  const project = parse(readFileSync(path.join(POLICIES_DIR, "PulumiPolicy.yaml"), "utf8")) as {
    runtime: string | { name: string; options?: Record<string, unknown> };
  };
  const runtime = typeof project.runtime === "string" ? { name: project.runtime } : project.runtime;
  expect(runtime.name).toBe("nodejs");
  const options = Object.entries(("options" in runtime && runtime.options) || {}).map(
    ([k, v]) => `-${k}=${String(v)}`,
  );
  const runPolicyPack = createRequire(path.join(POLICIES_DIR, "package.json")).resolve(
    "@pulumi/pulumi/cmd/run-policy-pack",
  );
  // The engine address is unused by run-policy-pack (it shifts it away); any address will do.
  pack = spawn(process.execPath, [runPolicyPack, "127.0.0.1:1", ".", ...options], {
    cwd: POLICIES_DIR,
    stdio: ["ignore", "pipe", "pipe"],
  });
  pack.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => reject(new Error(`no port within 80 s; stderr:\n${stderr}`)), 80_000);
    pack!.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split("\n")[0]!.trim();
      if (stdout.includes("\n") && /^\d+$/.test(line)) {
        clearTimeout(timer);
        resolve(Number(line));
      }
    });
    pack!.on("exit", (code) => reject(new Error(`policy pack exited with ${code}; stderr:\n${stderr}`)));
  });
  client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 90_000);

afterAll(() => {
  client?.close();
  if (pack && pack.exitCode === null) pack.kill("SIGTERM");
});

describe("the policy pack over the analyzer gRPC interface", () => {
  it("GetAnalyzerInfo: the pack, its version, every policy with its level, type and config schema", async () => {
    const info = await unary<analyzerpb.AnalyzerInfo>((cb) => client.getAnalyzerInfo(new Empty(), cb));
    expect(info.getName()).toBe(POLICY_PACK_NAME);
    expect(info.getVersion()).toBe(PACK_VERSION);
    expect(info.getSupportsconfig()).toBe(true);
    const listed = info.getPoliciesList().map((p) => ({
      name: p.getName(),
      level: p.getEnforcementlevel(),
      type: p.getPolicyType(),
      description: p.getDescription(),
      schemaKeys: Object.keys(p.getConfigschema()?.getProperties()?.toJavaScript() ?? {}).sort(),
    }));
    expect(listed).toEqual(
      policies.map((p) => ({
        name: p.name,
        level: LEVEL[p.enforcementLevel!],
        type:
          "validateStack" in p
            ? analyzerpb.PolicyType.POLICY_TYPE_STACK
            : analyzerpb.PolicyType.POLICY_TYPE_RESOURCE,
        description: p.description,
        schemaKeys: Object.keys(p.configSchema!.properties).sort(),
      })),
    );
    const expiry = info.getPoliciesList().find((p) => p.getName() === "cloudflare-token-enforce-expiry")!;
    expect(expiry.getConfigschema()!.getProperties()!.toJavaScript()["maxTtlDays"]).toMatchObject({
      type: "integer",
      default: 90,
    });
  });

  it("Configure with policies/config/dev.json (real clock), then Analyze passes the program's token", async () => {
    await unary<Empty>((cb) => client.configure(configureRequest(policies, loadConfig("dev")), cb));
    const token = devToken({ expiresOn: programExpiresOn("dev", new Date()) });
    const response = await unary<analyzerpb.AnalyzeResponse>((cb) =>
      client.analyze(analyzeRequest(token), cb),
    );
    expect(readResponse(response).diagnostics).toEqual([]);
  });

  it("Analyze reports violations with the configured levels (dev.json), judged by the pack's real clock", async () => {
    // This process pins POLICY_CLOCK_ENV (fixtures.ts) and the pack inherits it; the pack's entry
    // point ignores it, as under the CLI: the instant in the message is the real one.
    await unary<Empty>((cb) => client.configure(configureRequest(policies, loadConfig("dev")), cb));
    const token = devToken({ expiresOn: "2020-01-01T00:00:00Z", condition: {} });
    const before = Date.now();
    const { diagnostics } = readResponse(
      await unary<analyzerpb.AnalyzeResponse>((cb) => client.analyze(analyzeRequest(token), cb)),
    );
    expect(diagnostics.map((d) => [d.policyName, d.enforcementLevel])).toEqual([
      ["cloudflare-token-enforce-expiry", "mandatory"],
      ["cloudflare-token-require-rotation-headroom", "mandatory"],
      ["cloudflare-token-require-ip-restriction", "advisory"],
    ]);
    const judgedAt = /^The token expired at 2020-01-01T00:00:00Z \(now is ([^)]+)\)\./.exec(
      diagnostics[0]!.detail,
    );
    expect(judgedAt).not.toBeNull();
    expect(Date.parse(judgedAt![1]!)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
    expect(Date.parse(judgedAt![1]!)).toBeLessThanOrEqual(Date.now());
    expect(diagnostics[2]!.detail).toBe(
      "The token has no request-IP condition: a leaked copy works from any address. Set condition.requestIp.ins " +
        "to the CIDRs your CI egresses from (scoped-edge:tokenAllowedIps).",
    );
    expect(diagnostics[0]!.message.startsWith(`${policies[0]!.description}\n`)).toBe(true);
  });

  it("Analyze answers each resource of a stack exactly as the plan's in-process driver does, not-applicable entries included", async () => {
    // The driver answers "not applicable" for a type a policy declares it does not cover without
    // calling the policy (policies/lib/applicability.ts); the pack, run as the CLI runs it, calls
    // every policy. The token's time policies judge by different clocks here (this process pins
    // one), so for it only the not-applicable entries are compared.
    await unary<Empty>((cb) => client.configure(configureRequest(policies, loadConfig("dev")), cb));
    for (const resource of devStack()) {
      const overGrpc = readResponse(
        await unary<analyzerpb.AnalyzeResponse>((cb) => client.analyze(analyzeRequest(resource), cb)),
      );
      const inProcess = await analyzeResource(policies, resource, { config: loadConfig("dev") });
      expect(overGrpc.notApplicable.length).toBeGreaterThan(0);
      if (resource.type === ACCOUNT_TOKEN_TYPE)
        expect(inProcess.notApplicable).toEqual(overGrpc.notApplicable);
      else expect(inProcess).toEqual(overGrpc);
    }
  });

  it("AnalyzeStack runs the derived least-privilege stack policy; configured scope ids narrow the zero-config scope", async () => {
    await unary<Empty>((cb) => client.configure(configureRequest(policies, loadConfig("dev")), cb));
    const clean = readResponse(
      await unary<analyzerpb.AnalyzeResponse>((cb) =>
        client.analyzeStack(analyzeStackRequest(devStack()), cb),
      ),
    );
    expect(clean.diagnostics).toEqual([]);

    // The old grant set (Account Settings Read besides Workers Scripts Write): no call needs it.
    const withAccountSettings = devStack(
      devToken({
        policies: tokenPolicies([
          {
            permissions: ["Account Settings Read", "Workers Scripts Write"],
            resources: JSON.stringify({ [ACCOUNT(IDS.devAccount)]: "*" }),
          },
        ]),
      }),
    );
    const { diagnostics } = readResponse(
      await unary<analyzerpb.AnalyzeResponse>((cb) =>
        client.analyzeStack(analyzeStackRequest(withAccountSettings), cb),
      ),
    );
    expect(diagnostics.map((d) => [d.policyName, d.enforcementLevel, d.urn, d.detail])).toEqual([
      [
        "cloudflare-token-enforce-derived-least-privilege",
        "mandatory",
        "urn:pulumi:dev::scoped-edge::cloudflare:index/accountToken:AccountToken::deploy-token",
        'Token "deploy-token" grants more than this stack needs: Account Settings Read on ' +
          "com.cloudflare.api.account.0000000000000000000000000000a001. Remove them from the token's policies, or " +
          "list a permission in allowedExtraPermissions if it is added on purpose.",
      ],
    ]);

    // The scope policy allows the stack's own account and zones with no ids configured; configured
    // ids only narrow it: an allow list naming another account turns the same stack into a violation.
    const narrowed = {
      ...loadConfig("prod"),
      "cloudflare-token-enforce-allowed-scope": {
        enforcementLevel: "mandatory",
        allowedAccountIds: ["0000000000000000000000000000a002"],
      },
    };
    await unary<Empty>((cb) => client.configure(configureRequest(policies, loadConfig("prod")), cb));
    const prod = readResponse(
      await unary<analyzerpb.AnalyzeResponse>((cb) =>
        client.analyzeStack(analyzeStackRequest(devStack()), cb),
      ),
    );
    expect(prod.diagnostics.map((d) => d.policyName)).toEqual([]);
    await unary<Empty>((cb) => client.configure(configureRequest(policies, narrowed), cb));
    const other = readResponse(
      await unary<analyzerpb.AnalyzeResponse>((cb) =>
        client.analyzeStack(analyzeStackRequest(devStack()), cb),
      ),
    );
    expect(other.diagnostics.map((d) => [d.policyName, d.enforcementLevel])).toEqual([
      ["cloudflare-token-enforce-allowed-scope", "mandatory"],
    ]);
  });

  it("keeps serving after all of it (no crash on stderr)", () => {
    expect(pack!.exitCode).toBeNull();
    expect(stderr).not.toMatch(/Error|unhandled/i);
  });
});
