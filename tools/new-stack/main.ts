/**
 * npm run new-stack -- --name <stack> --environment <dev|staging|prod> [--repository <owner/repo>] [--root <dir>]
 *
 * Starts a stack: writes Pulumi.<stack>.yaml with placeholder ids, the environment's token
 * lifetimes (as the repository's own Pulumi.<environment>.yaml has them) and the GitHub environment
 * named after the stack, then prints the next steps. The file is the only one to edit: fill in the
 * ids (and add zones) there and the plan is clean.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

import { ENVIRONMENTS, PROJECT, type Environment } from "../../lib/config";
import { escapeControl } from "../../lib/text";
import { readStackConfigMap } from "../shared/stack-file";
import { missingSecrets, requiredSecrets } from "../plan/placeholders";

/** The repository root: where the committed stacks (the lifetime templates) live. */
const REPO_ROOT = resolve(__dirname, "..", "..");

export const USAGE = `Usage: npm run new-stack -- --name <stack> --environment <${ENVIRONMENTS.join("|")}>
                           [--repository <owner/repo>] [--root <dir>]

Writes Pulumi.<stack>.yaml with placeholder account and zone ids and prints the next steps.

Options:
  --name <stack>           the stack's name (letters, digits, '-', '_', '.')
  --environment <env>      ${ENVIRONMENTS.join(", ")}: the policy config and token lifetimes it gets
  --repository <o/r>       the application repository that receives the deploy token
                           (default: the one Pulumi.<env>.yaml names)
  --root <dir>             directory holding Pulumi.yaml (default: this repository)
  -h, --help               show this help

Exit codes: 0 written; 2 bad arguments or the file already exists (nothing written).`;

/** A stack name the Pulumi CLI and the stack file lookup both accept. */
const STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/;

/** Placeholder ids as the committed stacks have them (tools/plan/placeholders.ts PLACEHOLDER_ID). */
export const NEW_STACK_ACCOUNT_ID = "0000000000000000000000000000a001";
export const NEW_STACK_ZONE_ID = "0000000000000000000000000000d001";

export interface NewStackOptions {
  readonly name: string;
  readonly environment: Environment;
  readonly repository?: string;
  readonly root: string;
}

export class NewStackError extends Error {
  override readonly name = "NewStackError";
}

/** The lifetime keys the environment's committed stack sets (they must fit its maximum TTL). */
const LIFETIME_KEYS = ["tokenTtlDays", "rotationDays", "rotationGraceDays"] as const;

/** The text of Pulumi.<name>.yaml. Pure apart from reading the environment's committed stack. */
export function newStackFile(options: Omit<NewStackOptions, "root">): string {
  const template = readStackConfigMap(REPO_ROOT, options.environment).config;
  const repository = options.repository ?? template[`${PROJECT}:githubRepository`] ?? "example-org/edge-app";
  const lifetimes = LIFETIME_KEYS.flatMap((key) => {
    const value = template[`${PROJECT}:${key}`];
    return value === undefined ? [] : [`  ${PROJECT}:${key}: ${value}`];
  });
  const secrets = requiredSecrets({}).map(
    (secret) => `#   pulumi config set --secret ${secret.key} --stack ${options.name}`,
  );
  return [
    `# ${options.name} stack (environment ${options.environment}), started by npm run new-stack.`,
    "# This is the one file to edit: replace the placeholder ids with your own (Cloudflare dashboard ->",
    "# your domain -> Overview -> API: Account ID, Zone ID), add a zone per domain, then",
    `#   npm run plan -- --stack ${options.name}`,
    "# Secrets are never written here by hand; these commands prompt for each and store its ciphertext:",
    ...secrets,
    "config:",
    `  ${PROJECT}:environment: ${options.environment}`,
    `  ${PROJECT}:accountId: ${NEW_STACK_ACCOUNT_ID}`,
    `  ${PROJECT}:zones:`,
    "    - name: example.com",
    `      id: ${NEW_STACK_ZONE_ID}`,
    "      routes:",
    "        - api.example.com/*",
    `  ${PROJECT}:workerName: edge-chat-${options.name.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`,
    `  ${PROJECT}:workerVars:`,
    "    ALLOWED_ORIGINS: https://www.example.com",
    ...lifetimes,
    `  ${PROJECT}:githubRepository: ${repository}`,
    `  ${PROJECT}:githubEnvironment: ${options.name}`,
    "",
  ].join("\n");
}

/** Writes the stack file; returns its path. Refuses to overwrite. */
export function writeNewStack(options: NewStackOptions): string {
  if (!existsSync(join(options.root, "Pulumi.yaml"))) {
    throw new NewStackError(`--root: no Pulumi.yaml in ${options.root}; run this in the project directory`);
  }
  const file = join(options.root, `Pulumi.${options.name}.yaml`);
  if (existsSync(file)) {
    throw new NewStackError(`--name: ${file} already exists; pick another name or edit that file`);
  }
  writeFileSync(file, newStackFile(options), { flag: "wx" });
  return file;
}

/** What to do after the file is written. */
export function nextSteps(name: string, file: string): string {
  return [
    `Wrote ${file}.`,
    "",
    "Next:",
    `  1. Edit ${file}:`,
    `     replace ${NEW_STACK_ACCOUNT_ID} and ${NEW_STACK_ZONE_ID} with your account and zone ids,`,
    "     the example.com zone and route with your own; add a zone per domain.",
    `  2. npm run plan -- --stack ${name}     # offline; lists what is still to set`,
    `  3. pulumi stack init ${name}           # once, with your state backend`,
    "  4. Set the three secrets (each command prompts for the value):",
    ...missingSecrets({}, name).map((item) => `       ${item.fix}`),
    `  5. pulumi up --stack ${name}`,
    "",
  ].join("\n");
}

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

export function main(argv: readonly string[], io: Io): number {
  let values: { name?: string; environment?: string; repository?: string; root?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        name: { type: "string" },
        environment: { type: "string" },
        repository: { type: "string" },
        root: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.stderr(`new-stack: ${escapeControl((error as Error).message)}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const problems: string[] = [];
  if (values.name === undefined || !STACK_NAME.test(values.name)) {
    problems.push(
      `--name: ${values.name === undefined ? "is required" : `"${escapeControl(values.name)}" is not a stack name`}; ` +
        "use letters, digits, '-', '_' and '.', e.g. --name qa",
    );
  }
  if (!(ENVIRONMENTS as readonly string[]).includes(values.environment ?? "")) {
    problems.push(
      `--environment: ${values.environment === undefined ? "is required" : `"${escapeControl(values.environment)}" is not an environment`}; ` +
        `use one of ${ENVIRONMENTS.join(", ")}`,
    );
  }
  if (values.repository !== undefined && !REPOSITORY.test(values.repository)) {
    problems.push(
      `--repository: "${escapeControl(values.repository)}" is not owner/repo; e.g. my-org/my-app`,
    );
  }
  if (problems.length > 0) {
    io.stderr(`${problems.map((problem) => `new-stack: ${problem}`).join("\n")}\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const name = values.name!;
    const file = writeNewStack({
      name,
      environment: values.environment as Environment,
      ...(values.repository === undefined ? {} : { repository: values.repository }),
      root: resolve(values.root ?? REPO_ROOT),
    });
    io.stdout(nextSteps(name, file));
    return 0;
  } catch (error) {
    if (error instanceof NewStackError) {
      io.stderr(`new-stack: ${escapeControl(error.message)}\n`);
      return 2;
    }
    throw error;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}
