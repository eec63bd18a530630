/**
 * Bundles the Worker (worker/src/index.ts) into one ES module with esbuild, for the Edge Worker
 * component to deploy with its sha256. Pure apart from reading the Worker's sources: no Pulumi,
 * no workerd; importable from Node.
 *
 * What ships is minified (the Worker's size is part of its cold start); the source map that comes
 * with it turns a minified stack trace back into worker/src lines. The output is deterministic: same
 * sources and esbuild version give the same bytes and sha256 on any machine (paths in the bundle and
 * its map are relative to the repository root, no timestamps).
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";

import type { BuildOptions } from "esbuild";

export {
  COMPATIBILITY_DATE,
  COMPATIBILITY_FLAGS,
  RATE_LIMIT_DEFAULTS,
  RATE_LIMIT_PERIODS,
  WORKER_BINDINGS,
  WORKER_VAR_DEFAULTS,
  WORKER_VAR_NAMES,
  type WorkerVarName,
} from "../worker/src/defaults";

/** Repository root; bundle paths are relative to it. */
const REPO_ROOT = path.resolve(__dirname, "..");

/** Name of the single module the bundle is uploaded as (the script's `main_module`). */
export const WORKER_MAIN_MODULE = "worker.js";

/** Name of the bundle's source map (a `source_map` module next to the main module, for stack traces). */
export const WORKER_SOURCE_MAP = `${WORKER_MAIN_MODULE}.map`;

/** Default entry point, relative to the repository root. */
export const WORKER_ENTRY = "worker/src/index.ts";

