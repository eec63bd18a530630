/**
 * How the repository's tools start: `node tools/shared/launch.cjs <tool entry .ts> [args...]` runs the
 * entry as node would run it (it is `require.main`, `process.argv[1]`, its arguments from argv[2]);
 * tools/plan/cli.cjs loads the plan through `launch()`. Two caches make a start cheap, both in
 * node_modules/.cache/scoped-edge-tools/<entry>/:
 *
 * - The entry and every repository module it imports as one esbuild CJS bundle, so no TypeScript is
 *   transpiled on load. `manifest.json` names the bundle and the content hash of every input (from
 *   esbuild's metafile); the bundle is rebuilt when an input or esbuild's version changes. Each build
 *   is its own directory named by the bundle's hash, renamed into place whole: a run never reads a
 *   half-written or replaced bundle. Packages stay external, loaded from node_modules as usual.
 * - A start cache (tools/shared/launch-cache.cjs): V8's compiled code of every CommonJS module the
 *   tool loads (the bundle and node_modules), made at exit after the run, and the modules'
 *   resolutions; one file per node version and flags, checksummed, each entry keyed by its module's
 *   path and content hash: a stale, corrupt or rejected entry is compiled or resolved again, exactly
 *   as without a cache, and the file is rewritten at exit.
 *
 * With `sourceMaps` (or node's --enable-source-maps) there is no start cache: node's own loader
 * compiles every module, so stack traces map to the TypeScript sources. Plain JavaScript: it runs
 * before any TypeScript tooling is loaded.
 */
"use strict";
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

const { installStartCache, startCacheFileOf, sha256, writeAtomically } = require("./launch-cache.cjs");

const ROOT = path.join(__dirname, "..", "..");
const CACHE_ROOT = path.join(ROOT, "node_modules", ".cache", "scoped-edge-tools");
const ESBUILD_VERSION = require("esbuild/package.json").version;

const hashOf = (file) => sha256(fs.readFileSync(file));

/** The cache directory of one entry: its path from the repository root, `/` read as `+`. */
function cacheDirOf(entry) {
  const relative = path.relative(ROOT, entry).replace(/\.[cm]?ts$/, "");
  return path.join(CACHE_ROOT, relative.split(path.sep).join("+"));
}

// ---- the bundle ----------------------------------------------------------------------------------

/** The bundle built from exactly the sources on disk by this esbuild, or undefined. */
function currentBundle(cacheDir) {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(cacheDir, "manifest.json"), "utf8"));
    const bundle = path.join(cacheDir, manifest.bundle, "main.cjs");
    const current =
      manifest.esbuild === ESBUILD_VERSION &&
      fs.existsSync(bundle) &&
      Object.entries(manifest.inputs).every(([file, hash]) => hashOf(path.join(ROOT, file)) === hash);
    return current ? bundle : undefined;
  } catch {
    return undefined; // no manifest yet, an unreadable one or a deleted input: build
  }
}

/**
 * Each bundled module keeps its own __dirname/__filename (tools locate the repository from them),
 * as it would unbundled.
 */
const keepModulePaths = {
  name: "keep-module-paths",
  setup(build) {
    build.onLoad({ filter: /\.[cm]?ts$/ }, (args) => ({
      contents:
        `const __filename = ${JSON.stringify(args.path)}; const __dirname = ${JSON.stringify(path.dirname(args.path))};\n` +
        fs.readFileSync(args.path, "utf8"),
      loader: "ts",
    }));
  },
};

/** Builds `entry` into `<cacheDir>/<bundle hash>/main.cjs` (+ .map) and records it in the manifest. */
async function build(entry, cacheDir) {
  // Plugins need the async API.
  const result = await require("esbuild").build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    // At the depth of <hash>/main.cjs: the source map's relative paths hold once it is moved there.
    outfile: path.join(cacheDir, "pending", "main.cjs"),
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    packages: "external",
    sourcemap: "linked",
    metafile: true,
    write: false,
    logLevel: "error",
    plugins: [keepModulePaths],
  });
  const code = result.outputFiles.find((output) => output.path.endsWith(".cjs"));
  const name = sha256(code.contents).slice(0, 16);
  const directory = path.join(cacheDir, name);
  if (!fs.existsSync(directory)) {
    const temporary = `${directory}.${process.pid}.tmp`;
    fs.mkdirSync(temporary, { recursive: true });
    for (const output of result.outputFiles) {
      fs.writeFileSync(path.join(temporary, path.basename(output.path)), output.contents);
    }
    try {
      fs.renameSync(temporary, directory);
    } catch (error) {
      // A run started at the same time renamed the same bundle into place first.
      fs.rmSync(temporary, { recursive: true, force: true });
      if (!fs.existsSync(directory)) throw error;
    }
  }
  // This file is an input too: how it builds is part of what it built.
  const inputs = { [path.relative(ROOT, module.filename)]: hashOf(module.filename) };
  for (const input of Object.keys(result.metafile.inputs)) inputs[input] = hashOf(path.join(ROOT, input));
  writeAtomically(
    path.join(cacheDir, "manifest.json"),
    JSON.stringify({ esbuild: ESBUILD_VERSION, bundle: name, inputs }),
  );
  pruneBuilds(cacheDir, name);
  return path.join(directory, "main.cjs");
}

/**
 * Removes builds older than the previous one: a run that read the previous manifest a moment ago
 * still finds its bundle.
 */
function pruneBuilds(cacheDir, current) {
  const builds = fs
    .readdirSync(cacheDir, { withFileTypes: true })
    .filter((dirent) => dirent.isDirectory() && /^[0-9a-f]{16}$/.test(dirent.name) && dirent.name !== current)
    .map((dirent) => ({ name: dirent.name, mtime: fs.statSync(path.join(cacheDir, dirent.name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { name } of builds.slice(1)) {
    fs.rmSync(path.join(cacheDir, name), { recursive: true, force: true });
  }
}

// ---- launching -----------------------------------------------------------------------------------

/**
 * Loads `entry` (a .ts path) as a bundle and returns its exports; `asMain` loads it as the process's
 * main module. With `sourceMaps`, stack traces map to the sources (and there is no start cache).
 */
async function launch(entry, { asMain = false, sourceMaps = false } = {}) {
  const cacheDir = cacheDirOf(path.resolve(entry));
  const bundle = currentBundle(cacheDir) ?? (await build(path.resolve(entry), cacheDir));
  if (sourceMaps) process.setSourceMapsEnabled(true);
  installStartCache(startCacheFileOf(cacheDir));
  return asMain ? Module._load(bundle, null, true) : require(bundle);
}

module.exports = { launch, cacheDirOf, CACHE_ROOT };

if (require.main === module) {
  const [entry] = process.argv.splice(2, 1);
  if (entry === undefined) {
    process.stderr.write("usage: node tools/shared/launch.cjs <tool entry .ts> [args...]\n");
    process.exitCode = 2;
  } else {
    process.argv[1] = path.resolve(entry);
    launch(entry, { asMain: true }).catch((error) => {
      process.stderr.write(`${error && error.stack ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    });
  }
}
