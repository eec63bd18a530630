/**
 * npm run bench [-- --sizes 1,10,100,1000] [--repeat 3] [--runs 7] [--json]
 *
 * The offline plan at scale. For each size it generates a stack of N zones (a route each, plus the
 * Worker, KV namespace, deploy token and GitHub secret and variables), then measures, each in a fresh
 * child process so peak memory is per run, after an untimed warm-up run at the same size, the median
 * of --runs timed runs (at 1 zone one run swings from 21 to 60 ms, by where the GCs fall):
 *   plan  - the full offline plan (stack file, config validation, program, every policy), runPlan;
 *   typed - the typed floor: the plan's own registrations (same types, names, inputs and parents)
 *           replayed through the provider SDKs' resource classes under the same mock runtime, with
 *           no project code: no config, no validation, no components' logic, no policies;
 *   bare  - the bare floor: as many registrations of an input-less resource.
 * All children load the same modules before timing and run without stack traces, as the plan does.
 * Then cold start, as processes: `npm run plan -- --stack dev` against `node -e
 * 'require("@pulumi/pulumi")'`, interleaved, median of --repeat. It prints figures; it is not a test.
 * Targets: plan <= 1.5x typed at every size; cold start <= 1.5x require; one permission-group lookup
 * per stack.
 */
import { execFile, spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import type { CustomResourceOptions, Inputs } from "@pulumi/pulumi";
import { stringify } from "yaml";

import { PERMISSION_LOOKUP_TOKENS } from "../shared/offline-runtime";

const REPO_ROOT = join(__dirname, "..", "..");
const PROJECT = "scoped-edge";
const ACCOUNT_ID = "5f1a0c2e9b7d4a3c8e6f1b2d3c4a5e6f";
const NOW = "2026-11-23T12:00:00Z";
const STACK = "bench";

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
  // Zone scope: with no zone ids configured the pack allows the stack's own zones.
  policyConfig["cloudflare-token-enforce-allowed-scope"] = {
    enforcementLevel: "mandatory",
    allowedAccountIds: [ACCOUNT_ID],
  };
  const policyConfigFile = join(root, "policy-config.json");
  writeFileSync(policyConfigFile, JSON.stringify(policyConfig));
  return { root, policyConfig: policyConfigFile };
}

const mib = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 10) / 10;

// ---- children ----------------------------------------------------------------------------------

/**
 * The median of `runs` timed calls of `work`, the last call's result, and `keep` of each call's (only
 * that is held between calls: results kept whole would grow the heap, and the GC's work, run by run).
 */
async function timed<T, K = undefined>(
  runs: number,
  work: () => Promise<T>,
  keep: (result: T) => K = () => undefined as K,
): Promise<{ ms: number; last: T; kept: K[] }> {
  const times: number[] = [];
  const kept: K[] = [];
  let last: T | undefined;
  for (let run = 0; run < runs; run++) {
    last = undefined;
    const start = performance.now();
    last = await work();
    times.push(performance.now() - start);
    kept.push(keep(last));
  }
  return { ms: median(times), last: last!, kept };
}

async function childPlan(root: string, policyConfig: string, runs: number): Promise<ChildResult> {
  const { runPlan, repositoryPack } = await import("../plan/run.js");
  const pack = await repositoryPack();
  const options = { root, stack: STACK, now: new Date(NOW), policyConfigFile: policyConfig, pack };
  await runPlan(options); // untimed warm-up at the measured size
  const baseRssMb = mib(process.memoryUsage().rss);
  const {
    ms,
    last: run,
    kept,
  } = await timed(
    runs,
    () => runPlan(options),
    ({ timings }) => timings,
  );
  return {
    ms,
    programMs: median(kept.map((timings) => timings.programMs)),
    policyMs: median(kept.map((timings) => timings.policyMs)),
    registered: run.registered,
    lookups: run.invokes.filter((invoke) =>
      (PERMISSION_LOOKUP_TOKENS as readonly string[]).includes(invoke.token),
    ).length,
    invokes: run.invokes.length,
    violations: run.report.violations.length,
    mandatory: run.report.violations.filter((violation) => violation.level === "mandatory").length,
    peakRssMb: mib(process.resourceUsage().maxRSS * 1024),
    baseRssMb,
  };
}

type Registration = import("../shared/offline-runtime.js").RegisteredResource;

/**
 * The typed floor's work: `registrations` replayed through the SDKs, each custom resource with its
 * provider package's own class (`cloudflare:index/workersScript:WorkersScript` ->
 * `require("@pulumi/cloudflare").WorkersScript`), each component as a ComponentResource, under the
 * same parents; the root Stack is runProgram's own.
 */
