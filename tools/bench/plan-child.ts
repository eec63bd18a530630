/**
 * One measurement of npm run bench (tools/bench/plan.ts), in a process of its own started through
 * the tools' launcher (tools/shared/launch.cjs), as `npm run plan` starts: the plan's code runs as
 * the same esbuild bundle under plain node, not through tsx's transform. The floors run the same way,
 * so all three see the same runtime. Arguments: <plan|typed|bare> <runs> <warm-up ms> then
 * <root> <policy config file> (plan, typed) or <registrations> (bare); prints one JSON line.
 */
export const PROJECT = "scoped-edge";
const NOW = "2026-11-23T12:00:00Z";
export const STACK = "bench";

export interface ChildResult {
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

const mib = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 10) / 10;

export const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

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

/**
 * Untimed runs of `work` at the measured size until at least 3 have run and `ms` have passed: the
 * same for every child, so each is measured with its code as optimized as the JIT makes it (one run
 * left the plan's larger code, config validation to report, half warm: at 100 zones its next seven
 * runs took 100-180 ms where later ones take 60-110).
 */
async function warmUp(ms: number, work: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  for (let run = 0; run < 3 || performance.now() - start < ms; run++) await work();
}

async function childPlan(
  root: string,
  policyConfig: string,
  runs: number,
  warmupMs: number,
): Promise<ChildResult> {
  const { runPlan, repositoryPack } = await import("../plan/run.js");
  const { PERMISSION_LOOKUP_TOKENS } = await import("../shared/offline-runtime.js");
  const pack = await repositoryPack();
  const options = { root, stack: STACK, now: new Date(NOW), policyConfigFile: policyConfig, pack };
  await warmUp(warmupMs, () => runPlan(options));
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

async function childTyped(
  root: string,
  policyConfig: string,
  runs: number,
  warmupMs: number,
): Promise<ChildResult> {
  const { runPlan, repositoryPack, withoutStackTraces } = await import("../plan/run.js");
  const { runProgram, startOfflineRuntime } = await import("../shared/offline-runtime.js");
  const { floorClasses, floorFunctions, replayProgram } = await import("./typed-floor.js");
  const pack = await repositoryPack();
  // The plan itself, untimed, for the traffic to replay (and the same modules loaded).
  const { registrations, engineOutputs, invokes } = await runPlan({
    root,
    stack: STACK,
    now: new Date(NOW),
    policyConfigFile: policyConfig,
    pack,
  });
  const replay = replayProgram({
    registrations,
    outputs: engineOutputs,
    invokes,
    classes: await floorClasses(registrations),
    functions: await floorFunctions(invokes),
  });
  const registerTyped = async () => {
    const runtime = await startOfflineRuntime({ project: PROJECT, stack: STACK, config: {}, secretKeys: [] });
    await runProgram(replay);
    return runtime.resources.length;
  };
  await warmUp(warmupMs, () => withoutStackTraces(registerTyped));
  const baseRssMb = mib(process.memoryUsage().rss);
  const { ms, last: registered } = await timed(runs, () => withoutStackTraces(registerTyped));
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

async function childBare(count: number, runs: number, warmupMs: number): Promise<ChildResult> {
  const { repositoryPack, withoutStackTraces } = await import("../plan/run.js");
  // The same modules as the plan child, and the same runtime conditions: the plan runs without
  // stack traces (tools/plan/run.ts), so the floor does too.
  await import("../../index.js");
  await repositoryPack();
  await warmUp(warmupMs, () => withoutStackTraces(() => registerBare(count)));
  const baseRssMb = mib(process.memoryUsage().rss);
  const { ms, last: registered } = await timed(runs, () => withoutStackTraces(() => registerBare(count)));
  return { ms, registered, peakRssMb: mib(process.resourceUsage().maxRSS * 1024), baseRssMb };
}

async function child(argv: readonly string[]): Promise<void> {
  const [mode, runsText, warmupText, ...rest] = argv;
  const runs = Number(runsText);
  const warmupMs = Number(warmupText);
  const result =
    mode === "plan"
      ? await childPlan(rest[0]!, rest[1]!, runs, warmupMs)
      : mode === "typed"
        ? await childTyped(rest[0]!, rest[1]!, runs, warmupMs)
        : await childBare(Number(rest[0]), runs, warmupMs);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  child(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`bench child: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
