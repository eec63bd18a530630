/**
 * runPlan itself: the instant it plans at (rotation window and expiry), the one permission-group
 * lookup, what the policies really receive (secrets included) against what the report shows, and a
 * wildcard token fed to the repository pack through the plan's own analyzer.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

import { CLOCK_ENV } from "../../lib/clock";
import { createAnalyzer, policyInfos, type AnalyzerResourceInput } from "../../tools/plan/analyzer";
import { parsePolicyPackConfig, reconcilePolicyPackConfig } from "../../tools/plan/policy-config";
import { POLICY_CLOCK_ENV } from "../../policies/lib/clock";
import { exitCodeOf, toJsonDocument, type PlanReport } from "../../tools/plan/report";
import { repositoryPack, runPlan, type PlanRun, type PolicyPackSource } from "../../tools/plan/run";
import { readStackConfigMap } from "../../tools/shared/stack-file";
import { DAY_MS } from "../../policies/lib/rotation";
import {
  ACCOUNT_LOOKUP,
  committedStack,
  NOW,
  onlyOf,
  removeTempRoots,
  REPO,
  tempRoot,
  TYPES,
  USER_LOOKUP,
} from "./helpers";

afterAll(removeTempRoots);

const plan = (stack: string, now: string, root = REPO) => runPlan({ root, stack, now: new Date(now) });

const tokenOf = (run: PlanRun) => onlyOf(run.report.resources, TYPES.accountToken).inputs;
const keepersOf = (run: PlanRun) =>
  onlyOf(run.report.resources, TYPES.randomId).inputs["keepers"] as {
    windowStart: string;
    generation: string;
  };
const ms = (iso: unknown) => Date.parse(String(iso));

describe("--now: the rotation window and expiry follow the stack's rotation settings", () => {
  // Pulumi.dev.yaml: rotationDays 30, tokenTtlDays 45. Epoch-anchored 30-day windows: window 692
  // runs 2026-11-03 .. 2026-12-03, window 693 starts 2026-12-03T00:00:00Z.
  const dev = readStackConfigMap(REPO, "dev").config;
  const rotationDays = Number(dev["scoped-edge:rotationDays"]);
  const ttlDays = Number(dev["scoped-edge:tokenTtlDays"]);
  const runs = new Map<string, PlanRun>();
  const EARLY = NOW; // 2026-11-23T00:00:00Z, window 692
  const LAST_MS = "2026-12-02T23:59:59.999Z"; // still window 692
  const ROLLOVER = "2026-12-03T00:00:00Z"; // first instant of window 693

  beforeAll(async () => {
    for (const now of [EARLY, LAST_MS, ROLLOVER]) runs.set(now, await plan("dev", now));
  });

  it("reads dev's settings as 30-day rotation and 45-day tokens", () => {
    expect([rotationDays, ttlDays]).toEqual([30, 45]);
  });

  it("inside one window: the window start, the expiry and the token name are the program's", () => {
    const run = runs.get(EARLY)!;
    expect(run.report.now).toBe(EARLY);
    expect(keepersOf(run)).toEqual({ generation: "0", windowStart: "2026-11-03T00:00:00Z" });
    expect(tokenOf(run)["expiresOn"]).toBe("2026-12-18T00:00:00Z");
    const start = ms(keepersOf(run).windowStart);
    expect(start % (rotationDays * DAY_MS)).toBe(0);
    expect(ms(EARLY) - start).toBeGreaterThanOrEqual(0);
    expect(ms(EARLY) - start).toBeLessThan(rotationDays * DAY_MS);
    expect(ms(tokenOf(run)["expiresOn"]) - start).toBe(ttlDays * DAY_MS);
    const deployToken = run.report.credentials.find((row) => row.credential.startsWith("deploy token"))!;
    expect(deployToken.expires).toBe("2026-12-18T00:00:00Z");
    expect(deployToken.rotation).toBe(
      "every 30 days by pulumi up (next: 2026-12-03T00:00:00Z); at once by bumping scoped-edge:rotationGeneration",
    );
  });

  it("the same window plans identical inputs and findings, to the last millisecond of the window", () => {
    // Everything but the instant itself, resources in the report's own order (tree order: a dynamic
    // resource's place among the registrations varies from run to run, the report's does not).
    const document = (now: string) => ({ ...toJsonDocument(runs.get(now)!.report), now: undefined });
    expect(document(LAST_MS)).toEqual(document(EARLY));
  });

  it("the next window moves the window start by rotationDays and the expiry with it, renaming the token", () => {
    const before = runs.get(EARLY)!;
    const after = runs.get(ROLLOVER)!;
    expect(keepersOf(after)).toEqual({ generation: "0", windowStart: "2026-12-03T00:00:00Z" });
    expect(tokenOf(after)["expiresOn"]).toBe("2027-01-17T00:00:00Z");
    expect(ms(keepersOf(after).windowStart) - ms(keepersOf(before).windowStart)).toBe(rotationDays * DAY_MS);
    expect(ms(tokenOf(after)["expiresOn"]) - ms(tokenOf(before)["expiresOn"])).toBe(rotationDays * DAY_MS);
    expect(tokenOf(after)["name"]).not.toBe(tokenOf(before)["name"]);
    expect(tokenOf(after)["name"]).toMatch(/^scoped-edge-dev-deploy-[0-9a-f]{8}$/);

    // Nothing else changes: only the RandomId's keepers and the token's name and expiry.
    const previous = new Map(before.report.resources.map((resource) => [resource.urn, resource]));
    expect([...previous.keys()].sort()).toEqual(
      after.report.resources.map((resource) => resource.urn).sort(),
    );
    const changed = after.report.resources
      .filter(
        (resource) => JSON.stringify(previous.get(resource.urn)!.inputs) !== JSON.stringify(resource.inputs),
      )
      .map((resource) => resource.type);
    expect(changed.sort()).toEqual([TYPES.accountToken, TYPES.randomId]);
    const { expiresOn: _a, name: _b, ...restAfter } = tokenOf(after);
    const { expiresOn: _c, name: _d, ...restBefore } = tokenOf(before);
    expect(restAfter).toEqual(restBefore);
    expect(after.report.violations).toEqual(before.report.violations);
  });

  it("restores the program clock after planning", () => {
    expect(process.env[CLOCK_ENV]).toBeUndefined();
    expect(process.env[POLICY_CLOCK_ENV]).toBeUndefined();
  });
});

describe("exactly one permission-group lookup per plan", () => {
  it("a process planning again with the same pack reads the policy config file anew each time", async () => {
    const pack = await repositoryPack();
    const devConfig = JSON.parse(
      readFileSync(join(REPO, "policies", "config", "dev.json"), "utf8"),
    ) as Record<string, unknown>;
    const file = join(tempRoot({}), "policy.json");
    const expiry = "cloudflare-token-enforce-expiry";
    const planWith = async (maxTtlDays: number) => {
      writeFileSync(
        file,
        JSON.stringify({ ...devConfig, [expiry]: { enforcementLevel: "mandatory", maxTtlDays } }),
      );
      const run = await runPlan({
        root: REPO,
        stack: "dev",
        now: new Date(NOW),
        policyConfigFile: file,
        pack,
      });
      return run.report.violations.filter((violation) => violation.policy === expiry).length;
    };
    // dev's token expires 25 days after NOW (its window starts 2026-11-03; it lives 45 days).
    expect(await planWith(90)).toBe(0);
    expect(await planWith(10)).toBe(1);
    expect(await planWith(90)).toBe(0);
  });

  it("dev (one zone) and prod (two zones, three routes)", async () => {
    const dev = await plan("dev", NOW);
    expect(dev.invokes).toEqual([
      { token: ACCOUNT_LOOKUP, inputs: { accountId: "0000000000000000000000000000a001" } },
    ]);
    const prod = await plan("prod", NOW);
    expect(prod.invokes).toEqual([
      { token: ACCOUNT_LOOKUP, inputs: { accountId: "0000000000000000000000000000a002" } },
    ]);
    expect(prod.report.resources.filter((resource) => resource.type === TYPES.route)).toHaveLength(3);
    // Registrations the program made: the root Stack, 3 components and 13 resources (prod's GitHub
    // environment holds the secret and the two deploy variables; the Worker's secret is a dynamic
    // WorkerSecret); dev: one route less.
    expect(prod.registered).toBe(17);
    expect(dev.registered).toBe(15);
  });

  it("a user-owned token uses the user lookup, once", async () => {
    const root = tempRoot({ dev: `${committedStack("dev")}  scoped-edge:tokenOwner: user\n` });
    const run = await plan("dev", NOW, root);
    expect(run.invokes).toEqual([{ token: USER_LOOKUP, inputs: {} }]);
    expect(run.report.resources.filter((resource) => resource.type === TYPES.accountToken)).toEqual([]);
    expect(onlyOf(run.report.resources, TYPES.apiToken).inputs["expiresOn"]).toBe("2026-12-18T00:00:00Z");
  });
});

describe("what the policies see against what the report shows", () => {
  it("a policy receives the deploy token's real (offline) value; the report shows [secret]", async () => {
    const seen: { type: string; props: Record<string, unknown> }[] = [];
    const stackSeen: Record<string, unknown>[] = [];
    const spy: ResourceValidationPolicy = {
      name: "spy-resources",
      description: "records what it is given",
      enforcementLevel: "mandatory",
      validateResource: (args, reportViolation) => {
        seen.push({
          type: args.type,
          props: JSON.parse(JSON.stringify(args.props)) as Record<string, unknown>,
        });
        if (args.type === TYPES.envSecret) reportViolation("looked at the deploy secret");
      },
    };
    const stackSpy: StackValidationPolicy = {
      name: "spy-stack",
      description: "records the stack",
      enforcementLevel: "advisory",
      validateStack: (args) => {
        for (const resource of args.resources) {
          if (resource.type === TYPES.accountToken) {
            stackSeen.push(JSON.parse(JSON.stringify(resource.props)) as Record<string, unknown>);
          }
        }
      },
    };
    const pack: PolicyPackSource = { name: "spy-pack", version: "0.0.1", policies: [spy, stackSpy] };
    const root = tempRoot({}, { "spy.json": "{}" });
    const run = await runPlan({
      root: REPO,
      stack: "dev",
      now: new Date(NOW),
      pack,
      policyConfigFile: join(root, "spy.json"),
    });

    const secretSeen = seen.find((entry) => entry.type === TYPES.envSecret)!;
    expect(secretSeen.props["value"]).toMatch(/^offline-token-[0-9a-f]{32}$/);
    expect(stackSeen).toHaveLength(1);
    expect(stackSeen[0]!["value"]).toBe(secretSeen.props["value"]);
    // Every resource, default providers included, is analyzed once (in the engine's registration
    // order; the report lists them in tree order).
    expect(seen.map((entry) => entry.type).sort()).toEqual(
      run.report.resources.map((resource) => resource.type).sort(),
    );
    expect(seen).toHaveLength(run.registered + 3);

    expect(onlyOf(run.report.resources, TYPES.envSecret).inputs["value"]).toBe("[secret]");
    expect(JSON.stringify(run.report)).not.toContain("offline-token");
    expect(run.report.violations).toEqual([
      {
        policy: "spy-resources",
        level: "mandatory",
        message: "looked at the deploy secret",
        resource:
          "urn:pulumi:dev::scoped-edge::scoped-edge:github:DeploySecret$" +
          "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret::deploy-secret-token",
      },
    ]);
    expect(exitCodeOf(run.report)).toBe(1);
  });
});

describe("a token widened to a wildcard is a mandatory violation", () => {
  afterAll(() => vi.unstubAllEnvs());

  it("the dev token with com.cloudflare.api.account.* fails the repository pack under dev's policy config", async () => {
    const run = await plan("dev", NOW);
    const planned = onlyOf(run.report.resources, TYPES.accountToken);
    const policies = planned.inputs["policies"] as { resources: string }[];
    const widened = {
      ...planned.inputs,
      policies: policies.map((policy, index) =>
        index === 0 ? { ...policy, resources: '{"com.cloudflare.api.account.*":"*"}' } : policy,
      ),
    };

    const pack = await repositoryPack();
    const infos = policyInfos(pack.policies);
    const file = join(REPO, "policies/config/dev.json");
    const { config } = reconcilePolicyPackConfig(
      infos,
      parsePolicyPackConfig(readFileSync(file, "utf8"), file),
      file,
    );
    const analyzer = createAnalyzer(pack.name, pack.version, pack.policies);
    analyzer.configure(config);
    // The time policies judge at the plan's instant, as runPlan pins it.
    vi.stubEnv(POLICY_CLOCK_ENV, NOW);

    const token = (inputs: Record<string, unknown>): AnalyzerResourceInput => ({
      urn: planned.urn,
      type: planned.type,
      name: planned.name,
      inputs,
      outputs: inputs,
      options: {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        deleteBeforeReplace: false,
        additionalSecretOutputs: ["value"],
      },
      dependencies: [],
      propertyDependencies: {},
    });
    const asIs = (await analyzer.analyze(token(planned.inputs))).diagnostics;
    expect(asIs.map((d) => [d.policyName, d.enforcementLevel])).toEqual([
      ["cloudflare-token-require-ip-restriction", "advisory"],
    ]);

    const { diagnostics } = await analyzer.analyze(token(widened));
    const wildcard = diagnostics.filter(
      (d) => d.policyName === "cloudflare-token-disallow-wildcard-resources",
    );
    expect(wildcard).toHaveLength(1);
    expect(wildcard[0]!.enforcementLevel).toBe("mandatory");
    expect(wildcard[0]!.message).toContain(
      "policies[0] grants Workers Scripts Write on com.cloudflare.api.account.*, every account the token's owner " +
        "can reach.",
    );

    const report: PlanReport = {
      ...run.report,
      violations: diagnostics.map((d) => ({
        policy: d.policyName,
        level: d.enforcementLevel,
        message: d.message,
        resource: planned.urn,
      })),
    };
    expect(exitCodeOf(report)).toBe(1);
    expect(exitCodeOf(run.report)).toBe(0);
  });
});
