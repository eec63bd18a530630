/**
 * npm run bench [-- --sizes 1,10,100,1000] [--repeat 3] [--json]
 *
 * The offline plan at scale. For each size it generates a stack of N zones (a route each, plus the
 * Worker, KV namespace, deploy token and GitHub secret) and a policy config allowing exactly those
 * zones, then measures, each in a fresh child process so peak memory is per run:
 *   plan  - the full offline plan (stack file, program, every policy), via tools/plan/run.ts;
 *   floor - the same number of bare resources registered under the same mock runtime, with no
 *           components, validation or policies.
 * Both children load the same modules before timing starts, so the figures compare the work, not
 * module loading. It prints figures; it is not a test. Targets: plan <= 1.5x floor time and peak
 * memory at every size, 10x the zones <= 12x the time (100 -> 1,000), one permission-group lookup
 * per stack.
 */
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { stringify } from "yaml";

const REPO_ROOT = join(__dirname, "..", "..");
const PROJECT = "scoped-edge";
const ACCOUNT_ID = "5f1a0c2e9b7d4a3c8e6f1b2d3c4a5e6f";
const NOW = "2026-11-23T12:00:00Z";
const STACK = "bench";
const LOOKUP_TOKENS = [
  "cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList",
  "cloudflare:index/getAccountApiTokenPermissionGroupsList:getAccountApiTokenPermissionGroupsList",
];

interface ChildResult {
  readonly ms: number;
  readonly programMs?: number;
  readonly policyMs?: number;
  readonly registered: number;
  readonly lookups?: number;
  readonly invokes?: number;
  readonly violations?: number;
  readonly mandatory?: number;
  /** Peak resident set size of the child, MiB. */
  readonly peakRssMb: number;
  /** Resident set size after the modules were loaded, before the timed run, MiB. */
  readonly baseRssMb: number;
}

const zoneId = (index: number) => (0xd0000000 + index).toString(16).padStart(32, "0").replace(/^0/, "7");

/** A stack root (Pulumi.yaml copy, Pulumi.bench.yaml) and policy config for `zones` zones. */
function generateStack(zones: number): { root: string; policyConfig: string } {
  const root = mkdtempSync(join(tmpdir(), `scoped-edge-bench-${zones}-`));
  copyFileSync(join(REPO_ROOT, "Pulumi.yaml"), join(root, "Pulumi.yaml"));
  const zoneList = Array.from({ length: zones }, (_, index) => ({
    name: `z${index}.example.com`,
    id: zoneId(index),
    routes: [`api.z${index}.example.com/*`],
  }));
  writeFileSync(
    join(root, `Pulumi.${STACK}.yaml`),
    stringify({
      config: {
        [`${PROJECT}:environment`]: "dev",
        [`${PROJECT}:accountId`]: ACCOUNT_ID,
        [`${PROJECT}:zones`]: zoneList,
        [`${PROJECT}:workerName`]: "edge-bench",
        [`${PROJECT}:githubRepository`]: "example-org/edge-app",
        [`${PROJECT}:githubEnvironment`]: "dev",
        [`${PROJECT}:providerKey`]: { secure: "v1:YmVuY2gtb25seS1jaXBoZXJ0ZXh0" },
        "cloudflare:apiToken": { secure: "v1:YmVuY2gtb25seS1hZG1pbg==" },
        "github:token": { secure: "v1:YmVuY2gtb25seS1naXRodWI=" },
      },
    }),
  );
  const policyConfig = JSON.parse(
    readFileSync(join(REPO_ROOT, "policies", "config", "dev.json"), "utf8"),
  ) as Record<string, unknown>;
  policyConfig["cloudflare-token-enforce-allowed-scope"] = {
    enforcementLevel: "mandatory",
    allowedAccountIds: [ACCOUNT_ID],
    allowedZoneIds: zoneList.map((zone) => zone.id),
  };
  const policyConfigFile = join(root, "policy-config.json");
  writeFileSync(policyConfigFile, JSON.stringify(policyConfig));
  return { root, policyConfig: policyConfigFile };
}

const mib = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 10) / 10;

// ---- children ----------------------------------------------------------------------------------

