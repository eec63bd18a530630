/**
 * `npm run plan`'s entry: runs tools/plan/main.ts as one esbuild bundle under plain node, so a plan
 * does not pay tsx's transpile-on-load for every repository module on each start. The bundle is
 * cached in node_modules/.cache/scoped-edge-plan/ and rebuilt when any source it was built from
 * (recorded by esbuild's metafile, compared by content hash) or esbuild's version changes; packages
 * stay external, loaded from node_modules as usual. Plain JavaScript: it runs before any TypeScript
 * tooling is loaded.
 */
"use strict";
const { createHash } = require("node:crypto");
const { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } = require("node:fs");
const { dirname, join } = require("node:path");

const ROOT = join(__dirname, "..", "..");
const ENTRY = join(__dirname, "main.ts");
const CACHE = join(ROOT, "node_modules", ".cache", "scoped-edge-plan");
const BUNDLE = join(CACHE, "plan.cjs");
const MANIFEST = join(CACHE, "manifest.json");
const ESBUILD_VERSION = require("esbuild/package.json").version;

const hashOf = (file) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** True when the cached bundle was built from exactly the sources on disk, by this esbuild. */
function upToDate() {
  if (!existsSync(BUNDLE) || !existsSync(MANIFEST)) return false;
  try {
    const manifest = JSON.parse(readFileSync(MANIFEST, "utf8"));
    if (manifest.esbuild !== ESBUILD_VERSION) return false;
    return Object.entries(manifest.inputs).every(
      ([file, hash]) => existsSync(join(ROOT, file)) && hashOf(join(ROOT, file)) === hash,
    );
  } catch {
    return false;
  }
}

/**
 * Each bundled module keeps its own __dirname/__filename (run.ts and lib/worker-bundle.ts locate
 * the repository from them), as it would unbundled.
 */
const keepModulePaths = {
  name: "keep-module-paths",
  setup(build) {
    build.onLoad({ filter: /\.[cm]?ts$/ }, (args) => ({
      contents:
        `const __filename = ${JSON.stringify(args.path)}; const __dirname = ${JSON.stringify(dirname(args.path))};\n` +
        readFileSync(args.path, "utf8"),
      loader: "ts",
    }));
  },
};

async function build() {
  mkdirSync(CACHE, { recursive: true });
  // Plugins need the async API.
  const result = await require("esbuild").build({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    outfile: BUNDLE,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    packages: "external",
    sourcemap: "external",
    metafile: true,
    write: false,
    logLevel: "error",
    plugins: [keepModulePaths],
  });
  // Written under temporary names and renamed: plans started together never read half a bundle.
  const written = (file, contents) => {
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, contents);
    renameSync(temporary, file);
  };
  for (const output of result.outputFiles) written(output.path, output.contents);
  const inputs = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    inputs[input] = hashOf(join(ROOT, input));
  }
  written(MANIFEST, JSON.stringify({ esbuild: ESBUILD_VERSION, inputs }));
}

async function run() {
  if (!upToDate()) await build();
  if (process.env.SCOPED_EDGE_PLAN_DEBUG) process.setSourceMapsEnabled(true);
  const { main } = require(BUNDLE);
  process.exitCode = await main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}

run().catch((error) => {
  process.stderr.write(`plan: internal error: ${error && error.stack ? error.stack : String(error)}\n`);
  process.exitCode = 3;
});
