/**
 * npm run bench [-- --sizes 1,10,100,1000] [--repeat 3] [--runs 15] [--warmup 1000] [--instructions] [--json]
 *
 * The offline plan at scale. For each size it generates a stack of N zones (a route each, plus the
 * Worker, KV namespace, deploy token and GitHub secret and variables, tools/bench/stack.ts), then
 * measures three subjects, each in a fresh child process of its own (its own heap and peak memory),
 * after untimed warm-up runs at the same size (at least 3 and --warmup ms):
 *   plan  - the full offline plan (stack file, config validation, program, every policy), runPlan;
 *   typed - the typed floor: the plan's own engine traffic (every registration with its inputs,
 *           parent, provider, options and dependencies, and the components' and stack's outputs)
 *           replayed through the provider SDKs' resource classes under the same mock runtime, with
 *           no project code: no config, no validation, no components' logic, no policies
 *           (tools/bench/typed-floor.ts);
 *   bare  - the bare floor: as many registrations of an input-less resource.
 * Each child runs as the plan runs under `npm run plan`: through the tools' launcher, its code one
 * esbuild bundle under plain node (tools/bench/plan-child.ts). All children load the same modules
 * before timing and run without stack traces, as the plan does. The three children of a group then
 * take turns of 3 timed runs each until each has --runs: the machine's noisy moments (on a shared
 * 2-core machine the same plan's median moves by half from one minute to the next) fall on all
 * three, and each ratio is taken within a group; --repeat groups per size, the median reported.
 * Then cold start, as processes: `npm run plan -- --stack dev` against `node -e
 * 'require("@pulumi/pulumi")'`, interleaved, median of --repeat. It prints figures; it is not a test.
 * Targets: plan <= 1.5x typed at every size; cold start <= 1.5x require; one permission-group lookup
 * per stack.
 *
 * --instructions counts instead of timing: the instructions per run of the plan and the typed floor
 * at each size under valgrind's callgrind, V8 made deterministic (a figure that does not move with
 * the machine's load, for judging a change on a noisy machine; minutes per size, needs valgrind).
 */
