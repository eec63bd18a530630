/**
 * One subject of npm run bench (tools/bench/plan.ts) in a process of its own, started through the
 * tools' launcher (tools/shared/launch.cjs) as `npm run plan` starts: the plan's code runs as the
 * same esbuild bundle under plain node, not through tsx's transform. The floors run the same way, so
 * all three see the same runtime, each with a heap of its own. Arguments: <plan|typed|bare>
 * <warm-up ms> then <root> <policy config file> (plan, typed) or <registrations> (bare).
 *
 * The child prepares its subject, warms it up, then answers the parent over the IPC channel: "run"
 * runs it once and replies with the run's timings, "finish" replies with the summary and exits. The
 * parent takes turns between the children of one size, run by run, so the machine's slow and quiet
 * moments fall on all of them alike. With `count` first (npm run bench --instructions) it only runs
 * the plan or the typed floor a given number of times, with no IPC.
 */
import { PROJECT, STACK, type ChildSummary, type FromChild, type RunTimings, type ToChild } from "./protocol";

const NOW = "2026-11-23T12:00:00Z";

const mib = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 10) / 10;

/**
 * A subject: one untimed-or-timed run of its work (returning only the timings the parent keeps: a
 * result kept whole would grow the heap, and the GC's work, run by run) and its summary.
 */
interface Subject {
  run(): Promise<Omit<RunTimings, "ms">>;
  summary(): Omit<ChildSummary, "peakRssMb" | "baseRssMb">;
}

async function planSubject(root: string, policyConfig: string): Promise<Subject> {
  const { runPlan, repositoryPack } = await import("../plan/run.js");
  const { PERMISSION_LOOKUP_TOKENS } = await import("../shared/offline-runtime.js");
  const pack = await repositoryPack();
  const options = { root, stack: STACK, now: new Date(NOW), policyConfigFile: policyConfig, pack };
  let last: Awaited<ReturnType<typeof runPlan>> | undefined;
  return {
    async run() {
      last = undefined;
      last = await runPlan(options);
      return { programMs: last.timings.programMs, policyMs: last.timings.policyMs };
    },
    summary: () => ({
      registered: last!.registered,
      lookups: last!.invokes.filter((invoke) =>
        (PERMISSION_LOOKUP_TOKENS as readonly string[]).includes(invoke.token),
      ).length,
      invokes: last!.invokes.length,
      violations: last!.report.violations.length,
      mandatory: last!.report.violations.filter((violation) => violation.level === "mandatory").length,
    }),
  };
}

/** The typed floor (tools/bench/typed-floor.ts): the plan's traffic replayed through the SDKs. */
async function typedSubject(root: string, policyConfig: string): Promise<Subject> {
  const { runPlan, repositoryPack } = await import("../plan/run.js");
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
  return floorSubject(replay);
}

/** The bare floor: `count` registrations (the root Stack included) of a resource with no inputs. */
async function bareSubject(count: number): Promise<Subject> {
  const pulumi = await import("@pulumi/pulumi");
  const { repositoryPack } = await import("../plan/run.js");
  // The same modules as the plan child.
  await import("../../index.js");
  await repositoryPack();
  // CustomResource is abstract in the SDK's types; a bare subclass adds nothing to register.
  class Bare extends pulumi.CustomResource {
    constructor(name: string) {
      super("bench:index:Bare", name, {});
    }
  }
  // runProgram registers the root Stack itself.
  return floorSubject(async () => {
    for (let index = 1; index < count; index++) new Bare(`bare-${index}`);
    return {};
  });
}

/**
 * A floor: `program` run under the mock runtime as the plan runs its program (without stack traces,
 * tools/plan/run.ts), nothing else.
 */
async function floorSubject(program: () => Promise<Record<string, unknown>>): Promise<Subject> {
  const { withoutStackTraces } = await import("../plan/run.js");
  const { runProgram, startOfflineRuntime } = await import("../shared/offline-runtime.js");
  let registered = 0;
  return {
    run: () =>
      withoutStackTraces(async () => {
        const runtime = await startOfflineRuntime({
          project: PROJECT,
          stack: STACK,
          config: {},
          secretKeys: [],
        });
        await runProgram(program);
        registered = runtime.resources.length;
        return {};
      }),
    summary: () => ({ registered }),
  };
}

/**
 * Untimed runs at the measured size until at least 3 have run and `ms` have passed: the same for
 * every child, so each is measured with its code as optimized as the JIT makes it (one run left the
 * plan's larger code, config validation to report, half warm: at 100 zones its next seven runs took
 * 100-180 ms where later ones take 60-110).
 */
async function warmUp(ms: number, subject: Subject): Promise<void> {
  const start = performance.now();
  for (let run = 0; run < 3 || performance.now() - start < ms; run++) await subject.run();
}

async function child(argv: readonly string[]): Promise<void> {
  const [mode, warmupText, ...rest] = argv;
  const send = (message: FromChild) => process.send!(message);
  const subject =
    mode === "plan"
      ? await planSubject(rest[0]!, rest[1]!)
      : mode === "typed"
        ? await typedSubject(rest[0]!, rest[1]!)
        : await bareSubject(Number(rest[0]));
  await warmUp(Number(warmupText), subject);
  const baseRssMb = mib(process.memoryUsage().rss);
  // One message at a time: the parent waits for each reply before it sends the next.
  process.on("message", (message: ToChild) => {
    if (message === "run") {
      const start = performance.now();
      void subject
        .run()
        .then((phases) => send({ kind: "run", timings: { ms: performance.now() - start, ...phases } }), fail);
    } else {
      send({
        kind: "summary",
        summary: { ...subject.summary(), peakRssMb: mib(process.resourceUsage().maxRSS * 1024), baseRssMb },
      });
      process.disconnect();
    }
  });
  send({ kind: "ready", registered: subject.summary().registered });
}

function fail(error: unknown): void {
  process.stderr.write(`bench child: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
}

/**
 * `count <plan|typed> <runs> <root> <policy config>`: prepares the subject as `child` does, runs it
 * `runs` times untimed and exits; npm run bench --instructions runs this under callgrind twice (a
 * few runs, then more) and divides the difference in instructions by the difference in runs.
 */
async function count(argv: readonly string[]): Promise<void> {
  const [mode, runsText, root, policyConfig] = argv;
  const subject =
    mode === "plan" ? await planSubject(root!, policyConfig!) : await typedSubject(root!, policyConfig!);
  for (let run = 0; run < Number(runsText); run++) await subject.run();
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv[0] === "count") count(argv.slice(1)).catch(fail);
  else if (process.send === undefined) fail(new Error("run by npm run bench, with an IPC channel"));
  else child(argv).catch(fail);
}