async function childPlan(root: string, policyConfig: string): Promise<ChildResult> {
  const { runPlan, repositoryPack } = await import("../plan/run.js");
  const pack = await repositoryPack();
  // One untimed 1-zone plan first: it loads the modules the SDKs require lazily (each provider
  // resource class) and warms the JIT, as the floor child's own warm-up does for its code.
  const warmUp = generateStack(1);
  try {
    await runPlan({
      root: warmUp.root,
      stack: STACK,
      now: new Date(NOW),
      policyConfigFile: warmUp.policyConfig,
      pack,
    });
  } finally {
    rmSync(warmUp.root, { recursive: true, force: true });
  }
  const baseRssMb = mib(process.memoryUsage().rss);
  const start = performance.now();
  const run = await runPlan({ root, stack: STACK, now: new Date(NOW), policyConfigFile: policyConfig, pack });
  const ms = performance.now() - start;
  return {
    ms,
    programMs: run.timings.programMs,
    policyMs: run.timings.policyMs,
    registered: run.registered,
    lookups: run.invokes.filter((invoke) => LOOKUP_TOKENS.includes(invoke.token)).length,
    invokes: run.invokes.length,
    violations: run.report.violations.length,
    mandatory: run.report.violations.filter((violation) => violation.level === "mandatory").length,
    peakRssMb: mib(process.resourceUsage().maxRSS * 1024),
    baseRssMb,
  };
}

/** `count` registrations (the root Stack included) of a resource with no inputs, nothing else. */
async function registerBare(count: number): Promise<number> {
  const pulumi = await import("@pulumi/pulumi");
  const { runProgram, startOfflineRuntime } = await import("../shared/offline-runtime.js");
  // CustomResource is abstract in the SDK's types; a bare subclass adds nothing to register.
  class Bare extends pulumi.CustomResource {
    constructor(name: string) {
      super("bench:index:Bare", name, {});
    }
  }
  const runtime = await startOfflineRuntime({ project: PROJECT, stack: STACK, config: {}, secretKeys: [] });
  await runProgram(async () => {
    // runProgram registers the root Stack itself.
    for (let index = 1; index < count; index++) new Bare(`bare-${index}`);
    return {};
  });
  return runtime.resources.length;
}

async function childFloor(count: number): Promise<ChildResult> {
  const { repositoryPack, withoutStackTraces } = await import("../plan/run.js");
  // The same modules as the plan child, and the same runtime conditions: the plan runs without
  // stack traces (tools/plan/run.ts), so the floor does too.
  await import("../../index.js");
  await repositoryPack();
  await withoutStackTraces(() => registerBare(12)); // untimed warm-up, as the plan child's 1-zone plan
  const baseRssMb = mib(process.memoryUsage().rss);
  const start = performance.now();
  const registered = await withoutStackTraces(() => registerBare(count));
  const ms = performance.now() - start;
  return { ms, registered, peakRssMb: mib(process.resourceUsage().maxRSS * 1024), baseRssMb };
}

// ---- parent ------------------------------------------------------------------------------------

function runChild(args: readonly string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", __filename, "--child", ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = stdout.trim().split("\n").pop() ?? "";
      if (code !== 0 || !line.startsWith("{")) {
        reject(new Error(`bench child ${args.join(" ")} failed (exit ${code}):\n${stderr}${stdout}`));
        return;
      }
      resolve(JSON.parse(line) as ChildResult);
    });
  });
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

function medianResult(results: readonly ChildResult[]): ChildResult {
  const pick = (key: keyof ChildResult) => {
    const values = results
      .map((result) => result[key])
      .filter((value): value is number => value !== undefined);
    return values.length === 0 ? undefined : median(values);
  };
  const first = results[0]!;
  return {
    ...first,
    ms: pick("ms")!,
    peakRssMb: pick("peakRssMb")!,
    baseRssMb: pick("baseRssMb")!,
    ...(first.programMs === undefined ? {} : { programMs: pick("programMs")! }),
    ...(first.policyMs === undefined ? {} : { policyMs: pick("policyMs")! }),
  };
}

interface SizeFigures {
  readonly zones: number;
  readonly plan: ChildResult;
  readonly floor: ChildResult;
}

const fixed = (value: number, digits = 1) => value.toFixed(digits);

