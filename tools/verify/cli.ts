/**
 * The verify-token command: `npm run verify-token -- --stack <name> [--json] [--api-base-url URL]
 * [--timeout-ms N] [--foreign-zone ID] [--foreign-account ID]`.
 *
 * The token comes from CLOUDFLARE_API_TOKEN only, never from argv (argv shows up in `ps`, shell
 * history and CI logs). Nothing it prints contains the token or any part of it.
 *
 * Exit codes: 0 every check passed; 1 at least one check failed (or the run broke); 2 usage or
 * configuration error (nothing was checked).
 */
import { parseArgs } from "node:util";

import { Cloudflare } from "cloudflare";

import { ConfigError } from "../../lib/config";
import { StackFileError } from "../shared/stack-file";
import { PlanError } from "./probes";
import { formatJson, formatText, redact, redactDeep } from "./report";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry";
import { runVerification } from "./run";
import { loadStackConfig } from "./stack";

export const DEFAULT_API_BASE_URL = "https://api.cloudflare.com/client/v4";
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const USAGE = `usage: npm run verify-token -- --stack <name> [--json] [--api-base-url URL] [--timeout-ms N]
                            [--foreign-zone ZONE_ID] [--foreign-account ACCOUNT_ID]

Checks that the token in CLOUDFLARE_API_TOKEN has exactly the access stack <name> needs.
  --stack NAME            the stack whose Pulumi.<name>.yaml defines the needs (required)
  --json                  print one JSON document instead of lines
  --api-base-url URL      Cloudflare API base (default ${DEFAULT_API_BASE_URL})
  --timeout-ms N          deadline for each try of each call (default ${DEFAULT_RETRY_POLICY.timeoutMs})
  --foreign-zone ID       a zone outside the stack the token must not reach (default: list zones)
  --foreign-account ID    another account the token must not reach
The token is read from CLOUDFLARE_API_TOKEN only and is never printed.
Exit codes: 0 all checks passed, 1 a check failed, 2 usage or configuration error.
`;

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Directory holding Pulumi.yaml and the stack files. */
  readonly root: string;
  /** Injected in tests: retry delays, clock. */
  readonly retry?: Partial<RetryPolicy>;
  readonly now?: () => Date;
}

class UsageError extends Error {}

const HEX32 = /^[0-9a-f]{32}$/;
const SAFE_OPTION_NAME = /^--?[A-Za-z][A-Za-z0-9-]{0,40}$/;

interface CliOptions {
  readonly stack: string;
  readonly json: boolean;
  readonly apiBaseUrl: string;
  readonly timeoutMs: number;
  readonly foreignZoneId?: string;
  readonly foreignAccountId?: string;
}

/** Parses argv. Never echoes a value it did not expect: a stray argument may be a pasted secret. */
export function parseCliArgs(argv: readonly string[]): CliOptions | "help" {
  for (const arg of argv) {
    if (
      arg === "--token" ||
      arg.startsWith("--token=") ||
      arg === "--api-token" ||
      arg.startsWith("--api-token=")
    ) {
      throw new UsageError(
        "--token is not accepted: a token on the command line leaks into shell history, `ps` and CI logs. " +
          "Set CLOUDFLARE_API_TOKEN in the environment instead.",
      );
    }
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        stack: { type: "string" },
        json: { type: "boolean", default: false },
        "api-base-url": { type: "string" },
        "timeout-ms": { type: "string" },
        "foreign-zone": { type: "string" },
        "foreign-account": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      throw new UsageError(
        "unexpected argument (not shown, in case it is a secret); every value follows its option",
      );
    }
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const option = argv.find((arg) => arg.startsWith("-") && !isKnownOption(arg));
      const shown =
        option !== undefined && SAFE_OPTION_NAME.test(option.split("=")[0]!)
          ? ` ${option.split("=")[0]}`
          : "";
      throw new UsageError(`unknown option${shown}`);
    }
    throw new UsageError("invalid arguments (an option is missing its value, or a flag was given one)");
  }
  const values = parsed.values;
  if (values.help) return "help";
  if (values.stack === undefined || values.stack === "") throw new UsageError("--stack <name> is required");

  const apiBaseUrl = values["api-base-url"] ?? DEFAULT_API_BASE_URL;
  let url: URL;
  try {
    url = new URL(apiBaseUrl);
  } catch {
    throw new UsageError("--api-base-url must be an absolute http(s) URL");
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new UsageError(
      "--api-base-url must use https (plain http only to 127.0.0.1/localhost): the token travels in it",
    );
  }

  let timeoutMs = DEFAULT_RETRY_POLICY.timeoutMs;
  if (values["timeout-ms"] !== undefined) {
    const raw = values["timeout-ms"];
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 600_000) {
      throw new UsageError("--timeout-ms must be a whole number of milliseconds between 1 and 600000");
    }
    timeoutMs = Number(raw);
  }
  for (const [flag, value] of [
    ["--foreign-zone", values["foreign-zone"]],
    ["--foreign-account", values["foreign-account"]],
  ] as const) {
    if (value !== undefined && !HEX32.test(value)) {
      throw new UsageError(`${flag} must be a 32-character lowercase hex Cloudflare id`);
    }
  }
  return {
    stack: values.stack,
    json: values.json,
    apiBaseUrl: apiBaseUrl.replace(/\/+$/, ""),
    timeoutMs,
    ...(values["foreign-zone"] === undefined ? {} : { foreignZoneId: values["foreign-zone"] }),
    ...(values["foreign-account"] === undefined ? {} : { foreignAccountId: values["foreign-account"] }),
  };
}

