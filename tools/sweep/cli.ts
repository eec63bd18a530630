/**
 * The sweep-tokens command: `npm run sweep-tokens -- --stack <name> [--delete] [--keep-token-id ID]…
 * [--json] [--api-base-url URL] [--timeout-ms N] [--deadline-ms N]`.
 *
 * Dry run by default. The admin credential comes from the environment only (CLOUDFLARE_ADMIN_API_TOKEN,
 * else CLOUDFLARE_API_TOKEN, as for verify-token --admin) and is never printed.
 *
 * Exit codes: 0 done (or nothing to do); 1 the tokens could not be listed or a deletion failed;
 * 2 usage or configuration error (nothing was called).
 */
import { ConfigError } from "../../lib/config";
import { escapeControlDeep } from "../../lib/text";
import { StackFileError } from "../shared/stack-file";
import {
  ADMIN_TOKEN_VARIABLES,
  adminTokenFromEnv,
  apiBaseUrlOption,
  DEFAULT_API_BASE_URL,
  DEFAULT_DEADLINE_MS,
  milliseconds,
  parseStrictArgs,
  runRetryPolicy,
  type CliIo,
  TOKEN_COMMAND_OPTIONS,
  UsageError,
} from "../verify/cli";
import { createClient } from "../verify/endpoints";
import { redact, redactDeep } from "../verify/redact";
import { DEFAULT_RETRY_POLICY } from "../verify/retry";
import { loadStackConfig } from "../verify/stack";
import { formatSweep, sweepSucceeded, sweepTokens } from "./sweep";

export const USAGE = `usage: npm run sweep-tokens -- --stack <name> [--delete] [--keep-token-id ID]... [--json]
                            [--api-base-url URL] [--timeout-ms N] [--deadline-ms N]

Lists stack <name>'s deploy tokens (<project>-<stack>-deploy-<8 hex>) that expired or were disabled;
with --delete, deletes them. Active tokens, tokens of other stacks and the sweeping credential are never touched.
  --stack NAME            the stack whose tokens to sweep (required)
  --delete                delete them (default: dry run, print what would be deleted)
  --keep-token-id ID      never delete this token (repeatable; pass the stack's deployTokenId output)
  --json                  print one JSON document instead of lines
  --api-base-url URL      Cloudflare API base (default ${DEFAULT_API_BASE_URL})
  --timeout-ms N          deadline for each try of each call (default ${DEFAULT_RETRY_POLICY.timeoutMs})
  --deadline-ms N         deadline for the whole run (default ${DEFAULT_DEADLINE_MS})
The admin credential is read from ${ADMIN_TOKEN_VARIABLES.join(", else ")} and is never printed.
Exit codes: 0 done, 1 listing or a deletion failed, 2 usage or configuration error.
`;

/** The same streams, root and test hooks as verify-token. */
export type SweepIo = CliIo;

const TOKEN_ID = /^[0-9a-f]{32}$/;

interface SweepCliOptions {
  readonly stack: string;
  readonly apply: boolean;
  readonly keepTokenIds: string[];
  readonly json: boolean;
  readonly apiBaseUrl: string;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
}

export function parseSweepArgs(argv: readonly string[]): SweepCliOptions | "help" {
  const values = parseStrictArgs(argv, {
    ...TOKEN_COMMAND_OPTIONS,
    delete: { type: "boolean", default: false },
    apply: { type: "boolean", default: false },
    "keep-token-id": { type: "string", multiple: true, default: [] },
  });
  if (values.help) return "help";
  if (values.stack === undefined || values.stack === "") throw new UsageError("--stack <name> is required");
  for (const id of values["keep-token-id"]) {
    if (!TOKEN_ID.test(id))
      throw new UsageError("--keep-token-id must be a 32-character lowercase hex token id");
  }
  return {
    stack: values.stack,
    apply: values.delete || values.apply,
    keepTokenIds: values["keep-token-id"],
    json: values.json,
    apiBaseUrl: apiBaseUrlOption(values["api-base-url"]),
    timeoutMs: milliseconds("--timeout-ms", values["timeout-ms"], DEFAULT_RETRY_POLICY.timeoutMs),
    deadlineMs: milliseconds("--deadline-ms", values["deadline-ms"], DEFAULT_DEADLINE_MS),
  };
}

export async function sweepMain(argv: readonly string[], io: SweepIo): Promise<number> {
  const present = ADMIN_TOKEN_VARIABLES.map((name) => io.env[name]?.trim()).find((value) => value);
  let token: string | undefined = present;
  const out = (text: string) => io.stdout(redact(text, token));
  const err = (text: string) => io.stderr(redact(text, token));
  try {
    const options = parseSweepArgs(argv);
    if (options === "help") {
      out(USAGE);
      return 0;
    }
    token = adminTokenFromEnv(io.env);
    const config = loadStackConfig(io.root, options.stack);
    const retry = runRetryPolicy(options, io);
    const report = await sweepTokens(config, {
      client: createClient({ token, apiBaseUrl: options.apiBaseUrl, timeoutMs: retry.timeoutMs }),
      retry,
      apply: options.apply,
      keepTokenIds: options.keepTokenIds,
      now: (io.now ?? (() => new Date()))(),
    });
    // Token names come from the API: redacted, then every control character shown escaped.
    const safe = escapeControlDeep(redactDeep(report, token)) as typeof report;
    out(options.json ? JSON.stringify(safe, null, 2) + "\n" : formatSweep(safe));
    return sweepSucceeded(report) ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError) {
      err(`sweep-tokens: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof ConfigError || error instanceof StackFileError) {
      err(`sweep-tokens: ${error.message}\n`);
      return 2;
    }
    err(`sweep-tokens: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
