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
 * - A V8 code cache of every CommonJS module the tool loads (the bundle and node_modules), made when
 *   the process exits, after the run, so it holds the functions the run compiled lazily (a cache made
 *   at compile time, as v8-compile-cache and Node 22's module.enableCompileCache make it, holds only
 *   the eagerly compiled top level and measured no gain). One file per node version and flags; each
 *   entry is keyed by its module's path and content hash, and the file by a checksum of its bytes (V8
 *   checks only the source's length): a stale, corrupt or rejected entry is compiled from source,
 *   exactly as without a cache, and the file is rewritten at exit.
 *
 * With `sourceMaps` (or node's --enable-source-maps) there is no code cache: node's own loader
 * compiles every module, so stack traces map to the TypeScript sources. Plain JavaScript: it runs
 * before any TypeScript tooling is loaded.
 */
"use strict";
const { Buffer } = require("node:buffer");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");
const vm = require("node:vm");

const ROOT = path.join(__dirname, "..", "..");
const CACHE_ROOT = path.join(ROOT, "node_modules", ".cache", "scoped-edge-tools");
const ESBUILD_VERSION = require("esbuild/package.json").version;

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const hashOf = (file) => sha256(fs.readFileSync(file));

/** Writes `contents` under a temporary name and renames it: a reader sees all of it or none. */
function writeAtomically(file, contents) {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, contents);
  fs.renameSync(temporary, file);
}

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

// ---- the start cache: compiled code and module resolutions --------------------------------------

/** The start cache file for this node and these flags (V8 rejects a cache made under other flags). */
function startCacheFileOf(cacheDir) {
  const flags = sha256(JSON.stringify([process.execArgv, process.env.NODE_OPTIONS ?? ""])).slice(0, 16);
  return path.join(cacheDir, `v8-${process.version}-${process.arch}-${flags}.cache`);
}

/**
 * What node_modules holds, as npm last left it: its hidden lockfile (npm rewrites it whenever it
 * changes node_modules) and the directory's own mtime. Undefined without that lockfile (another
 * package manager): module resolutions are then not cached.
 */
function installedPackages() {
  try {
    const nodeModules = path.join(ROOT, "node_modules");
    const lockfile = fs.readFileSync(path.join(nodeModules, ".package-lock.json"));
    return `${sha256(lockfile)}:${fs.statSync(nodeModules).mtimeMs}`;
  } catch {
    return undefined;
  }
}

/**
 * The start cache in `file`: a first line holding the sha256 of the rest, a JSON line
 * `{installed, resolutions: {"<parent dir>\0<request>": file}, entries: [[module, source hash,
 * offset, length]]}`, then the modules' cached data. Resolutions made under other installed
 * packages are dropped. Empty when the file is missing, truncated or corrupt.
 */
function readStartCache(file, installed) {
  const empty = { resolutions: new Map(), entries: new Map() };
  try {
    const contents = fs.readFileSync(file);
    const checksumEnd = contents.indexOf(10);
    if (sha256(contents.subarray(checksumEnd + 1)) !== contents.subarray(0, checksumEnd).toString())
      return empty;
    const headerEnd = contents.indexOf(10, checksumEnd + 1);
    const header = JSON.parse(contents.subarray(checksumEnd + 1, headerEnd).toString("utf8"));
    const data = contents.subarray(headerEnd + 1);
    const entries = new Map();
    for (const [module, source, offset, length] of header.entries) {
      entries.set(module, { source, data: data.subarray(offset, offset + length) });
    }
    const resolutions = installed !== undefined && header.installed === installed ? header.resolutions : {};
    return { resolutions: new Map(Object.entries(resolutions)), entries };
  } catch {
    return empty; // no cache yet, or half a file
  }
}

function writeStartCache(file, { installed, resolutions, entries }) {
  const chunks = [];
  const index = [];
  let offset = 0;
  for (const [module, { source, data }] of entries) {
    chunks.push(data);
    index.push([module, source, offset, data.length]);
    offset += data.length;
  }
  const header = JSON.stringify({ installed, resolutions: Object.fromEntries(resolutions), entries: index });
  const body = Buffer.concat([Buffer.from(`${header}\n`), ...chunks]);
  writeAtomically(file, Buffer.concat([Buffer.from(`${sha256(body)}\n`), body]));
}

