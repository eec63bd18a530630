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
 * there (the tests start wrangler so, and tests/shared/launch-cache.test.ts checks it). Skipped when
 * source maps are on (node's own loader maps them).
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
 * offset, length, import() sites]]}`, then the modules' cached data. Resolutions made under other
 * installed packages are dropped. Empty when the file is missing, truncated or corrupt.
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
    for (const [module, source, offset, length, imports = []] of header.entries) {
      entries.set(module, { source, imports, data: data.subarray(offset, offset + length) });
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
  for (const [module, { source, imports, data }] of entries) {
    chunks.push(data);
    index.push([module, source, offset, data.length, imports]);
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
    const source = sha256(content);
    const entry = stored.entries.get(filename);
    const current = entry !== undefined && entry.source === source;
    const imports = current ? entry.imports : importSites(content);
    if (imports === undefined) return compile.apply(this, arguments);
    let script;
    try {
      script = new vm.Script(wrapWithImporter(stripShebang(content), imports), {
        filename,
        cachedData: current ? entry.data : undefined,
        importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
      });
    } catch {
      // Not CommonJS (an ES module node detects) or a syntax error: node's loader decides and reports.
      return compile.apply(this, arguments);
    }
    if (!current || script.cachedDataRejected) missed = true;
    compiled.set(filename, { source, imports, script });
    const dirname = path.dirname(filename);
    const run = script.runInThisContext({ displayErrors: true });
    const args = [this.exports, requireFunctionOf(this), this, filename, dirname];
    if (imports.length > 0) args.push(importerOf(this, compile));
    return run.apply(this.exports, args);
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
      for (const [filename, { source, imports, script }] of compiled) {
        entries.set(filename, { source, imports, data: script.createCachedData() });
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
 * import() in a module compiled from cached data: on node 20 a script compiled from cached data
 * that another process made loses its dynamic-import callback (V8 11.3 does not carry the host
 * options, vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER included, across processes), and its import()
 * throws ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING: the plan's `await import("esbuild")` did. So each
 * `import` keyword of a dynamic import is replaced by IMPORTER, a name of the same length (every
 * other offset, line and column stays), which the module's wrapper binds to an import() compiled
 * from source for the same filename: resolution and loading are node's own, relative to the module.
 * es-module-lexer (Vite's lexer) finds the sites, so `import(` in strings, comments and regular
 * expressions is left alone; they are stored with the cached data, so a warm start does not lex.
 */
const MAY_IMPORT = /\bimport\s*\(/;
const IMPORTER = "\u0131mport"; // "ımport": six characters, like "import"

/**
 * Offsets of the `import` keywords of `content`'s dynamic imports ([] when it has none); undefined
 * when they cannot be found for sure (no lexer, a lexer error, a module naming IMPORTER itself): the
 * module is then left to node's own loader, uncached.
 */
function importSites(content) {
  if (!MAY_IMPORT.test(content)) return [];
  if (content.includes(IMPORTER)) return undefined;
  try {
    const lexer = require("es-module-lexer");
    lexer.initSync();
    const [imports] = lexer.parse(content);
    const sites = imports.filter(({ d }) => d >= 0).map(({ ss }) => ss);
    return sites.every((site) => content.startsWith("import", site)) ? sites : undefined;
  } catch {
    return undefined;
  }
}

/** Module.wrap, with each import() site calling IMPORTER, a sixth parameter, instead. */
function wrapWithImporter(content, sites) {
  if (sites.length === 0) return Module.wrap(content);
  let body = "";
  let from = 0;
  for (const site of sites) {
    body += content.slice(from, site) + IMPORTER;
    from = site + IMPORTER.length;
  }
  body += content.slice(from);
  return `(function (exports, require, module, __filename, __dirname, ${IMPORTER}) { ${body}\n});`;
}

/**
 * `import(specifier, options)` as `module` itself would run it: compiled by node's own loader
 * (`compile`, the original Module.prototype._compile) under the module's filename, on first use.
 */
function importerOf(module, compile) {
  let importer;
  return (specifier, options) => {
    if (importer === undefined) {
      const trampoline = new Module(module.filename, module);
      trampoline.filename = module.filename;
      trampoline.paths = module.paths;
      compile.call(
        trampoline,
        "module.exports = (specifier, options) => import(specifier, options);",
        module.filename,
        "commonjs",
      );
      importer = trampoline.exports;
    }
    return importer(specifier, options);
  };
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

module.exports = { installStartCache, startCacheFileOf, sha256, writeAtomically };

// As a preload (`--require`) with SCOPED_EDGE_CODE_CACHE_DIR: one file per main script.
if (process.env.SCOPED_EDGE_CODE_CACHE_DIR && require.main === undefined) {
  const script = sha256(process.argv[1] ?? "").slice(0, 16);
  const directory = path.resolve(process.env.SCOPED_EDGE_CODE_CACHE_DIR);
  fs.mkdirSync(directory, { recursive: true });
  installStartCache(startCacheFileOf(directory, `${script}-`));
}
