/**
 * `npm run plan` runs tools/plan/cli.cjs: main.ts through the tools' launcher (tools/shared/launch.cjs),
 * a cached esbuild bundle and a V8 code cache under plain node. It must print exactly what main.ts's
 * main() prints, rebuild when a source it was built from changes, and print the same whatever state
 * the code cache is in: missing, current, corrupt, stale or rejected by V8.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

import { main } from "../../tools/plan/main";
import { DYNAMIC_PROVIDER_PLACEHOLDER } from "../../tools/plan/mask";

const REPO = join(__dirname, "..", "..");
const requireHere = createRequire(__filename);
const { cacheDirOf } = requireHere("../../tools/shared/launch.cjs") as { cacheDirOf(entry: string): string };
const { startCacheFileOf } = requireHere("../../tools/shared/launch-cache.cjs") as {
  startCacheFileOf(cacheDir: string, prefix: string, execArgv: string[], nodeOptions: string): string;
};
const CACHE = cacheDirOf(join(REPO, "tools/plan/main.ts"));
/**
 * The plans here run with a flag of their own (10 is V8's default: nothing changes), so their start
 * cache file is theirs alone while other test files run the plan at the same time.
 */
const NODE_FLAGS = ["--stack-trace-limit=10"];
const { NODE_OPTIONS: _inherited, ...ENV } = process.env;
const START_CACHE = startCacheFileOf(CACHE, "", NODE_FLAGS, "");
const MANIFEST = join(CACHE, "manifest.json");

interface Manifest {
  readonly bundle: string;
  readonly inputs: Record<string, string>;
}
const manifest = () => JSON.parse(readFileSync(MANIFEST, "utf8")) as Manifest;
const bundleFile = () => join(CACHE, manifest().bundle, "main.cjs");