async function registerTyped(registrations: readonly Registration[]): Promise<number> {
  const pulumi = await import("@pulumi/pulumi");
  const { runProgram, startOfflineRuntime } = await import("../shared/offline-runtime.js");
  type ResourceClass = new (name: string, args: unknown, opts: unknown) => unknown;
  const classes = new Map<string, ResourceClass>();
  for (const { type, custom } of registrations) {
    if (!custom || classes.has(type)) continue;
    const [pkg, , name] = type.split(":");
    // A provider package's class where there is one; otherwise (e.g. a dynamic resource) the SDK's
    // own CustomResource, which is what such a class wraps.
    const sdk = (await import(`@pulumi/${pkg}`).catch(() => ({}))) as Record<string, ResourceClass>;
    classes.set(
      type,
      sdk[name!] ??
        (class extends pulumi.CustomResource {
          constructor(resourceName: string, args: unknown, opts: unknown) {
            super(type, resourceName, args as Inputs, opts as CustomResourceOptions);
          }
        } as unknown as ResourceClass),
    );
  }
  const runtime = await startOfflineRuntime({ project: PROJECT, stack: STACK, config: {}, secretKeys: [] });
  await runProgram(async () => {
    const byUrn = new Map<string, unknown>();
    for (const registration of registrations) {
      if (registration.type === "pulumi:pulumi:Stack") continue;
      const parent = registration.parent === undefined ? undefined : byUrn.get(registration.parent);
      const opts = parent === undefined ? {} : { parent };
      const Class = classes.get(registration.type);
      byUrn.set(
        registration.urn,
        Class === undefined
          ? new pulumi.ComponentResource(registration.type, registration.name, {}, opts as never)
          : new Class(registration.name, registration.inputs, opts),
      );
    }
    return {};
  });
  return runtime.resources.length;
}

async function childTyped(root: string, policyConfig: string, runs: number): Promise<ChildResult> {
  const { runPlan, repositoryPack, withoutStackTraces } = await import("../plan/run.js");
  const pack = await repositoryPack();
  // The plan itself, untimed, for the registrations to replay (and the same modules loaded).
  const { registrations } = await runPlan({
    root,
    stack: STACK,
    now: new Date(NOW),
    policyConfigFile: policyConfig,
    pack,
  });
  const inputs = registrations.map((registration) => ({ ...registration, inputs: registration.inputs }));
  await withoutStackTraces(() => registerTyped(inputs)); // untimed warm-up at the measured size
  const baseRssMb = mib(process.memoryUsage().rss);
  const { ms, last: registered } = await timed(runs, () => withoutStackTraces(() => registerTyped(inputs)));
  return { ms, registered, peakRssMb: mib(process.resourceUsage().maxRSS * 1024), baseRssMb };
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

async function childBare(count: number, runs: number): Promise<ChildResult> {
  const { repositoryPack, withoutStackTraces } = await import("../plan/run.js");
  // The same modules as the plan child, and the same runtime conditions: the plan runs without
  // stack traces (tools/plan/run.ts), so the floor does too.
  await import("../../index.js");
  await repositoryPack();
  await withoutStackTraces(() => registerBare(count)); // untimed warm-up at the measured size
  const baseRssMb = mib(process.memoryUsage().rss);
  const { ms, last: registered } = await timed(runs, () => withoutStackTraces(() => registerBare(count)));
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
  readonly typed: ChildResult;
  readonly bare: ChildResult;
}

const fixed = (value: number, digits = 1) => value.toFixed(digits);
const ratio = (value: number, base: number) => `${fixed(value / base, 2)}x`;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => cell.padStart(widths[column]!)).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

function sizeTable(figures: readonly SizeFigures[]): string {
  return table(
    [
      "zones",
      "resources",
      "plan ms",
      "typed ms",
      "bare ms",
      "plan/typed",
      "plan/bare",
      "program ms",
      "policy ms",
      "lookups",
      "plan peak MiB",
      "typed peak MiB",
    ],
    figures.map(({ zones, plan, typed, bare }) => [
      String(zones),
      String(plan.registered),
      fixed(plan.ms),
      fixed(typed.ms),
      fixed(bare.ms),
      ratio(plan.ms, typed.ms),
      ratio(plan.ms, bare.ms),
      fixed(plan.programMs ?? 0),
      fixed(plan.policyMs ?? 0),
      String(plan.lookups),
      fixed(plan.peakRssMb),
      fixed(typed.peakRssMb),
    ]),
  );
}

/** Wall-clock ms of one process run to completion (its exit code must be 0). */
function timeProcess(file: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    execFile(file, args, { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 }, (error) => {
      if (error) reject(error);
      else resolve(performance.now() - start);
    });
  });
}

interface ColdStart {
  readonly requireMs: number;
  readonly planMs: number;
}

