/**
 * Shared by the offline plan's tests: the CLI run in process with a capturing io, temporary roots
 * holding a copy of Pulumi.yaml and hand-written stack files, and the resource types the plan shows.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import Ajv2020 from "ajv/dist/2020";
import { afterAll, beforeAll, expect, vi } from "vitest";

import { main } from "../../tools/plan/main";
import type { PlanDocument } from "../../tools/plan/report";

export const REPO = join(__dirname, "..", "..");
/** Inside dev's window 692 (2026-11-03 .. 2026-12-03), staging's 1484 and prod's 2968 (from 2026-11-19). */
export const NOW = "2026-11-23T00:00:00Z";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `main(argv)` with stdout and stderr captured. */
export async function runCli(argv: readonly string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

/**
 * For one test file: the CLI loaded afresh over `modulePath` (a path from tests/plan) with the
 * exports `replace` returns swapped in. The test workers share their modules between files, so the
 * registry is reset before the CLI is imported and again, the replacement removed, after the file.
 * `cli.runCli` is set in beforeAll.
 */
export function cliOverReplacedModule<Module extends object>(
  modulePath: string,
  replace: (original: Module) => Partial<Module>,
): { runCli: typeof runCli } {
  const cli = { runCli };
  beforeAll(async () => {
    vi.resetModules();
    vi.doMock(modulePath, async (importOriginal) => {
      const original = await importOriginal<Module>();
      return { ...original, ...replace(original) };
    });
    cli.runCli = ((await import("./helpers.js")) as { runCli: typeof runCli }).runCli;
  });
  afterAll(() => {
    vi.doUnmock(modulePath);
    vi.resetModules();
  });
  return cli;
}

/** The committed stack file's text. */
export function committedStack(stack: "dev" | "staging" | "prod"): string {
  return readFileSync(join(REPO, `Pulumi.${stack}.yaml`), "utf8");
}

const roots: string[] = [];

/** A temporary root with the repository's Pulumi.yaml and `Pulumi.<name>.yaml` for each entry. */
export function tempRoot(
  stacks: Readonly<Record<string, string>>,
  extra: Readonly<Record<string, string>> = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "scoped-edge-plan-"));
  roots.push(dir);
  copyFileSync(join(REPO, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  for (const [name, text] of Object.entries(stacks)) writeFileSync(join(dir, `Pulumi.${name}.yaml`), text);
  for (const [file, text] of Object.entries(extra)) writeFileSync(join(dir, file), text);
  return dir;
}

/** Removes every root tempRoot made (call from afterAll). */
export function removeTempRoots(): void {
  for (const dir of roots.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The `--json` document's shape (docs/plan.schema.json). */
export type JsonPlan = PlanDocument;

const ajv = new Ajv2020({ allErrors: true, strict: true });
const validatePlanJson = ajv.compile(
  JSON.parse(readFileSync(join(REPO, "docs", "plan.schema.json"), "utf8")) as Record<string, unknown>,
);

/** Fails with ajv's errors unless `document` matches docs/plan.schema.json. */
export function expectSchemaValid(document: unknown): void {
  const valid = validatePlanJson(document);
  expect(validatePlanJson.errors ?? []).toEqual([]);
  expect(valid).toBe(true);
}

/** `--json` stdout: exactly one pretty-printed document and a final newline, valid by the schema. */
export function jsonOutput<T = JsonPlan>(run: CliRun): T {
  const document = JSON.parse(run.stdout) as T;
  expect(run.stdout).toBe(`${JSON.stringify(document, null, 2)}\n`);
  expectSchemaValid(document);
  return document;
}

/** Lines (code points, not bytes) wider than the human output's limit. */
export function wideLines(text: string, limit = 100): string[] {
  return text.split("\n").filter((line) => [...line].length > limit);
}

export const TYPES = {
  stack: "pulumi:pulumi:Stack",
  accountToken: "cloudflare:index/accountToken:AccountToken",
  apiToken: "cloudflare:index/apiToken:ApiToken",
  script: "cloudflare:index/workersScript:WorkersScript",
  kv: "cloudflare:index/workersKvNamespace:WorkersKvNamespace",
  route: "cloudflare:index/workersRoute:WorkersRoute",
  randomId: "random:index/randomId:RandomId",
  envSecret: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
  envVariable: "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
  githubProvider: "pulumi:providers:github",
  cloudflareProvider: "pulumi:providers:cloudflare",
  randomProvider: "pulumi:providers:random",
  edgeWorker: "scoped-edge:cloudflare:EdgeWorker",
  deployToken: "scoped-edge:cloudflare:DeployToken",
  deploySecret: "scoped-edge:github:DeploySecret",
} as const;

/** The one resource of `type` in a plan's resource list, failing loudly when there are none or several. */
export function onlyOf<T extends { type: string }>(resources: readonly T[], type: string): T {
  const matches = resources.filter((resource) => resource.type === type);
  if (matches.length !== 1) throw new Error(`expected one ${type}, found ${matches.length}`);
  return matches[0]!;
}

export const ACCOUNT_LOOKUP =
  "cloudflare:index/getAccountApiTokenPermissionGroupsList:getAccountApiTokenPermissionGroupsList";
export const USER_LOOKUP = "cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList";