async function bundled(args: readonly string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [...NODE_FLAGS, join(REPO, "tools/plan/cli.cjs"), ...args],
      { cwd: REPO, env: ENV, maxBuffer: 64 * 1024 * 1024 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function inProcess(args: readonly string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

const PLAN = ["--stack", "dev", "--json", "--now", "2026-11-23T00:00:00Z"];
const BAD_INPUT = ["--stack", "no-such-stack", "--json"];

// ---- the start cache file (format: tools/shared/launch-cache.cjs, readStartCache) ---------------

type Entry = [module: string, source: string, offset: number, length: number];
interface StartCache {
  readonly file: string;
  readonly header: { installed: string; resolutions: Record<string, string>; entries: Entry[] };
  readonly data: Buffer;
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** The file's parts; `whole` when its first line is the sha256 of the rest. */
function readCache(file = START_CACHE): StartCache & { whole: boolean } {
  const contents = readFileSync(file);
  const checksumEnd = contents.indexOf(10);
  const headerEnd = contents.indexOf(10, checksumEnd + 1);
  return {
    file,
    whole: sha256(contents.subarray(checksumEnd + 1)) === contents.subarray(0, checksumEnd).toString(),
    header: JSON.parse(
      contents.subarray(checksumEnd + 1, headerEnd).toString("utf8"),
    ) as StartCache["header"],
    data: contents.subarray(headerEnd + 1),
  };
}

/** Writes a whole file (its checksum right) holding `header` and `data`. */
function writeCache({ file, header, data }: StartCache): void {
  const body = Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), data]);
  writeFileSync(file, Buffer.concat([Buffer.from(`${sha256(body)}\n`), body]));
}

/** Whether `cache` is whole and has an entry for the current bundle with its source's hash. */
function holdsCurrentBundle(cache: ReturnType<typeof readCache>): boolean {
  const bundle = bundleFile();
  const entry = cache.header.entries.find(([module]) => module === bundle);
  return cache.whole && entry?.[1] === sha256(readFileSync(bundle, "utf8"));
}

/** The key of the bundle's `require(request)` in the start cache's resolutions. */
const fromBundle = (request: string) => `${dirname(bundleFile())}\0${request}`;
const SDK_INDEX = join(REPO, "node_modules", "@pulumi", "pulumi", "index.js");

describe("the bundled plan (tools/plan/cli.cjs)", () => {
  it("prints what main() prints, and rebuilds when a bundled source no longer matches its hash", async () => {
    // A dynamic resource's serialized provider follows the transpiler that loaded the program (tsx
    // here, esbuild in the bundle), so the plan prints a placeholder for it: the outputs are equal.
    const planBundled = await bundled(PLAN);
    expect(planBundled.stdout).toContain(`"__provider": "${DYNAMIC_PROVIDER_PLACEHOLDER}"`);
    expect(planBundled).toEqual(await inProcess(PLAN));

    const stale = manifest();
    expect(Object.keys(stale.inputs)).toEqual(
      expect.arrayContaining([
        "tools/plan/main.ts",
        "tools/plan/run.ts",
        "index.ts",
        "tools/shared/launch.cjs",
      ]),
    );
    const builtAt = statSync(MANIFEST).mtimeMs;
    stale.inputs["tools/plan/main.ts"] = "0".repeat(64);
    writeFileSync(MANIFEST, JSON.stringify(stale));

    // Two plans rebuild at once: each prints the same, neither reads the other's half-written files.
    const expected = await inProcess(BAD_INPUT);
    expect(await Promise.all([bundled(BAD_INPUT), bundled(BAD_INPUT)])).toEqual([expected, expected]);
    expect(statSync(MANIFEST).mtimeMs).toBeGreaterThan(builtAt);
    expect(manifest().inputs["tools/plan/main.ts"]).toMatch(/^(?!0{64})[0-9a-f]{64}$/);
  }, 120_000);

  it("prints the same with a current, corrupt, stale or rejected start cache, and repairs it", async () => {
    const expectedPlan = await inProcess(PLAN);
    const expected = await inProcess(BAD_INPUT);
    // A run that compiled anything from source rewrites the cache at exit, with every module it
    // loaded; the next run uses it for all of them and leaves it alone.
    await bundled(BAD_INPUT);
    const warm = readCache();
    expect(holdsCurrentBundle(warm)).toBe(true);
    const warmBytes = readFileSync(warm.file);
    expect(await bundled(BAD_INPUT)).toEqual(expected);
    expect(readFileSync(warm.file).equals(warmBytes)).toBe(true);

    // Corrupt: flipped bytes in the cached data (V8 itself does not check them and would crash).
    const corrupt = Buffer.from(warmBytes);
    const dataStart = corrupt.indexOf(10, corrupt.indexOf(10) + 1) + 1;
    for (let index = dataStart + 4096; index < corrupt.length; index += 997) corrupt[index]! ^= 0x5a;
    writeFileSync(warm.file, corrupt);
    expect(await bundled(PLAN)).toEqual(expectedPlan);
    expect(holdsCurrentBundle(readCache(warm.file))).toBe(true);

    // Stale: the bundle's entry recorded for other source. It is compiled from source and rewritten.
    const stale = readCache(warm.file);
    const bundle = bundleFile();
    stale.header.entries.find(([module]) => module === bundle)![1] = "0".repeat(64);
    writeCache(stale);
    expect(await bundled(BAD_INPUT)).toEqual(expected);
    expect(holdsCurrentBundle(readCache(warm.file))).toBe(true);

    // Rejected: the bundle's entry holding @pulumi/pulumi's index.js's cached data, and the reverse;
    // V8 refuses both, they are compiled from source and rewritten.
    const swapped = readCache(warm.file);
    const bundleEntry = swapped.header.entries.find(([module]) => module === bundle)!;
    const sdkEntry = swapped.header.entries.find(([module]) => module === SDK_INDEX)!;
    [bundleEntry[2], bundleEntry[3], sdkEntry[2], sdkEntry[3]] = [
      sdkEntry[2],
      sdkEntry[3],
      bundleEntry[2],
      bundleEntry[3],
    ];
    const planted = swapped.data.subarray(bundleEntry[2], bundleEntry[2] + bundleEntry[3]);
    writeCache(swapped);
    expect(await bundled(BAD_INPUT)).toEqual(expected);
    const repaired = readCache(warm.file);
    const [, , offset, length] = repaired.header.entries.find(([module]) => module === bundle)!;
    expect(repaired.data.subarray(offset, offset + length).equals(planted)).toBe(false);
    expect(holdsCurrentBundle(repaired)).toBe(true);

    // Resolutions that must not be used: one to a file that no longer exists (resolved again), and
    // any made before npm changed node_modules (another hidden lockfile), even one to a file that exists.
    const sdkResolution = fromBundle("@pulumi/pulumi");
    expect(readCache(warm.file).header.resolutions[sdkResolution]).toBe(SDK_INDEX);
    const staleResolutions: ((cache: ReturnType<typeof readCache>) => void)[] = [
      (cache) => {
        cache.header.resolutions[sdkResolution] = join(REPO, "node_modules", "no-such-package", "index.js");
      },
      (cache) => {
        cache.header.installed = "another install";
        cache.header.resolutions[sdkResolution] = join(REPO, "node_modules", "yaml", "dist", "index.js");
      },
    ];
    for (const makeStale of staleResolutions) {
      const stale = readCache(warm.file);
      makeStale(stale);
      writeCache(stale);
      expect(await bundled(BAD_INPUT)).toEqual(expected);
      expect(readCache(warm.file).header.resolutions[sdkResolution]).toBe(SDK_INDEX);
    }
  }, 180_000);
});
