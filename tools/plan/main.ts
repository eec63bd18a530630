/**
 * npm run plan -- --stack <name> [--json | --markdown] [--now <ISO-8601>] [--policy-config <file>] [--root <dir>]
 *
 * The offline plan: what `pulumi up` would create for a stack and what the policy pack says about
 * it, with no cloud, no credentials and no Pulumi CLI. The work is in tools/plan/; this file parses
 * arguments, prints and sets the exit code. With --json, stdout holds one JSON document on every
 * exit (docs/plan.schema.json): the plan, or {"error": {key, problem, fix}} / {"errors": [...]}.
 */
import { resolve } from "node:path";
import { parseArgs as parseNodeArgs } from "node:util";

import { ConfigError, isCalendarDate, PROJECT, type ConfigProblem } from "../../lib/config";
import { escapeControl, escapeControlDeep } from "../../lib/text";
import { listStacks, readStackConfigMap, StackFileError } from "../shared/stack-file";
import { renderMarkdown } from "./markdown";
import { PolicyConfigError } from "./policy-config";
import { exitCodeOf, renderHuman, toJsonDocument, type RenderOptions } from "./report";
import { PLAN_DEBUG_ENV, PlanInputError, REPO_ROOT, runPlan } from "./run";

export const DEFAULT_STACK = "dev";

export const USAGE = `Usage: npm run plan -- [--stack <name>] [--json | --markdown] [--now <ISO-8601>]
                      [--policy-config <file>] [--root <dir>]

Shows what \`pulumi up\` would create for a stack and what the policy pack says about it, offline:
Pulumi.yaml and Pulumi.<name>.yaml are read as the Pulumi CLI reads them (secure: values stay
opaque), index.ts runs under Pulumi's mock runtime, and the pack's own policies check every
resource and the stack.

Options:
  --stack <name>          stack to plan: any Pulumi.<name>.yaml in the root (default: ${DEFAULT_STACK})
  --json                  print one JSON document (docs/plan.schema.json), errors included
  --markdown              print Markdown for a CI job summary, with a diagram of the credentials
  --now <ISO-8601>        plan at this instant (rotation window, expiry, time-based policies);
                          default: the current time
  --policy-config <file>  policy pack config (default: policies/config/<stack>.json, else the
                          file of the stack's scoped-edge:environment)
  --root <dir>            directory holding Pulumi.yaml and the stack files (default: this repo)
  -h, --help              show this help

Exit codes: 0 no mandatory violation; 1 at least one mandatory violation; 2 bad config or usage
(the message names the key, the problem and the fix); 3 an internal error.`;

export interface PlanIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export type OutputFormat = "text" | "json" | "markdown";

export interface PlanArgs {
  readonly stack: string;
  readonly format: OutputFormat;
  readonly now: Date;
  readonly policyConfig?: string;
  readonly root: string;
  readonly help: boolean;
}

/** A bad command line: exit 2, naming the option (`key`), the problem and the fix. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    readonly key: string,
    readonly problem: string,
    readonly fix = "see npm run plan -- --help",
  ) {
    super(`${key}: ${problem}`);
  }
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Parses `--now`: an ISO-8601 date or UTC/offset instant. */
export function parseNow(value: string): Date {
  const ms = ISO_INSTANT.test(value) && isCalendarDate(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(
      "--now",
      `"${escapeControl(value)}" is not an ISO-8601 instant`,
      "use e.g. --now 2026-11-23T00:00:00Z",
    );
  }
  return new Date(ms);
}

const OPTIONS = {
  stack: { type: "string" },
  json: { type: "boolean" },
  markdown: { type: "boolean" },
  now: { type: "string" },
  "policy-config": { type: "string" },
  root: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Whether argv asks for JSON, read before parsing so a usage error is JSON too. */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.includes("--json");
}

