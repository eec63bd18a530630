/**
 * The tools' start cache (tools/shared/launch.cjs installs it for every tool): from install on, each
 * CommonJS module the process loads is compiled from V8's cached data and resolved from its last
 * resolution, and at exit, after a run that missed any of them, the file is rewritten. The cached
 * data is made at exit, after the run, so it holds the functions the run compiled lazily (a cache
 * made at compile time, as v8-compile-cache and Node 22's module.enableCompileCache make it, holds
 * only the eagerly compiled top level, and measured no gain here).
 *
 * The same cache for any node program: `NODE_OPTIONS=--require=<this file>` with
 * SCOPED_EDGE_CODE_CACHE_DIR=<directory> keeps one file per main script, node version and flags
 * there (tests/shared/launch-cache.test.ts runs it so). Skipped when source maps are on (node's own
 * loader maps them).
 * Plain JavaScript: it runs before any TypeScript tooling is loaded.
 */
"use strict";
const { Buffer } = require("node:buffer");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");
const vm = require("node:vm");

const ROOT = path.join(__dirname, "..", "..");
/** Set by whichever installs first (the preload or the launcher): one cache per process. */
const INSTALLED = Symbol.for("scoped-edge.start-cache");

const sha256 = (data) => createHash("sha256").update(data).digest("hex");

/** Writes `contents` under a temporary name and renames it: a reader sees all of it or none. */
function writeAtomically(file, contents) {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, contents);
  fs.renameSync(temporary, file);
}

// ---- the start cache: compiled code and module resolutions --------------------------------------

/**
 * The start cache file in `cacheDir` for this node and a process started with `execArgv` and
 * NODE_OPTIONS `nodeOptions` (V8 rejects a cache made under other flags), after `prefix`.
 */
function startCacheFileOf(
  cacheDir,
  prefix = "",
  execArgv = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? "",
) {
  const flags = sha256(JSON.stringify([execArgv, nodeOptions])).slice(0, 16);
  return path.join(cacheDir, `${prefix}v8-${process.version}-${process.arch}-${flags}.cache`);
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
  pruneStartCaches(file);
}

const START_CACHE_NAME = /(^|-)v8-v[\d.]+-\w+-[0-9a-f]{16}\.cache$/;
const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

/** Removes the start cache files beside `file` (other node versions or flags) unwritten for a week. */
function pruneStartCaches(file) {
  const directory = path.dirname(file);
  for (const name of fs.readdirSync(directory)) {
    const other = path.join(directory, name);
    if (other !== file && START_CACHE_NAME.test(name) && fs.statSync(other).mtimeMs < Date.now() - WEEK_MS) {
      fs.rmSync(other, { force: true });
    }
  }
}

/**
 * From now on, starts modules from `file`'s start cache (once per process; not with source maps on):
 * - compiles each CommonJS module with its cached data when the entry's source hash matches;
 * - resolves a `require` from a parent directory to the file it resolved to last time, while npm
 *   has not changed node_modules since and that file still exists.
 * At exit, when any module was compiled or resolved without the cache, rewrites `file` with the
 * cached data of every module this run loaded (made now, after the run) and its resolutions, plus
 * the entries of modules it did not load whose files still exist.
 */
function installStartCache(file) {
  if (globalThis[INSTALLED] || process.sourceMapsEnabled) return;
  globalThis[INSTALLED] = file;
  const installed = installedPackages();
  const stored = readStartCache(file, installed);
  const compiled = new Map();
  const resolved = new Map();
  let missed = false;

  const compile = Module.prototype._compile;
  Module.prototype._compile = function compileWithCache(content, filename, format) {
    // ES modules (require(esm)) and, on newer node, TypeScript stripped on load: node's own loader.
    if (format !== undefined && format !== "commonjs") return compile.apply(this, arguments);
    if (MAY_IMPORT.test(content)) return compile.apply(this, arguments);
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

/**
 * Modules whose source may call import() are left to node's own loader, uncached: a script compiled
 * from cached data that another process made loses its dynamic-import callback on node 20 (V8 does
 * not carry vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER across processes), and its import() then
 * throws ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING: the plan's `await import("esbuild")` did, once the
 * Worker needed a rebuild. A mention of `import(` in a string or comment only costs that module its
 * cache.
 */
const MAY_IMPORT = /\bimport\s*\(/;

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

module.exports = { installStartCache, startCacheFileOf, sha256, writeAtomically };

// As a preload (`--require`) with SCOPED_EDGE_CODE_CACHE_DIR: one file per main script.
if (process.env.SCOPED_EDGE_CODE_CACHE_DIR && require.main === undefined) {
  const script = sha256(process.argv[1] ?? "").slice(0, 16);
  const directory = path.resolve(process.env.SCOPED_EDGE_CODE_CACHE_DIR);
  fs.mkdirSync(directory, { recursive: true });
  installStartCache(startCacheFileOf(directory, `${script}-`));
}
