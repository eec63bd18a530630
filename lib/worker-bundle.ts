/**
 * Bundles the Worker (worker/src/index.ts) into one ES module with esbuild, for the Edge Worker
 * component to deploy with its sha256. Pure apart from reading the Worker's sources: no Pulumi,
 * no workerd; importable from Node.
 *
 * The output is deterministic: same sources and esbuild version give the same bytes and sha256
 * on any machine (paths in the bundle are relative to the repository root, no source map, no
 * timestamps).
 */
import { createHash } from "node:crypto";
import * as path from "node:path";

import { build } from "esbuild";

export {
  WORKER_BINDINGS,
  WORKER_VAR_DEFAULTS,
  WORKER_VAR_NAMES,
  type WorkerVarName,
} from "../worker/src/defaults";

/** Repository root; bundle paths are relative to it. */
const REPO_ROOT = path.resolve(__dirname, "..");

/** Name of the single module the bundle is uploaded as (the script's `main_module`). */
export const WORKER_MAIN_MODULE = "worker.js";

/** Default entry point, relative to the repository root. */
export const WORKER_ENTRY = "worker/src/index.ts";

export interface WorkerBundle {
  /** The ES module source. */
  readonly content: string;
  /** sha256 of `content` (UTF-8), lowercase hex. */
  readonly sha256: string;
  /** Module name to deploy `content` under. */
  readonly mainModule: string;
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
    minify: false,
    sourcemap: false,
    legalComments: "none",
    charset: "utf8",
    logLevel: "silent",
  });
  const output = result.outputFiles.find((file) => file.path.endsWith(WORKER_MAIN_MODULE));
  if (output === undefined || result.outputFiles.length !== 1) {
    throw new Error(
      `esbuild produced ${result.outputFiles.length} files; expected exactly ${WORKER_MAIN_MODULE}`,
    );
  }
  const content = output.text;
  return { content, sha256: sha256Hex(content), mainModule: WORKER_MAIN_MODULE };
}