function table(figures: readonly SizeFigures[]): string {
  const header = [
    "zones",
    "resources",
    "plan ms",
    "floor ms",
    "ratio",
    "program ms",
    "policy ms",
    "lookups",
    "invokes",
    "plan peak MiB",
    "floor peak MiB",
    "mem ratio",
    "plan +MiB",
    "floor +MiB",
  ];
  const rows = figures.map(({ zones, plan, floor }) => [
    String(zones),
    String(plan.registered),
    fixed(plan.ms),
    fixed(floor.ms),
    `${fixed(plan.ms / floor.ms, 2)}x`,
    fixed(plan.programMs ?? 0),
    fixed(plan.policyMs ?? 0),
    String(plan.lookups),
    String(plan.invokes),
    fixed(plan.peakRssMb),
    fixed(floor.peakRssMb),
    `${fixed(plan.peakRssMb / floor.peakRssMb, 2)}x`,
    fixed(plan.peakRssMb - plan.baseRssMb),
    fixed(floor.peakRssMb - floor.baseRssMb),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => cell.padStart(widths[column]!)).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

async function parent(argv: readonly string[]): Promise<void> {
  const option = (name: string) => {
    const index = argv.indexOf(name);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const sizes = (option("--sizes") ?? "1,10,100,1000").split(",").map(Number);
  const repeat = Number(option("--repeat") ?? "3");
  const json = argv.includes("--json");
  const figures: SizeFigures[] = [];
  for (const zones of sizes) {
    const { root, policyConfig } = generateStack(zones);
    try {
      const plans: ChildResult[] = [];
      const floors: ChildResult[] = [];
      for (let run = 0; run < repeat; run++) {
        const plan = await runChild(["plan", root, policyConfig]);
        plans.push(plan);
        floors.push(await runChild(["floor", String(plan.registered)]));
      }
      figures.push({ zones, plan: medianResult(plans), floor: medianResult(floors) });
      if (!json) process.stderr.write(`  measured ${zones} zone(s)\n`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
    return;
  }

  const out: string[] = [];
  out.push(
    `Offline plan benchmark (median of ${repeat} fresh child processes per figure; node ${process.version})`,
  );
  out.push("");
  out.push(table(figures));
  out.push("");
  out.push("plan = stack file + program + every policy; floor = the same registrations as bare resources.");
  out.push("peak = max RSS of the child; +MiB = peak minus RSS after module loading (the run's own memory).");
  const at = (zones: number) => figures.find((figure) => figure.zones === zones);
  const small = at(100);
  const large = at(1000);
  out.push("");
  out.push("Targets:");
  const timeOk = figures.every(({ plan, floor }) => plan.ms <= 1.5 * floor.ms);
  const memOk = figures.every(({ plan, floor }) => plan.peakRssMb <= 1.5 * floor.peakRssMb);
  const lookupsOk = figures.every(({ plan }) => plan.lookups === 1);
  out.push(
    `  plan <= 1.5x floor time at every size: ${timeOk ? "met" : "MISSED"} (${figures.map((f) => `${f.zones}: ${fixed(f.plan.ms / f.floor.ms, 2)}x`).join(", ")})`,
  );
  out.push(
    `  peak memory <= 1.5x floor's: ${memOk ? "met" : "MISSED"} (${figures.map((f) => `${f.zones}: ${fixed(f.plan.peakRssMb / f.floor.peakRssMb, 2)}x`).join(", ")})`,
  );
  if (small && large) {
    const growth = large.plan.ms / small.plan.ms;
    const floorGrowth = large.floor.ms / small.floor.ms;
    out.push(
      `  growth 100 -> 1,000 zones <= 12x: ${growth <= 12 ? "met" : "MISSED"} (plan ${fixed(growth, 2)}x; floor ${fixed(floorGrowth, 2)}x)`,
    );
  }
  out.push(
    `  one permission-group lookup per stack: ${lookupsOk ? "met" : "MISSED"} (${figures.map((f) => `${f.zones}: ${f.plan.lookups}`).join(", ")})`,
  );
  process.stdout.write(`${out.join("\n")}\n`);
}

async function child(argv: readonly string[]): Promise<void> {
  const [mode, ...rest] = argv;
  const result = mode === "plan" ? await childPlan(rest[0]!, rest[1]!) : await childFloor(Number(rest[0]));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const argv = process.argv.slice(2);
(argv[0] === "--child" ? child(argv.slice(1)) : parent(argv)).catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