export function parseArgs(argv: readonly string[], clock: () => Date = () => new Date()): PlanArgs {
  let values: {
    [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]["type"] extends "string" ? string : boolean;
  };
  try {
    ({ values } = parseNodeArgs({
      args: [...argv],
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    const message = escapeControl((error as Error).message);
    const option = /'(-[^' ]+)/.exec(message)?.[1];
    if ((error as { code?: string }).code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option !== undefined) {
      throw new UsageError(option.split(" ")[0]!, "needs a value", `pass ${option.split(" ")[0]!} <value>`);
    }
    throw new UsageError(option?.split(" ")[0] ?? "arguments", message);
  }
  for (const name of ["stack", "now", "policy-config", "root"] as const) {
    const value = values[name];
    if (value !== undefined && (value === "" || value.startsWith("-"))) {
      throw new UsageError(`--${name}`, "needs a value", `pass --${name} <value>`);
    }
  }
  if (values.json === true && values.markdown === true) {
    throw new UsageError("--json", "cannot be combined with --markdown", "pick one output format");
  }
  const policyConfig = values["policy-config"];
  return {
    stack: values.stack ?? DEFAULT_STACK,
    format: values.json === true ? "json" : values.markdown === true ? "markdown" : "text",
    now: values.now !== undefined ? parseNow(values.now) : clock(),
    ...(policyConfig === undefined ? {} : { policyConfig: resolve(policyConfig) }),
    root: resolve(values.root ?? REPO_ROOT),
    help: values.help === true,
  };
}

/**
 * The problems behind an input error, each with key, problem and fix: a config error keeps its own
 * list (run.ts wraps it as the cause); anything else is one problem, keyed by the file or option.
 */
export function inputProblems(error: Error, args: Pick<PlanArgs, "stack" | "root">): ConfigProblem[] {
  const cause = (error as { cause?: unknown }).cause ?? error;
  if (cause instanceof ConfigError) return [...cause.problems];
  if (cause instanceof PolicyConfigError && cause.problems.length > 0) return [...cause.problems];
  if (error.message.startsWith("no stack file")) {
    const stacks = listStacks(args.root);
    return [
      {
        key: "--stack",
        problem: `${error.message.split(";")[0]!}; stacks in ${args.root}: ${stacks.join(", ") || "none"}`,
        fix:
          `npm run new-stack -- --name ${args.stack} --environment <dev|staging|prod>, ` +
          `or pass one of: ${stacks.join(", ") || "none"}`,
      },
    ];
  }
  const [problem, ...rest] = error.message.split(/; (?=pass |create |use |run |set )/);
  const aboutPolicyConfig =
    cause instanceof PolicyConfigError ||
    (!(cause instanceof StackFileError) && /policy config/.test(error.message));
  return [
    {
      key: aboutPolicyConfig ? "--policy-config" : `Pulumi.${args.stack}.yaml`,
      problem: problem!,
      fix:
        rest.join("; ") ||
        (aboutPolicyConfig
          ? "correct the policy config file, or leave out --policy-config to use policies/config/<environment>.json"
          : `correct Pulumi.${args.stack}.yaml, then run npm run plan -- --stack ${args.stack}`),
    },
  ];
}

/** `{"error": {...}}` for one problem, `{"errors": [...]}` for several; control characters escaped. */
export function errorDocument(problems: readonly ConfigProblem[]): unknown {
  const list = problems.map(({ key, problem, fix }) => ({ key, problem, fix }));
  return escapeControlDeep(list.length === 1 ? { error: list[0] } : { errors: list });
}

function errorText(problems: readonly ConfigProblem[]): string {
  return problems
    .map(
      ({ key, problem, fix }) => escapeControl(`plan: ${key}: ${problem}`) + `\n  fix: ${escapeControl(fix)}`,
    )
    .join("\n");
}

/** Zone id -> name from the stack file, for the grants table; empty when the file does not say. */
function zoneNamesOf(root: string, stack: string): Map<string, string> {
  try {
    const raw = readStackConfigMap(root, stack).config[`${PROJECT}:zones`];
    const zones = raw === undefined ? [] : (JSON.parse(raw) as unknown);
    return new Map(
      (Array.isArray(zones) ? zones : []).flatMap((zone: { id?: unknown; name?: unknown }) =>
        typeof zone.id === "string" && typeof zone.name === "string" ? [[zone.id, zone.name] as const] : [],
      ),
    );
  } catch {
    return new Map();
  }
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** Runs the plan CLI; returns the exit code. */
export async function main(argv: readonly string[], io: PlanIo): Promise<number> {
  let args: PlanArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const problem = { key: error.key, problem: error.problem, fix: error.fix };
    if (wantsJson(argv)) io.stdout(json(errorDocument([problem])));
    io.stderr(`${errorText([problem])}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  try {
    const { report } = await runPlan({
      root: args.root,
      stack: args.stack,
      now: args.now,
      ...(args.policyConfig === undefined ? {} : { policyConfigFile: args.policyConfig }),
    });
    const options: RenderOptions = { zoneNames: zoneNamesOf(args.root, args.stack) };
    io.stdout(
      args.format === "json"
        ? json(toJsonDocument(report))
        : args.format === "markdown"
          ? renderMarkdown(report, options)
          : renderHuman(report, options),
    );
    return exitCodeOf(report);
  } catch (error) {
    if (error instanceof PlanInputError || error instanceof ConfigError) {
      const problems = inputProblems(error, args);
      if (args.format === "json") io.stdout(json(errorDocument(problems)));
      io.stderr(`${errorText(problems)}\n`);
      return 2;
    }
    const problem = {
      key: "internal",
      problem: `internal error: ${(error as Error).message ?? String(error)}`,
      fix: `rerun with ${PLAN_DEBUG_ENV}=1 for a stack trace and report it`,
    };
    if (args.format === "json") io.stdout(json(errorDocument([problem])));
    io.stderr(
      `plan: ${escapeControl(problem.problem)}\n${escapeControl((error as Error).stack ?? "")}\n` +
        `(stack traces are off during a plan; set ${PLAN_DEBUG_ENV}=1 to keep them)\n`,
    );
    return 3;
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  main(argv, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const problem = { key: "internal", problem: `internal error: ${String(error)}`, fix: "report it" };
      if (wantsJson(argv)) process.stdout.write(json(errorDocument([problem])));
      process.stderr.write(`plan: ${escapeControl(problem.problem)}\n`);
      process.exitCode = 3;
    },
  );
}