/**
 * From now on, starts modules from `file`'s start cache:
 * - compiles each CommonJS module with its cached data when the entry's source hash matches;
 * - resolves a `require` from a parent directory to the file it resolved to last time, while npm
 *   has not changed node_modules since and that file still exists.
 * At exit, when any module was compiled or resolved without the cache, rewrites `file` with the
 * cached data of every module this run loaded (made now, after the run) and its resolutions, plus
 * the entries of modules it did not load whose files still exist.
 */
function installStartCache(file) {
  const installed = installedPackages();
  const stored = readStartCache(file, installed);
  const compiled = new Map();
  const resolved = new Map();
  let missed = false;

  const compile = Module.prototype._compile;
  Module.prototype._compile = function compileWithCache(content, filename, format) {
    if (format === "module") return compile.apply(this, arguments);
    const source = sha256(content);
    const entry = stored.entries.get(filename);
    const cachedData = entry && entry.source === source ? entry.data : undefined;
    let script;
    try {
      script = new vm.Script(Module.wrap(stripShebang(content)), {
        filename,
        cachedData,
        importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
      });
    } catch {
      // Not CommonJS (an ES module node detects) or a syntax error: node's loader decides and reports.
      return compile.apply(this, arguments);
    }
    if (cachedData === undefined || script.cachedDataRejected) missed = true;
    compiled.set(filename, { source, script });
    return script
      .runInThisContext({ displayErrors: true })
      .call(this.exports, this.exports, requireFunctionOf(this), this, filename, path.dirname(filename));
  };

  if (installed !== undefined) {
    const resolveFilename = Module._resolveFilename;
    Module._resolveFilename = function resolveWithCache(request, parent, isMain, options) {
      if (isMain || options !== undefined || typeof parent?.path !== "string") {
        return resolveFilename.apply(this, arguments);
      }
      const key = `${parent.path}\0${request}`;
      const cached = stored.resolutions.get(key);
      if (cached !== undefined && fs.existsSync(cached)) {
        resolved.set(key, cached);
        return cached;
      }
      const filename = resolveFilename.apply(this, arguments);
      // Built-in modules resolve to their names and need no cache.
      if (path.isAbsolute(filename)) {
        resolved.set(key, filename);
        missed = true;
      }
      return filename;
    };
  }

  process.once("exit", () => {
    if (!missed) return;
    try {
      const entries = new Map();
      for (const [filename, { source, script }] of compiled) {
        entries.set(filename, { source, data: script.createCachedData() });
      }
      for (const [filename, entry] of stored.entries) {
        if (!entries.has(filename) && fs.existsSync(filename)) entries.set(filename, entry);
      }
      const resolutions = new Map(resolved);
      for (const [key, filename] of stored.resolutions) {
        if (!resolutions.has(key) && fs.existsSync(filename)) resolutions.set(key, filename);
      }
      writeStartCache(file, { installed, resolutions, entries });
    } catch {
      // A cache that cannot be written only costs the next start its speed.
    }
  });
}

/** Node's loader compiles a leading `#!` line as a comment; vm.Script does not. */
const stripShebang = (content) => (content.startsWith("#!") ? `//${content.slice(2)}` : content);

/** The `require` node gives a CommonJS module (lib/internal/modules/helpers.js, makeRequireFunction). */
function requireFunctionOf(module) {
  const require = (id) => module.require(id);
  const resolve = (request, options) => Module._resolveFilename(request, module, false, options);
  resolve.paths = (request) => Module._resolveLookupPaths(request, module);
  require.resolve = resolve;
  require.main = process.mainModule;
  require.extensions = Module._extensions;
  require.cache = Module._cache;
  return require;
}

// ---- launching -----------------------------------------------------------------------------------

/**
 * Loads `entry` (a .ts path) as a bundle and returns its exports; `asMain` loads it as the process's
 * main module. With `sourceMaps`, stack traces map to the sources (and there is no code cache).
 */
async function launch(entry, { asMain = false, sourceMaps = false } = {}) {
  const cacheDir = cacheDirOf(path.resolve(entry));
  const bundle = currentBundle(cacheDir) ?? (await build(path.resolve(entry), cacheDir));
  if (sourceMaps) process.setSourceMapsEnabled(true);
  if (!process.sourceMapsEnabled) installStartCache(startCacheFileOf(cacheDir));
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