export interface WorkerBundle {
  /** The ES module source. */
  readonly content: string;
  /** sha256 of `content` (UTF-8), lowercase hex. */
  readonly sha256: string;
  /** Module name to deploy `content` under. */
  readonly mainModule: string;
  /** The source map of `content` (JSON), sources relative to the repository root. */
  readonly sourceMap: string;
  /** Name to upload `sourceMap` under. */
  readonly sourceMapName: string;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Files besides the inputs whose content changes how esbuild resolves or compiles them. */
const RESOLUTION_FILES = ["package.json", "tsconfig.json", "jsconfig.json"];

/** What a build of `inputs` (absolute paths) depends on besides esbuild and its options. */
interface BuildDependencies {
  readonly inputs: readonly string[];
  /** Each input's directory: a new file there can shadow a relative import. */
  readonly listed: readonly string[];
  /** The resolution files of each input's directory and every one above it (present or not). */
  readonly resolutionFiles: readonly string[];
}

function buildDependencies(inputs: readonly string[]): BuildDependencies {
  const listed = new Set<string>();
  const ancestors = new Set<string>();
  for (const input of inputs) {
    listed.add(path.dirname(input));
    for (
      let directory = path.dirname(input);
      !ancestors.has(directory);
      directory = path.dirname(directory)
    ) {
      ancestors.add(directory);
      if (directory === path.dirname(directory)) break;
    }
  }
  return {
    inputs,
    listed: [...listed].sort(),
    resolutionFiles: [...ancestors]
      .sort()
      .flatMap((directory) => RESOLUTION_FILES.map((name) => path.join(directory, name))),
  };
}

/**
 * A digest of everything a build of `inputs` read: each input's bytes, the listing of each input's
 * directory and the resolution files (or their absence). Undefined when an input is gone.
 */
function buildFingerprint(dependencies: BuildDependencies): string | undefined {
  const hash = createHash("sha256");
  try {
    for (const input of dependencies.inputs) {
      hash.update(`input ${input}\0`).update(readFileSync(input)).update("\0");
    }
    for (const directory of dependencies.listed) {
      hash.update(`listing ${directory}\0${readdirSync(directory).sort().join("\0")}\0`);
    }
    for (const file of dependencies.resolutionFiles) {
      hash
        .update(`file ${file}\0`)
        .update(existsSync(file) ? readFileSync(file) : "(absent)")
        .update("\0");
    }
  } catch {
    return undefined;
  }
  return hash.digest("hex");
}

/**
 * File times come from a coarse clock: a second write within the same tick leaves them as they were.
 * A path changed less than this long before a stamp is taken makes the stamp untrustworthy (git's
 * "racily clean" entries), so it is not kept.
 */
const RACY_MS = 1000n;

/**
 * The same paths as buildFingerprint reads, from their metadata alone: each input's and resolution
 * file's inode, size and change and modification times (ns), or its absence, and each listed
 * directory's times (an entry added, removed or renamed changes them). While the stamp is equal,
 * nothing was written there, so the fingerprint is too: an unchanged Worker costs a plan ~30 stat
 * calls instead of reading and hashing every source. Undefined when a path changed within RACY_MS.
 */
function statStamp(dependencies: BuildDependencies): string | undefined {
  const racyAfter = BigInt(Date.now()) * 1_000_000n - RACY_MS * 1_000_000n;
  const parts: string[] = [];
  for (const file of [...dependencies.inputs, ...dependencies.listed, ...dependencies.resolutionFiles]) {
    const stats = statSync(file, { bigint: true, throwIfNoEntry: false });
    if (stats === undefined) {
      parts.push("-");
      continue;
    }
    if (stats.ctimeNs >= racyAfter || stats.mtimeNs >= racyAfter) return undefined;
    parts.push(`${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`);
  }
  return parts.join("\0");
}

interface CachedBundle {
  readonly inputs: readonly string[];
  readonly fingerprint: string;
  readonly bundle: WorkerBundle;
}

/** A build kept in this process, with its dependencies and their last trustworthy stamp. */
interface BuildInProcess extends CachedBundle {
  readonly dependencies: BuildDependencies;
  readonly stamp: string | undefined;
}

/** Everything but the entry: what a cached build was made with is part of its key. */
const BUILD_OPTIONS = {
  absWorkingDir: REPO_ROOT,
  outfile: WORKER_MAIN_MODULE,
  bundle: true,
  write: false,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["browser", "module", "main"],
  minify: true,
  // "external": the map is produced but not referenced from the code, so the bundle's bytes (and
  // sha256) do not depend on where the map is kept.
  sourcemap: "external",
  sourcesContent: true,
  legalComments: "none",
  charset: "utf8",
  logLevel: "silent",
  metafile: true,
} as const satisfies BuildOptions;

/**
 * The last build of each entry in this process. esbuild's output is a function of what it read
 * (see buildFingerprint), of its version and of BUILD_OPTIONS, so while that digest is unchanged the
 * build would give the same bytes: the offline plan, which runs the program more than once in a
 * process (tests, the benchmark), skips the ~25 ms esbuild round trip.
 */
const builds = new Map<string, BuildInProcess>();

/** Where the last build of each entry is kept between processes (a cold plan skips esbuild too). */
const CACHE_DIRECTORY = path.join(REPO_ROOT, "node_modules", ".cache", "scoped-edge-worker");

/** The file holding `entry`'s last build: named by the entry, esbuild's version and the options. */
export function bundleCacheFile(entry: string): string {
  const esbuildVersion = (createRequire(__filename)("esbuild/package.json") as { version: string }).version;
  const key = createHash("sha256")
    .update(JSON.stringify({ entry, esbuildVersion, options: BUILD_OPTIONS }))
    .digest("hex");
  return path.join(CACHE_DIRECTORY, `${key}.json`);
}

/** `entry`'s build from disk when it is whole and nothing it read has changed; else undefined. */
function storedBuild(entry: string): CachedBundle | undefined {
  try {
    const stored = JSON.parse(readFileSync(bundleCacheFile(entry), "utf8")) as Partial<CachedBundle>;
    const { inputs, fingerprint, bundle } = stored;
    if (!Array.isArray(inputs) || typeof fingerprint !== "string" || bundle === undefined) return undefined;
    const whole =
      typeof bundle.content === "string" &&
      sha256Hex(bundle.content) === bundle.sha256 &&
      bundle.mainModule === WORKER_MAIN_MODULE &&
      bundle.sourceMapName === WORKER_SOURCE_MAP &&
      typeof bundle.sourceMap === "string";
    if (!whole || buildFingerprint(buildDependencies(inputs as string[])) !== fingerprint) return undefined;
    return { inputs, fingerprint, bundle };
  } catch {
    return undefined;
  }
}

/** Keeps `cached` on disk for the next process; a failure only costs that process a build. */
function store(entry: string, cached: CachedBundle): void {
  try {
    const file = bundleCacheFile(entry);
    mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(cached));
    renameSync(temporary, file);
  } catch {
    // read-only or full disk: build next time
  }
}

