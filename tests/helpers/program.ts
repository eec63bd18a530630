/**
 * Runs index.ts for one stack under the offline runtime (Pulumi's mock runtime, instrumented) and
 * returns what was registered, invoked and exported.
 */
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";

import * as pulumi from "@pulumi/pulumi";

import { WORKER_SECRET_TYPE } from "../../components/worker-secret";
import { CLOCK_ENV } from "../../lib/clock";
import { observeRegistrations } from "../../tools/shared/pulumi-adapter";
import {
  runProgram,
  startOfflineRuntime,
  type LookupRow,
  type RecordedInvoke,
  type RegisteredResource,
} from "../../tools/shared/offline-runtime";
import { readStackConfigMap } from "../../tools/shared/stack-file";

export const ROOT = join(__dirname, "..", "..");
export const PROJECT = "scoped-edge";
/** Stand-in secrets: unique strings so a leak anywhere is easy to find. */
export const PROVIDER_KEY = "gsk_test_provider_key_0123456789abcdef";
export const GITHUB_TOKEN = "ghp_test_github_admin_token_abcdef";
export const FIXED_NOW = "2026-11-23T12:00:00Z";

export interface StackRun {
  readonly resources: RegisteredResource[];
  readonly invokes: RecordedInvoke[];
  readonly outputs: Record<string, unknown> | undefined;
  readonly error: Error | undefined;
  /** URNs registered with `retainOnDelete` (the offline runtime does not record the option). */
  readonly retainedOnDelete: ReadonlySet<string>;
}

export interface RunOptions {
  /** Config values to set or override (full keys). */
  readonly set?: Record<string, string>;
  /** Config values to set as secrets (full keys), as `pulumi config set --secret` does. */
  readonly secrets?: Record<string, string>;
  /** Config keys to remove. */
  readonly unset?: readonly string[];
  /** Keys to treat as plain text even if the stack would make them secret. */
  readonly plain?: readonly string[];
  readonly now?: string;
  /** Start from this stack file's config (defaults to the stack name). */
  readonly stackFile?: string;
  /** What the permission-group lookup answers (default: the bundled catalog). */
  readonly lookupRows?: readonly LookupRow[];
  /** What Cloudflare hands back as the deploy token's value (default: the offline runtime's). */
  readonly tokenValue?: string;
  /** Receives the live list of registrations as soon as the runtime starts (for runs that never settle). */
  readonly observe?: (resources: RegisteredResource[]) => void;
}

const TOKEN_TYPES = new Set([
  "cloudflare:index/accountToken:AccountToken",
  "cloudflare:index/apiToken:ApiToken",
]);

type Program = () => Promise<Record<string, unknown>>;

async function loadProgram(): Promise<Program> {
  const module = (await import("../../index.js")) as unknown as { default?: Program } | Program;
  return typeof module === "function" ? module : (module.default as Program);
}

export async function runStack(stack: string, options: RunOptions = {}): Promise<StackRun> {
  const base = readStackConfigMap(ROOT, options.stackFile ?? stack);
  const config: Record<string, string> = {
    ...base.config,
    [`${PROJECT}:providerKey`]: PROVIDER_KEY,
    "github:token": GITHUB_TOKEN,
    ...options.set,
    ...options.secrets,
  };
  for (const key of options.unset ?? []) delete config[key];
  const secretKeys = [
    ...base.secretKeys,
    `${PROJECT}:providerKey`,
    "github:token",
    ...Object.keys(options.secrets ?? {}),
  ].filter((key) => !(options.plain ?? []).includes(key));
  const runtime = await startOfflineRuntime({
    project: PROJECT,
    stack,
    config,
    secretKeys,
    ...(options.lookupRows === undefined ? {} : { lookupRows: options.lookupRows }),
  });
  options.observe?.(runtime.resources);
  const retainedOnDelete = new Set<string>();
  const monitor = observeRegistrations((request) => {
    // A field of Pulumi's RegisterResourceRequest (proto/resource_pb) the adapter does not read.
    const retain = (request as unknown as { getRetainondelete(): boolean | undefined }).getRetainondelete();
    if (retain === true) retainedOnDelete.add(monitor.urnOf(request));
  });
  if (options.tokenValue !== undefined) {
    const tokenValue = options.tokenValue;
    const newResource = runtime.mocks.newResource.bind(runtime.mocks);
    runtime.mocks.newResource = (args) => {
      const result = newResource(args);
      return TOKEN_TYPES.has(args.type)
        ? { ...result, state: { ...result.state, value: tokenValue } }
        : result;
    };
  }
  process.env[CLOCK_ENV] = options.now ?? FIXED_NOW;
  const program = await loadProgram();
  try {
    const outputs = await runProgram(program);
    return {
      resources: runtime.resources,
      invokes: runtime.mocks.invokes,
      outputs,
      error: undefined,
      retainedOnDelete,
    };
  } catch (error) {
    return {
      resources: runtime.resources,
      invokes: runtime.mocks.invokes,
      outputs: undefined,
      error: error as Error,
      retainedOnDelete,
    };
  } finally {
    delete process.env[CLOCK_ENV];
  }
}