import { execFile, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { escapeControl } from "../../lib/text";
import { median, type ChildSummary, type FromChild, type RunTimings, type ToChild } from "./protocol";
import { generateStack } from "./stack";

const REPO_ROOT = join(__dirname, "..", "..");
/** Each child starts as `npm run plan` does: the entry bundled and run under plain node. */
const LAUNCHER = join(REPO_ROOT, "tools", "shared", "launch.cjs");
const CHILD_ENTRY = join(__dirname, "plan-child.ts");
// ---- parent ------------------------------------------------------------------------------------

/** A warmed-up child (tools/bench/plan-child.ts) and its IPC channel. */
interface Child {
  readonly label: string;
  /** What the child registers per run. */
  readonly registered: number;
  run(): Promise<RunTimings>;
  finish(): Promise<ChildSummary>;
}

/** Starts a child and waits until it has warmed up; it fails with the child's stderr if it dies. */
function startChild(args: readonly string[]): Promise<Child> {
  const label = args.slice(0, 1).join(" ");
  const child = spawn(process.execPath, [LAUNCHER, CHILD_ENTRY, ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  // Replies arrive in order, one per request: a queue of waiting requests.
  const waiting: {
    kind: FromChild["kind"];
    resolve: (message: FromChild) => void;
    reject: (error: Error) => void;
  }[] = [];
  const failure = (reason: string) => new Error(`bench child ${args.join(" ")} ${reason}:\n${stderr}`);
  child.on("message", (message: FromChild) => {
    const next = waiting.shift();
    if (next === undefined || next.kind !== message.kind) {
      child.kill();
      next?.reject(failure(`sent "${message.kind}" out of turn`));
      return;
    }
    next.resolve(message);
  });
  child.on("exit", (code, signal) => {
    for (const next of waiting.splice(0)) next.reject(failure(`exited (${signal ?? code})`));
  });
  const expect = <Kind extends FromChild["kind"]>(kind: Kind, request?: ToChild) =>
    new Promise<Extract<FromChild, { kind: Kind }>>((resolve, reject) => {
      waiting.push({ kind, resolve: resolve as (message: FromChild) => void, reject });
      if (request !== undefined) child.send(request);
    });
  return expect("ready").then((ready) => ({
    label,
    registered: ready.registered,
    run: () => expect("run", "run").then((reply) => reply.timings),
    finish: () => expect("summary", "finish").then((reply) => reply.summary),
  }));
}

/** One subject's figures at one size: medians over its children of each child's median run. */
interface SubjectFigures extends ChildSummary {
  readonly ms: number;
  readonly programMs?: number;
  readonly policyMs?: number;
}

interface SizeFigures {
  readonly zones: number;
  readonly plan: SubjectFigures;
  readonly typed: SubjectFigures;
  readonly bare: SubjectFigures;
  /** Median over the groups of children of plan/typed, each from the group's interleaved runs. */
  readonly planToTyped: number;
  /** Each group's plan/typed, in order: how far one group's ratio strays from the next. */
  readonly planToTypedByGroup: readonly number[];
  readonly planToBare: number;
}

/** Each child's runs and summary, for one subject. */
interface Measured {
  readonly runs: RunTimings[];
  readonly summary: ChildSummary;
}

function subjectFigures(measured: readonly Measured[]): SubjectFigures {
  const pick = (read: (timings: RunTimings) => number | undefined) => {
    const values = measured.map(({ runs }) => runs.map(read).filter((value) => value !== undefined));
    return values[0]!.length === 0 ? undefined : median(values.map(median));
  };
  const programMs = pick((timings) => timings.programMs);
  const policyMs = pick((timings) => timings.policyMs);
  return {
    ...measured[0]!.summary,
    peakRssMb: median(measured.map(({ summary }) => summary.peakRssMb)),
    baseRssMb: median(measured.map(({ summary }) => summary.baseRssMb)),
    ms: pick((timings) => timings.ms)!,
    ...(programMs === undefined ? {} : { programMs }),
    ...(policyMs === undefined ? {} : { policyMs }),
  };
}

/**
 * Timed runs per turn. The first run of a turn follows another process's runs, with the caches
 * theirs; the median of a child's runs is then a run in the warm steady state the warm-up is for,
 * while the turns stay short enough (a few runs) for the machine's slow moments to fall on all.
 */
const RUNS_PER_TURN = 3;

/**
 * One size: `repeat` groups of three children (plan, typed, bare), each group warmed up one child
 * at a time and then measured in turns of RUNS_PER_TURN runs until each has `runs` (rounded up), the
 * first child of a round rotating; each subject's run medians and the group's ratios.
 */
async function measureSize(
  root: string,
  policyConfig: string,
  repeat: number,
  runs: number,
  warmup: string,
): Promise<Omit<SizeFigures, "zones">> {
  const measured = { plan: [] as Measured[], typed: [] as Measured[], bare: [] as Measured[] };
  const toTyped: number[] = [];
  const toBare: number[] = [];
  for (let group = 0; group < repeat; group++) {
    const plan = await startChild(["plan", warmup, root, policyConfig]);
    const typed = await startChild(["typed", warmup, root, policyConfig]);
    const bare = await startChild(["bare", warmup, String(plan.registered)]);
    const children = [plan, typed, bare];
    const times = new Map<Child, RunTimings[]>(children.map((child) => [child, []]));
    for (let round = 0; round * RUNS_PER_TURN < runs; round++) {
      for (let turn = 0; turn < children.length; turn++) {
        const child = children[(round + turn) % children.length]!;
        for (let run = 0; run < RUNS_PER_TURN; run++) times.get(child)!.push(await child.run());
      }
    }
    const results = await Promise.all(
      children.map(async (child) => ({ runs: times.get(child)!, summary: await child.finish() })),
    );
    measured.plan.push(results[0]!);
    measured.typed.push(results[1]!);
    measured.bare.push(results[2]!);
    const ms = (result: Measured) => median(result.runs.map((timings) => timings.ms));
    toTyped.push(ms(results[0]!) / ms(results[1]!));
    toBare.push(ms(results[0]!) / ms(results[2]!));
  }
  return {
    plan: subjectFigures(measured.plan),
    typed: subjectFigures(measured.typed),
    bare: subjectFigures(measured.bare),
    planToTyped: median(toTyped),
    planToTypedByGroup: toTyped,
    planToBare: median(toBare),
  };
}

const fixed = (value: number, digits = 1) => value.toFixed(digits);
const times = (value: number) => `${fixed(value, 2)}x`;
const ratio = (value: number, base: number) => times(value / base);
/** The spread of the groups' ratios beside their median: " (groups 1.34-1.58x)", or "" for one group. */
const groupRange = (ratios: readonly number[]) =>
  ratios.length < 2 ? "" : ` (groups ${fixed(Math.min(...ratios), 2)}-${times(Math.max(...ratios))})`;

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
    figures.map(({ zones, plan, typed, bare, planToTyped, planToBare }) => [
      String(zones),
      String(plan.registered),
      fixed(plan.ms),
      fixed(typed.ms),
      fixed(bare.ms),
      times(planToTyped),
      times(planToBare),
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

// ---- instructions (--instructions) --------------------------------------------------------------

/**
 * V8 made deterministic for counting: no concurrent compiler or GC threads whose share of the
 * count moves from one process to the next (two counts of the same plan agree within 0.1%).
 */
const COUNTING_NODE_FLAGS = ["--predictable", "--single-threaded"];
/** Runs in the shorter and the longer counted process: the difference is what the runs cost. */
const COUNTED_RUNS = [5, 25] as const;

/** Instructions callgrind counts for one `count` child (tools/bench/plan-child.ts) to exit. */
function instructions(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(
      "valgrind",
      [
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        process.execPath,
        ...COUNTING_NODE_FLAGS,
        LAUNCHER,
        CHILD_ENTRY,
        "count",
        ...args,
      ],
      { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        const collected = /Collected : (\d+)/.exec(stderr);
        if (error || collected === null)
          reject(new Error(`callgrind count ${args.join(" ")} failed:\n${stderr}`));
        else resolve(Number(collected[1]));
      },
    );
  });
}

/** Instructions per run of `subject` at one size: the counts of COUNTED_RUNS, differenced. */
async function instructionsPerRun(
  subject: "plan" | "typed",
  root: string,
  policyConfig: string,
): Promise<number> {
  // Untimed, uncounted starts first: the launcher's bundle and this flag set's start cache are
  // written, so both counted processes start from the same caches.
  for (let start = 0; start < 2; start++) {
    await timeProcess(process.execPath, [
      ...COUNTING_NODE_FLAGS,
      LAUNCHER,
      CHILD_ENTRY,
      "count",
      subject,
      "1",
      root,
      policyConfig,
    ]);
  }
  const [fewer, more] = COUNTED_RUNS;
  const counts = [];
  for (const runs of COUNTED_RUNS)
    counts.push(await instructions([subject, String(runs), root, policyConfig]));
  return (counts[1]! - counts[0]!) / (more - fewer);
}

interface InstructionFigures {
  readonly zones: number;
  /** Instructions per run, millions. */
  readonly plan: number;
  readonly typed: number;
}

/** valgrind on PATH, or a usage error saying what --instructions needs. */
function requireValgrind(): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile("valgrind", ["--version"], (error) =>
      error
        ? reject(
            new UsageError(
              "--instructions counts with valgrind's callgrind: install valgrind (apt-get install valgrind)",
            ),
          )
        : resolve(),
    ),
  );
}

/** A bad option: reported as its message alone, exit 2. */
class UsageError extends Error {}

async function parent(argv: readonly string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      tokens: true,
      options: {
        sizes: { type: "string", default: "1,10,100,1000" },
        repeat: { type: "string", default: "3" },
        runs: { type: "string", default: "15" },
        warmup: { type: "string", default: "1000" },
        instructions: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, tokens } = parsed;
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
  if (values.instructions) {
    // Counting has no groups, timed runs or warm-up: a timing option given with it is a mistake.
    const timing = tokens.find(
      (token) => token.kind === "option" && ["repeat", "runs", "warmup"].includes(token.name),
    );
    if (timing?.kind === "option") {
      throw new UsageError(`${timing.rawName} times runs; --instructions counts them: drop one of the two`);
    }
    await requireValgrind();
    await countSizes(sizes, values.json);
    return;
  }
  const repeat = Number(values.repeat);
  const runs = values.runs;
  const warmup = values.warmup;
  const figures: SizeFigures[] = [];
  for (const zones of sizes) {
    const { root, policyConfig } = generateStack(zones);
    try {
      figures.push({ zones, ...(await measureSize(root, policyConfig, repeat, Number(runs), warmup)) });
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
    `Offline plan benchmark (${repeat} groups of fresh child processes per size, one per subject, each warmed up for ${warmup} ms and then timed ${runs} times, the group's children taking turns of ${RUNS_PER_TURN} runs; ms: median over the groups of each child's median run; ratios: median over the groups of the group's ratio; node ${process.version}; load average ${loadavg()
      .map((load) => fixed(load, 2))
      .join(" ")})`,
  );
  out.push("");
  out.push(sizeTable(figures));
  out.push("");
  out.push(
    "plan = stack file + config + program + every policy; typed = the plan's engine traffic (registrations",
  );
  out.push(
    "with options and dependencies, outputs, invokes) replayed through the provider SDKs' classes and functions,",
  );
  out.push("no project code; bare = as many input-less registrations.");
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
  const timeOk = figures.every(({ planToTyped }) => planToTyped <= 1.5);
  out.push(
    `  plan <= 1.5x typed floor at every size: ${timeOk ? "met" : "MISSED"} (${figures.map((f) => `${f.zones}: ${times(f.planToTyped)}${groupRange(f.planToTypedByGroup)}`).join(", ")}; bare-floor ratio ${figures.map((f) => `${f.zones}: ${times(f.planToBare)}`).join(", ")})`,
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

/** --instructions: each size's plan and typed floor counted side by side (valgrind is single-threaded). */
async function countSizes(sizes: readonly number[], json: boolean): Promise<void> {
  const figures: InstructionFigures[] = [];
  for (const zones of sizes) {
    const { root, policyConfig } = generateStack(zones);
    try {
      const [plan, typed] = await Promise.all(
        (["plan", "typed"] as const).map((subject) => instructionsPerRun(subject, root, policyConfig)),
      );
      figures.push({ zones, plan: plan! / 1e6, typed: typed! / 1e6 });
      if (!json) process.stderr.write(`  counted ${zones} zone(s)\n`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ instructions: figures }, null, 2)}\n`);
    return;
  }
  const [fewer, more] = COUNTED_RUNS;
  process.stdout.write(
    [
      `Offline plan instructions per run (valgrind callgrind; node ${COUNTING_NODE_FLAGS.join(" ")}; each subject counted in a process of ${fewer} runs and one of ${more}, the difference divided by ${more - fewer}; node ${process.version})`,
      "",
      table(
        ["zones", "plan M", "typed M", "plan/typed"],
        figures.map(({ zones, plan, typed }) => [
          String(zones),
          fixed(plan),
          fixed(typed),
          ratio(plan, typed),
        ]),
      ),
      "",
      "The work each run does, whatever the machine's load: a diagnostic beside the timed bench, not its",
      "target (time also pays for memory traffic and garbage collection, which instructions do not show).",
      "",
    ].join("\n"),
  );
}

const argv = process.argv.slice(2);
parent(argv).catch((error: unknown) => {
  if (error instanceof UsageError) {
    // The message may quote what was typed: control characters are shown, not sent to the terminal.
    process.stderr.write(`bench: ${escapeControl(error.message)}\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