const KNOWN_OPTIONS = [
  "--stack",
  "--json",
  "--api-base-url",
  "--timeout-ms",
  "--foreign-zone",
  "--foreign-account",
  "--help",
  "-h",
];
function isKnownOption(arg: string): boolean {
  return KNOWN_OPTIONS.includes(arg.split("=")[0]!);
}

/** The token from the environment, or a UsageError that never quotes it. */
export function tokenFromEnv(env: Readonly<Record<string, string | undefined>>): string {
  const raw = env.CLOUDFLARE_API_TOKEN;
  if (raw === undefined || raw.trim() === "") {
    throw new UsageError(
      "CLOUDFLARE_API_TOKEN is not set: export the deploy token to verify (it is never printed)",
    );
  }
  const token = raw.trim();
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new UsageError(
      "CLOUDFLARE_API_TOKEN contains spaces or non-printable characters (value not shown); copy the token again",
    );
  }
  return token;
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  // Redact from the start: even a usage error must not be able to echo the token.
  let token: string | undefined = io.env.CLOUDFLARE_API_TOKEN?.trim() || undefined;
  const out = (text: string) => io.stdout(redact(text, token));
  const err = (text: string) => io.stderr(redact(text, token));
  try {
    const options = parseCliArgs(argv);
    if (options === "help") {
      out(USAGE);
      return EXIT_OK;
    }
    token = tokenFromEnv(io.env);
    const config = loadStackConfig(io.root, options.stack);
    const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, timeoutMs: options.timeoutMs, ...io.retry };
    const client = new Cloudflare({
      apiToken: token,
      // Never fall back to other credentials or settings from the environment.
      apiKey: null,
      apiEmail: null,
      userServiceKey: null,
      baseURL: options.apiBaseUrl,
      maxRetries: 0,
      timeout: retry.timeoutMs,
      logLevel: "off",
    });
    const report = await runVerification(config, {
      client,
      retry,
      ...(io.now === undefined ? {} : { now: io.now }),
      ...(options.foreignZoneId === undefined ? {} : { foreignZoneId: options.foreignZoneId }),
      ...(options.foreignAccountId === undefined ? {} : { foreignAccountId: options.foreignAccountId }),
    });
    const safe = redactDeep(report, token);
    out(options.json ? formatJson(safe) : formatText(safe));
    return report.failed === 0 ? EXIT_OK : EXIT_FAILED;
  } catch (error) {
    if (error instanceof UsageError || error instanceof PlanError) {
      err(`verify-token: ${error.message}\n`);
      if (error instanceof UsageError) err(`\n${USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError || error instanceof StackFileError) {
      err(`verify-token: ${error.message}\n`);
      return EXIT_USAGE;
    }
    err(`verify-token: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILED;
  }
}