/**
 * Bundles `entry` (relative to the repository root, or absolute) into one ES module for workerd:
 * platform neutral with the workerd/worker/browser conditions, so a Node built-in import fails the
 * build instead of reaching the runtime.
 */
export async function bundleWorker(entry: string = WORKER_ENTRY): Promise<WorkerBundle> {
  const cached = builds.get(entry);
  if (cached !== undefined) {
    // Stamped before the sources are read: a write after the stamp shows in the next one.
    const stamp = statStamp(cached.dependencies);
    if (stamp !== undefined && stamp === cached.stamp) return { ...cached.bundle };
    if (buildFingerprint(cached.dependencies) === cached.fingerprint) {
      builds.set(entry, { ...cached, stamp });
      return { ...cached.bundle };
    }
  }
  const stored = storedBuild(entry);
  if (stored !== undefined) {
    builds.set(entry, { ...stored, dependencies: buildDependencies(stored.inputs), stamp: undefined });
    return { ...stored.bundle };
  }
  // Loaded only to build: a plan whose Worker is unchanged never loads esbuild.
  const { build } = createRequire(__filename)("esbuild") as typeof import("esbuild");
  const result = await build({ ...BUILD_OPTIONS, entryPoints: [entry] });
  const output = result.outputFiles.find((file) => file.path.endsWith(`/${WORKER_MAIN_MODULE}`));
  const map = result.outputFiles.find((file) => file.path.endsWith(`/${WORKER_SOURCE_MAP}`));
  if (output === undefined || map === undefined || result.outputFiles.length !== 2) {
    throw new Error(
      `esbuild produced ${result.outputFiles.length} files; expected ${WORKER_MAIN_MODULE} and ${WORKER_SOURCE_MAP}`,
    );
  }
  const content = output.text;
  const bundle: WorkerBundle = {
    content,
    sha256: sha256Hex(content),
    mainModule: WORKER_MAIN_MODULE,
    sourceMap: map.text,
    sourceMapName: WORKER_SOURCE_MAP,
  };
  remember(entry, bundle, Object.keys(result.metafile.inputs));
  return { ...bundle };
}

/**
 * Caches `bundle` under the digest of its inputs (paths relative to the repository root, as the
 * metafile names them), in this process and on disk, unless an input is no plain file or a source
 * changed while esbuild built: the digest is taken after the build, so it must match the sources the
 * map says were bundled.
 */
function remember(entry: string, bundle: WorkerBundle, inputKeys: readonly string[]): void {
  builds.delete(entry);
  if (inputKeys.some((key) => /^[a-z-]+:/i.test(key))) return;
  const inputs = inputKeys.map((key) => path.resolve(REPO_ROOT, key));
  const dependencies = buildDependencies(inputs);
  const fingerprint = buildFingerprint(dependencies);
  if (fingerprint === undefined) return;
  const map = JSON.parse(bundle.sourceMap) as { sources: string[]; sourcesContent?: string[] };
  const unchanged = map.sources.every((source, index) => {
    try {
      return readFileSync(path.resolve(REPO_ROOT, source), "utf8") === map.sourcesContent?.[index];
    } catch {
      return false;
    }
  });
  if (!unchanged) return;
  builds.set(entry, { inputs, fingerprint, bundle, dependencies, stamp: undefined });
  store(entry, { inputs, fingerprint, bundle });
}

/** Forgets this process's builds (tests: the next call reads the disk as a new process would). */
export function forgetBuildsInProcess(): void {
  builds.clear();
}
