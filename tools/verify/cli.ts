/**
 * The verify-token command: `npm run verify-token -- --stack <name> [--admin] [--json]
 * [--api-base-url URL] [--timeout-ms N] [--deadline-ms N] [--foreign-zone ID] [--foreign-account ID]`.
 *
 * The deploy token comes from CLOUDFLARE_API_TOKEN only, the admin credential (--admin) from
 * CLOUDFLARE_ADMIN_API_TOKEN, else CLOUDFLARE_API_TOKEN; never from argv (argv shows up in `ps`,
 * shell history and CI logs). Nothing it prints contains the token or any part of it.
 *
 * Exit codes: 0 every check passed; 1 at least one check failed (or the run broke); 2 usage or
 * configuration error (nothing was checked).
 */
import { resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";

import { ConfigError } from "../../lib/config";
import { StackFileError } from "../shared/stack-file";
import { PlanError } from "./probes";
import { runAdminVerification } from "./admin";
import { createClient } from "./endpoints";
import { formatJson, formatText, redact, redactDeep } from "./report";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry";
import { runVerification } from "./run";
import { loadStackConfig } from "./stack";

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig["options"]>;

export const DEFAULT_API_BASE_URL = "https://api.cloudflare.com/client/v4";
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const DEFAULT_DEADLINE_MS = 60_000;

/** The variable wrangler and Pulumi's Cloudflare provider read a token from. */
const TOKEN_VARIABLE = "CLOUDFLARE_API_TOKEN";
/** Where the admin credential is read from, first match wins. */
export const ADMIN_TOKEN_VARIABLES = ["CLOUDFLARE_ADMIN_API_TOKEN", TOKEN_VARIABLE] as const;

export const USAGE = `usage: npm run verify-token -- --stack <name> [--admin] [--json] [--api-base-url URL]
                            [--timeout-ms N] [--deadline-ms N] [--foreign-zone ZONE_ID] [--foreign-account ACCOUNT_ID]

Checks that the deploy token in CLOUDFLARE_API_TOKEN has exactly the access stack <name> needs;
with --admin, that the admin credential can mint that token.
  --stack NAME            the stack whose Pulumi.<name>.yaml defines the needs (required)
  --admin                 check the admin credential (${ADMIN_TOKEN_VARIABLES.join(", else ")}) instead
  --json                  print one JSON document instead of lines
  --api-base-url URL      Cloudflare API base (default ${DEFAULT_API_BASE_URL})
  --timeout-ms N          deadline for each try of each call (default ${DEFAULT_RETRY_POLICY.timeoutMs})
  --deadline-ms N         deadline for the whole run (default ${DEFAULT_DEADLINE_MS})
  --foreign-zone ID       a zone outside the stack the token must not reach (default: list zones)
  --foreign-account ID    another account the token must not reach
Tokens are read from the environment only and are never printed.
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

export class UsageError extends Error {}

const HEX32 = /^[0-9a-f]{32}$/;
const SAFE_OPTION_NAME = /^--?[A-Za-z][A-Za-z0-9-]{0,40}$/;

interface CliOptions {
  readonly stack: string;
  readonly json: boolean;
  readonly apiBaseUrl: string;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  readonly admin: boolean;
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
  const values = parseStrictArgs(argv, {
    ...TOKEN_COMMAND_OPTIONS,
    admin: { type: "boolean", default: false },
    "foreign-zone": { type: "string" },
    "foreign-account": { type: "string" },
  });
  if (values.help) return "help";
  if (values.stack === undefined || values.stack === "") throw new UsageError("--stack <name> is required");

  const apiBaseUrl = apiBaseUrlOption(values["api-base-url"]);
  const timeoutMs = milliseconds("--timeout-ms", values["timeout-ms"], DEFAULT_RETRY_POLICY.timeoutMs);
  const deadlineMs = milliseconds("--deadline-ms", values["deadline-ms"], DEFAULT_DEADLINE_MS);
  if (values.admin && (values["foreign-zone"] !== undefined || values["foreign-account"] !== undefined)) {
    throw new UsageError(
      "--foreign-zone and --foreign-account check the deploy token; they do not apply with --admin",
    );
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
    apiBaseUrl,
    timeoutMs,
    deadlineMs,
    admin: values.admin,
    ...(values["foreign-zone"] === undefined ? {} : { foreignZoneId: values["foreign-zone"] }),
    ...(values["foreign-account"] === undefined ? {} : { foreignAccountId: values["foreign-account"] }),
  };
}

/** --api-base-url: https (plain http only to loopback, for tests), no trailing slash. */
export function apiBaseUrlOption(raw: string | undefined): string {
  const apiBaseUrl = raw ?? DEFAULT_API_BASE_URL;
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
  return apiBaseUrl.replace(/\/+$/, "");
}

/** A whole number of milliseconds between 1 and 600000, or the default when absent. */
export function milliseconds(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 600_000) {
    throw new UsageError(`${flag} must be a whole number of milliseconds between 1 and 600000`);
  }
  return Number(raw);
}

/** The options verify-token and sweep-tokens share. */
export const TOKEN_COMMAND_OPTIONS = {
  stack: { type: "string" },
  json: { type: "boolean", default: false },
  "api-base-url": { type: "string" },
  "timeout-ms": { type: "string" },
  "deadline-ms": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies ParseArgsOptionsConfig;

/**
 * `parseArgs`, strict and without positionals, whose errors never quote what was given (a stray
 * argument may be a pasted secret): only an option name of a safe shape is shown.
 */
export function parseStrictArgs<const T extends ParseArgsOptionsConfig>(
  argv: readonly string[],
  options: T,
): ReturnType<
  typeof parseArgs<{ args: string[]; strict: true; allowPositionals: false; options: T }>
>["values"] {
  try {
    return parseArgs({ args: [...argv], strict: true as const, allowPositionals: false as const, options })
      .values;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      throw new UsageError(
        "unexpected argument (not shown, in case it is a secret); every value follows its option",
      );
    }
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const known = Object.entries(options).flatMap(([name, option]) => [
        `--${name}`,
        ...(option.short === undefined ? [] : [`-${option.short}`]),
      ]);
      const option = argv.find((arg) => arg.startsWith("-") && !known.includes(arg.split("=")[0]!));
      const shown =
        option !== undefined && SAFE_OPTION_NAME.test(option.split("=")[0]!)
          ? ` ${option.split("=")[0]}`
          : "";
      throw new UsageError(`unknown option${shown}`);
    }
    throw new UsageError("invalid arguments (an option is missing its value, or a flag was given one)");
  }
}

/** Runs a command as the process: its exit code, and a fixed line for anything unexpected. */
export function runAsProcess(
  name: string,
  run: (argv: readonly string[], io: Pick<CliIo, "env" | "stdout" | "stderr" | "root">) => Promise<number>,
): void {
  run(process.argv.slice(2), {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    root: resolve(__dirname, "..", ".."),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    () => {
      process.stderr.write(`${name}: unexpected error\n`);
      process.exitCode = 1;
    },
  );
}

/** The deploy token from the environment, or a UsageError that never quotes it. */
export function tokenFromEnv(env: Readonly<Record<string, string | undefined>>): string {
  return tokenFromVariables(env, [TOKEN_VARIABLE], "the deploy token to verify");
}

/** The admin credential: CLOUDFLARE_ADMIN_API_TOKEN, else CLOUDFLARE_API_TOKEN (what Pulumi's provider reads). */
export function adminTokenFromEnv(env: Readonly<Record<string, string | undefined>>): string {
  return tokenFromVariables(env, ADMIN_TOKEN_VARIABLES, "the admin credential");
}

/** The first variable that is set, checked for printable characters; never quoted. */
export function tokenFromVariables(
  env: Readonly<Record<string, string | undefined>>,
  names: readonly string[],
  what: string,
): string {
  const name = names.find((candidate) => (env[candidate] ?? "").trim() !== "");
  if (name === undefined) {
    throw new UsageError(`${names.join(" or ")} is not set: export ${what} (it is never printed)`);
  }
  const token = env[name]!.trim();
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new UsageError(
      `${name} contains spaces or non-printable characters (value not shown); copy the token again`,
    );
  }
  return token;
}

/** The token a run will use, for redaction from the first line printed (usage errors included). */
function tokenForRedaction(argv: readonly string[], env: Readonly<Record<string, string | undefined>>) {
  const names = argv.includes("--admin") ? ADMIN_TOKEN_VARIABLES : ([TOKEN_VARIABLE] as const);
  const name = names.find((candidate) => (env[candidate] ?? "").trim() !== "");
  return name === undefined ? undefined : env[name]!.trim();
}

/** The retry policy of one run: the flags' per-try timeout and overall deadline, then test overrides. */
export function runRetryPolicy(
  options: { readonly timeoutMs: number; readonly deadlineMs: number },
  io: Pick<CliIo, "retry">,
): RetryPolicy {
  return {
    ...DEFAULT_RETRY_POLICY,
    timeoutMs: options.timeoutMs,
    deadline: Date.now() + options.deadlineMs,
    ...io.retry,
  };
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  // Redact from the start: even a usage error must not be able to echo the token.
  let token: string | undefined = tokenForRedaction(argv, io.env);
  const out = (text: string) => io.stdout(redact(text, token));
  const err = (text: string) => io.stderr(redact(text, token));
  try {
    const options = parseCliArgs(argv);
    if (options === "help") {
      out(USAGE);
      return EXIT_OK;
    }
    token = options.admin ? adminTokenFromEnv(io.env) : tokenFromEnv(io.env);
    const config = loadStackConfig(io.root, options.stack);
    const retry = runRetryPolicy(options, io);
    const client = createClient({ token, apiBaseUrl: options.apiBaseUrl, timeoutMs: retry.timeoutMs });
    if (options.admin) {
      const report = await runAdminVerification(config, {
        client,
        retry,
        deadlineMs: options.deadlineMs,
        ...(io.now === undefined ? {} : { now: io.now }),
      });
      const safe = redactDeep(report, token);
      out(options.json ? formatJson(safe) : formatText(safe));
      return report.failed === 0 ? EXIT_OK : EXIT_FAILED;
    }
    const report = await runVerification(config, {
      deadlineMs: options.deadlineMs,
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
