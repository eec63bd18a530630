/**
 * npm run plan -- --stack <name> [--json] [--now <ISO-8601>] [--policy-config <file>] [--root <dir>]
 *
 * The offline plan: what `pulumi up` would create for a stack and what the policy pack says about
 * it, with no cloud, no credentials and no Pulumi CLI. The work is in tools/plan/; this file parses
 * arguments, prints and sets the exit code.
 */
import { resolve } from "node:path";

import { isCalendarDate } from "../../lib/config";
import { listStacks } from "../shared/stack-file";
import { exitCodeOf, renderHuman, toJsonDocument } from "./report";
import { PLAN_DEBUG_ENV, PlanInputError, REPO_ROOT, runPlan } from "./run";

export const DEFAULT_STACK = "dev";

export const USAGE = `Usage: npm run plan -- [--stack <name>] [--json] [--now <ISO-8601>] [--policy-config <file>] [--root <dir>]

Shows what \`pulumi up\` would create for a stack and what the policy pack says about it, offline:
Pulumi.yaml and Pulumi.<name>.yaml are read as the Pulumi CLI reads them (secure: values stay opaque),
index.ts runs under Pulumi's mock runtime, and the pack's own policies check every resource and the stack.

Options:
  --stack <name>          stack to plan: any Pulumi.<name>.yaml in the root (default: ${DEFAULT_STACK})
  --json                  print one JSON document {stack, resources, violations, missing} instead of text
  --now <ISO-8601>        plan at this instant (rotation window, expiry, time-based policies);
                          default: the current time
  --policy-config <file>  policy pack config (default: policies/config/<stack>.json, else the file of
                          the stack's scoped-edge:environment)
  --root <dir>            directory holding Pulumi.yaml and the stack files (default: the repository)
  -h, --help              show this help

Exit codes: 0 no mandatory violation; 1 at least one mandatory violation; 2 bad config or usage
(the message names the key and the fix); 3 an internal error.`;

export interface PlanIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface PlanArgs {
  readonly stack: string;
  readonly json: boolean;
  readonly now: Date;
  readonly policyConfig?: string;
  readonly root: string;
  readonly help: boolean;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Parses `--now`: an ISO-8601 date or UTC/offset instant. */
export function parseNow(value: string): Date {
  const ms = ISO_INSTANT.test(value) && isCalendarDate(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(`--now "${value}" is not an ISO-8601 instant; use e.g. 2026-11-23T00:00:00Z`);
  }
  return new Date(ms);
}

export function parseArgs(argv: readonly string[], clock: () => Date = () => new Date()): PlanArgs {
  const values = new Map<string, string>();
  let json = false;
  let help = false;
  const takesValue = new Set(["--stack", "--now", "--policy-config", "--root"]);
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (flag === "--json") json = true;
    else if (flag === "-h" || flag === "--help") help = true;
    else if (takesValue.has(flag)) {
      const value = eq > 0 && arg.startsWith("--") ? arg.slice(eq + 1) : argv[++index];
      if (value === undefined || value === "" || (eq < 0 && value.startsWith("--"))) {
        throw new UsageError(`${flag} needs a value`);
      }
      values.set(flag, value);
    } else {
      throw new UsageError(`unknown argument "${arg}"`);
    }
  }
  const policyConfig = values.get("--policy-config");
  return {
    stack: values.get("--stack") ?? DEFAULT_STACK,
    json,
    now: values.has("--now") ? parseNow(values.get("--now")!) : clock(),
    ...(policyConfig === undefined ? {} : { policyConfig: resolve(policyConfig) }),
    root: resolve(values.get("--root") ?? REPO_ROOT),
    help,
  };
}

/** Runs the plan CLI; returns the exit code. */
export async function main(argv: readonly string[], io: PlanIo): Promise<number> {
  let args: PlanArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    io.stderr(`plan: ${(error as Error).message}\n\n${USAGE}\n`);
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
    io.stdout(args.json ? `${JSON.stringify(toJsonDocument(report), null, 2)}\n` : renderHuman(report));
    return exitCodeOf(report);
  } catch (error) {
    if (error instanceof PlanInputError) {
      let message = error.message;
      if (message.startsWith("no stack file")) {
        const stacks = listStacks(args.root);
        message += `\nstacks in ${args.root}: ${stacks.join(", ") || "none"}`;
      }
      io.stderr(`plan: ${message}\n`);
      return 2;
    }
    io.stderr(
      `plan: internal error: ${(error as Error).stack ?? String(error)}\n` +
        `(stack traces are off during a plan; set ${PLAN_DEBUG_ENV}=1 to keep them)\n`,
    );
    return 3;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`plan: internal error: ${String(error)}\n`);
      process.exitCode = 3;
    },
  );
}