/**
 * Runs `start` and collects the unhandled rejections it causes until none has arrived for
 * `quietMs`, with vitest's own listeners set aside meanwhile. Pulumi's language host turns a
 * rejected resource input into exactly such a rejection and fails `pulumi up` with it.
 */
export async function collectUnhandledRejections(
  start: () => void,
  { quietMs = 500, timeoutMs = 20_000 } = {},
): Promise<Error[]> {
  const saved = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  const seen: Error[] = [];
  let last = Date.now();
  process.on("unhandledRejection", (reason) => {
    seen.push(reason as Error);
    last = Date.now();
  });
  try {
    start();
    const began = Date.now();
    while (Date.now() - began < timeoutMs && (seen.length === 0 || Date.now() - last < quietMs)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return seen;
  } finally {
    process.removeAllListeners("unhandledRejection");
    for (const listener of saved) process.on("unhandledRejection", listener);
  }
}

/**
 * The input keys whose change the engine would send to the provider: Pulumi's rule for
 * `ignoreChanges` is that an ignored property keeps its old input, so only the others can differ.
 */
export function changedInputs(before: RegisteredResource, after: RegisteredResource): string[] {
  const ignored = new Set(after.ignoreChanges);
  const keys = new Set([...Object.keys(before.inputs), ...Object.keys(after.inputs)]);
  return [...keys].filter(
    (key) => !ignored.has(key) && !isDeepStrictEqual(before.inputs[key], after.inputs[key]),
  );
}

/** Every resource's changed inputs between two runs, keyed by URN; created and deleted ones too. */
export function diffRuns(first: StackRun, second: StackRun): Record<string, string[]> {
  const before = new Map(programResources(first).map((resource) => [resource.urn, resource]));
  const after = new Map(programResources(second).map((resource) => [resource.urn, resource]));
  const diff: Record<string, string[]> = {};
  for (const [urn, resource] of after) {
    const previous = before.get(urn);
    const changed = previous === undefined ? ["<created>"] : changedInputs(previous, resource);
    if (changed.length > 0) diff[urn] = changed;
  }
  for (const urn of before.keys()) if (!after.has(urn)) diff[urn] = ["<deleted>"];
  return diff;
}

/** The one resource of `type`, failing loudly when there are none or several. */
export function only(run: StackRun, type: string): RegisteredResource {
  const matches = run.resources.filter((resource) => resource.type === type);
  if (matches.length !== 1) throw new Error(`expected one ${type}, found ${matches.length}`);
  return matches[0]!;
}

export function ofType(run: StackRun, type: string): RegisteredResource[] {
  return run.resources.filter((resource) => resource.type === type);
}

/** Resources the program registered itself (the root Stack is the runtime's). */
export function programResources(run: StackRun): RegisteredResource[] {
  return run.resources.filter((resource) => resource.type !== "pulumi:pulumi:Stack");
}

/** Unwraps an RPC secret; returns [value, wasSecret]. */
export function unwrapSecret(value: unknown): [unknown, boolean] {
  if (pulumi.runtime.isRpcSecret(value)) return [pulumi.runtime.unwrapRpcSecret(value), true];
  return [value, false];
}

export const TYPES = {
  accountToken: "cloudflare:index/accountToken:AccountToken",
  apiToken: "cloudflare:index/apiToken:ApiToken",
  script: "cloudflare:index/workersScript:WorkersScript",
  kv: "cloudflare:index/workersKvNamespace:WorkersKvNamespace",
  route: "cloudflare:index/workersRoute:WorkersRoute",
  r2: "cloudflare:index/r2Bucket:R2Bucket",
  customHostname: "cloudflare:index/customHostname:CustomHostname",
  randomId: "random:index/randomId:RandomId",
  envSecret: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
  repoSecret: "github:index/actionsSecret:ActionsSecret",
  envVariable: "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
  repoVariable: "github:index/actionsVariable:ActionsVariable",
  githubProvider: "pulumi:providers:github",
  environment: "github:index/repositoryEnvironment:RepositoryEnvironment",
  workerSecret: WORKER_SECRET_TYPE,
} as const;