/** Cold start as processes, interleaved so both see the same machine; medians of `repeat`. */
async function coldStart(repeat: number): Promise<ColdStart> {
  const requires: number[] = [];
  const plans: number[] = [];
  // One untimed plan first: it builds the plan's bundle cache (tools/plan/cli.cjs) if stale.
  await timeProcess("npm", ["run", "-s", "plan", "--", "--stack", "dev"]);
  for (let run = 0; run < repeat; run++) {
    requires.push(await timeProcess(process.execPath, ["-e", 'require("@pulumi/pulumi")']));
    plans.push(await timeProcess("npm", ["run", "-s", "plan", "--", "--stack", "dev"]));
  }
  return { requireMs: median(requires), planMs: median(plans) };
}

/** A bad option: reported as its message alone, exit 2. */
class UsageError extends Error {}

async function parent(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      sizes: { type: "string", default: "1,10,100,1000" },
      repeat: { type: "string", default: "3" },
      runs: { type: "string", default: "7" },
      json: { type: "boolean", default: false },
    },
  });
  const sizes = values.sizes.split(",").map(Number);
  for (const [option, numbers] of [
    ["--sizes", sizes],
    ["--repeat", [Number(values.repeat)]],
    ["--runs", [Number(values.runs)]],
  ] as const) {
    if (!numbers.every((value) => Number.isInteger(value) && value > 0)) {
      throw new UsageError(
        `${option} takes positive whole numbers (got "${values[option.slice(2) as "sizes"]}")`,
      );
    }
  }
  const repeat = Number(values.repeat);
  const runs = values.runs;
  const figures: SizeFigures[] = [];
  for (const zones of sizes) {
    const { root, policyConfig } = generateStack(zones);
    try {
      const results: { plan: ChildResult[]; typed: ChildResult[]; bare: ChildResult[] } = {
        plan: [],
        typed: [],
        bare: [],
      };
      for (let run = 0; run < repeat; run++) {
        const plan = await runChild(["plan", runs, root, policyConfig]);
        results.plan.push(plan);
        results.typed.push(await runChild(["typed", runs, root, policyConfig]));
        results.bare.push(await runChild(["bare", runs, String(plan.registered)]));
      }
      figures.push({
        zones,
        plan: medianResult(results.plan),
        typed: medianResult(results.typed),
        bare: medianResult(results.bare),
      });
      if (!values.json) process.stderr.write(`  measured ${zones} zone(s)\n`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  const cold = await coldStart(repeat);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ sizes: figures, coldStart: cold }, null, 2)}\n`);
    return;
  }

  const out: string[] = [];
  out.push(
    `Offline plan benchmark (median of ${repeat} fresh child processes per figure, each the median of ${runs} timed runs; node ${process.version}; load average ${loadavg()
      .map((load) => fixed(load, 2))
      .join(" ")})`,
  );
  out.push("");
  out.push(sizeTable(figures));
  out.push("");
  out.push("plan = stack file + config + program + every policy; typed = the plan's registrations replayed");
  out.push("through the provider SDKs' classes, no project code; bare = as many input-less registrations.");
  out.push("");
  out.push(
    table(
      ["cold start", "ms"],
      [
        ["node -e 'require(\"@pulumi/pulumi\")'", fixed(cold.requireMs)],
        ["npm run plan -- --stack dev", fixed(cold.planMs)],
      ],
    ),
  );
  out.push("");
  out.push("Targets:");
  const timeOk = figures.every(({ plan, typed }) => plan.ms <= 1.5 * typed.ms);
  out.push(
    `  plan <= 1.5x typed floor at every size: ${timeOk ? "met" : "MISSED"} (${figures.map((f) => `${f.zones}: ${ratio(f.plan.ms, f.typed.ms)}`).join(", ")}; bare-floor ratio ${figures.map((f) => `${f.zones}: ${ratio(f.plan.ms, f.bare.ms)}`).join(", ")})`,
  );
  out.push(
    `  cold start <= 1.5x require("@pulumi/pulumi"): ${cold.planMs <= 1.5 * cold.requireMs ? "met" : "MISSED"} (${ratio(cold.planMs, cold.requireMs)})`,
  );
  const lookupsOk = figures.every(({ plan }) => plan.lookups === 1);
  out.push(
    `  one permission-group lookup per stack: ${lookupsOk ? "met" : "MISSED"} (${figures.map((f) => `${f.zones}: ${f.plan.lookups}`).join(", ")})`,
  );
  process.stdout.write(`${out.join("\n")}\n`);
}

async function child(argv: readonly string[]): Promise<void> {
  const [mode, runsText, ...rest] = argv;
  const runs = Number(runsText);
  const result =
    mode === "plan"
      ? await childPlan(rest[0]!, rest[1]!, runs)
      : mode === "typed"
        ? await childTyped(rest[0]!, rest[1]!, runs)
        : await childBare(Number(rest[0]), runs);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const argv = process.argv.slice(2);
(argv[0] === "--child" ? child(argv.slice(1)) : parent(argv)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`bench: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
