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
import * as path from "node:path";

import { build } from "esbuild";

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

/**
 * Bundles `entry` (relative to the repository root, or absolute) into one ES module for workerd:
 * platform neutral with the workerd/worker/browser conditions, so a Node built-in import fails the
 * build instead of reaching the runtime.
 */
export async function bundleWorker(entry: string = WORKER_ENTRY): Promise<WorkerBundle> {
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [entry],
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
  });
  const output = result.outputFiles.find((file) => file.path.endsWith(`/${WORKER_MAIN_MODULE}`));
  const map = result.outputFiles.find((file) => file.path.endsWith(`/${WORKER_SOURCE_MAP}`));
  if (output === undefined || map === undefined || result.outputFiles.length !== 2) {
    throw new Error(
      `esbuild produced ${result.outputFiles.length} files; expected ${WORKER_MAIN_MODULE} and ${WORKER_SOURCE_MAP}`,
    );
  }
  const content = output.text;
  return {
    content,
    sha256: sha256Hex(content),
    mainModule: WORKER_MAIN_MODULE,
    sourceMap: map.text,
    sourceMapName: WORKER_SOURCE_MAP,
  };
}
