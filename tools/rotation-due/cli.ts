/**
 * The rotation-due command: `npm run rotation-due -- --stack <name> [--now ISO] [--lookback-hours N]
 * [--force] [--bump-generation] [--json]`. Reads only the committed stack files: no credentials,
 * no Pulumi CLI, no plan.
 *
 * Exit codes: 0 decided (due or not: see the output); 2 usage or configuration error.
 */
import { parseArgs } from "node:util";

import { ConfigError } from "../../lib/config";
import { currentTime } from "../../lib/clock";
import { StackFileError } from "../shared/stack-file";
import { loadStackConfig } from "../verify/stack";
import { decideRotation, RotationRequestError, type RotationDecision } from "./decide";

/** Three daily runs see each rollover: a run that failed to apply it is retried by the next two. */
export const DEFAULT_LOOKBACK_HOURS = 72;

export const EXIT_OK = 0;
export const EXIT_USAGE = 2;

export const USAGE = `usage: npm run rotation-due -- --stack <name> [--now ISO] [--lookback-hours N]
                            [--force] [--bump-generation] [--json]

Decides, from Pulumi.<name>.yaml alone, whether the stack's deploy token is due for rotation.
  --stack NAME          the stack (required)
  --now ISO             the run's time (default: now, or SCOPED_EDGE_NOW)
  --lookback-hours N    a window rollover this recent is due (default ${DEFAULT_LOOKBACK_HOURS})
  --force               due whatever the window (a manual dispatch)
  --bump-generation     emergency rotation: due, with rotationGeneration one higher than committed
  --json                print the decision as one JSON document
Exit codes: 0 decided (due or not), 2 usage or configuration error.
`;

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Directory holding Pulumi.yaml and the stack files. */
  readonly root: string;
}

class UsageError extends Error {}

interface CliOptions {
  readonly stack: string;
  readonly now: Date;
  readonly lookbackHours: number;
  readonly force: boolean;
  readonly bumpGeneration: boolean;
  readonly json: boolean;
}

export function parseCliArgs(argv: readonly string[], env: CliIo["env"]): CliOptions | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        stack: { type: "string" },
        now: { type: "string" },
        "lookback-hours": { type: "string" },
        force: { type: "boolean", default: false },
        "bump-generation": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return "help";
  if (values.stack === undefined || values.stack === "") throw new UsageError("--stack <name> is required");
  let now: Date;
  if (values.now === undefined) {
    try {
      now = currentTime(env);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  } else {
    now = new Date(values.now);
    if (Number.isNaN(now.getTime())) {
      throw new UsageError("--now must be an ISO-8601 instant, e.g. 2026-11-23T05:17:00Z");
    }
  }
  const rawLookback = values["lookback-hours"] ?? String(DEFAULT_LOOKBACK_HOURS);
  if (!/^\d{1,6}$/.test(rawLookback) || Number(rawLookback) < 1) {
    throw new UsageError("--lookback-hours must be a whole number of hours of at least 1, e.g. 72");
  }
  return {
    stack: values.stack,
    now,
    lookbackHours: Number(rawLookback),
    force: values.force,
    bumpGeneration: values["bump-generation"],
    json: values.json,
  };
}

export function formatText(decision: RotationDecision): string {
  const lines = [
    `${decision.stack}: ${decision.due ? "rotation due" : "no rotation due"}: ${decision.reason}`,
  ];
  if (decision.hasDeployToken) {
    lines.push(
      `  window: ${decision.windowStart} to ${decision.nextRotation}; token expires ${decision.expiresOn}`,
      `  rotationGeneration: ${decision.generation}` +
        (decision.generation === decision.committedGeneration
          ? ""
          : ` (committed: ${decision.committedGeneration})`),
    );
  }
  return `${lines.join("\n")}\n`;
}

export function main(argv: readonly string[], io: CliIo): number {
  try {
    const options = parseCliArgs(argv, io.env);
    if (options === "help") {
      io.stdout(USAGE);
      return EXIT_OK;
    }
    const config = loadStackConfig(io.root, options.stack);
    const decision = decideRotation(config, options);
    io.stdout(options.json ? `${JSON.stringify(decision, null, 2)}\n` : formatText(decision));
    return EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`rotation-due: ${error.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    if (
      error instanceof RotationRequestError ||
      error instanceof ConfigError ||
      error instanceof StackFileError
    ) {
      io.stderr(`rotation-due: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}
