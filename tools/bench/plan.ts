/**
 * npm run bench [-- --sizes 1,10,100,1000] [--repeat 3] [--runs 7] [--warmup 1000] [--json]
 *
 * The offline plan at scale. For each size it generates a stack of N zones (a route each, plus the
 * Worker, KV namespace, deploy token and GitHub secret and variables), then measures, each in a fresh
 * child process so peak memory is per run, after untimed warm-up runs at the same size (at least 3
 * and --warmup ms), the median of --runs timed runs (at 1 zone one run swings from 21 to 60 ms, by
 * where the GCs fall):
 *   plan  - the full offline plan (stack file, config validation, program, every policy), runPlan;
 *   typed - the typed floor: the plan's own engine traffic (every registration with its inputs,
 *           parent, provider, options and dependencies, and the components' and stack's outputs)
 *           replayed through the provider SDKs' resource classes under the same mock runtime, with
 *           no project code: no config, no validation, no components' logic, no policies
 *           (tools/bench/typed-floor.ts);
 *   bare  - the bare floor: as many registrations of an input-less resource.
 * Each child runs as the plan runs under `npm run plan`: through the tools' launcher, its code one
 * esbuild bundle under plain node (tools/bench/plan-child.ts). All children load the same modules
 * before timing and run without stack traces, as the plan does.
 * Then cold start, as processes: `npm run plan -- --stack dev` against `node -e
 * 'require("@pulumi/pulumi")'`, interleaved, median of --repeat. It prints figures; it is not a test.
 * Targets: plan <= 1.5x typed at every size; cold start <= 1.5x require; one permission-group lookup
 * per stack.
 */
import { execFile, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { median, type ChildResult } from "./plan-child";
import { generateStack } from "./stack";

const REPO_ROOT = join(__dirname, "..", "..");
/** Each child starts as `npm run plan` does: the entry bundled and run under plain node. */
const LAUNCHER = join(REPO_ROOT, "tools", "shared", "launch.cjs");
const CHILD_ENTRY = join(__dirname, "plan-child.ts");
// ---- parent ------------------------------------------------------------------------------------

function runChild(args: readonly string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LAUNCHER, CHILD_ENTRY, ...args], {
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
      warmup: { type: "string", default: "1000" },
      json: { type: "boolean", default: false },
    },
  });
  const sizes = values.sizes.split(",").map(Number);
  for (const [option, numbers] of [
    ["--sizes", sizes],
    ["--repeat", [Number(values.repeat)]],
    ["--runs", [Number(values.runs)]],
    ["--warmup", [Number(values.warmup)]],
  ] as const) {
    if (!numbers.every((value) => Number.isInteger(value) && value > 0)) {
      throw new UsageError(
        `${option} takes positive whole numbers (got "${values[option.slice(2) as "sizes"]}")`,
      );
    }
  }
  const repeat = Number(values.repeat);
  const runs = values.runs;
  const warmup = values.warmup;
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
        const plan = await runChild(["plan", runs, warmup, root, policyConfig]);
        results.plan.push(plan);
        results.typed.push(await runChild(["typed", runs, warmup, root, policyConfig]));
        results.bare.push(await runChild(["bare", runs, warmup, String(plan.registered)]));
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
    `Offline plan benchmark (median of ${repeat} fresh child processes per figure, each the median of ${runs} timed runs after ${warmup} ms of warm-up; node ${process.version}; load average ${loadavg()
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

const argv = process.argv.slice(2);
parent(argv).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`bench: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
