/**
 * The tools' start cache (tools/shared/launch-cache.cjs) as a preload: a second process, started
 * from the cache the first one wrote, must behave as the first. Node 20 drops the dynamic-import
 * callback of a script compiled from another process's cached data, so the cache calls each
 * import() of a module through an import() of its own, compiled from source for the module's file.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

import { afterAll, describe, expect, it } from "vitest";

const PRELOAD = join(__dirname, "..", "..", "tools", "shared", "launch-cache.cjs");
const scratch = mkdtempSync(join(tmpdir(), "launch-cache-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `node <script>` with the start cache preloaded from `cacheDir`; its stdout and stderr. */
async function runCached(script: string, cacheDir: string) {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [script], {
    env: {
      PATH: process.env["PATH"] ?? "",
      NODE_OPTIONS: `--require=${PRELOAD}`,
      SCOPED_EDGE_CODE_CACHE_DIR: cacheDir,
    },
  });
  return { stdout, stderr };
}

describe("the start cache as a preload", () => {
  it("is written by the first process and read by the next, which prints the same", async () => {
    const script = join(scratch, "plain.cjs");
    writeFileSync(script, 'console.log(require("node:path").join("a", "b"));\n');
    const cacheDir = join(scratch, "plain-cache");
    expect(await runCached(script, cacheDir)).toEqual({ stdout: "a/b\n", stderr: "" });
    expect(readdirSync(cacheDir)).toHaveLength(1);
    expect(await runCached(script, cacheDir)).toEqual({ stdout: "a/b\n", stderr: "" });
  });

  it("caches a module that calls import(), which still resolves from the module's own directory", async () => {
    // The module sits in a directory of its own with its dependency; `import(` in its string,
    // regular expression and comment is text, and stays text.
    const lib = join(scratch, "lib");
    mkdirSync(lib);
    writeFileSync(join(lib, "dep.mjs"), 'export const value = "dep";\n');
    writeFileSync(
      join(lib, "imports.cjs"),
      "const text = \"import('./not-code')\";\n" +
        "const pattern = /import\\s*\\(/;\n" +
        '// import("./comment")\n' +
        "module.exports = () =>\n" +
        '  import("./dep.mjs").then((dep) => `${dep.value} ${text} ${pattern.test(text)}`);\n',
    );
    const script = join(scratch, "imports.cjs");
    writeFileSync(script, 'require("./lib/imports.cjs")().then((line) => console.log(line));\n');
    const cacheDir = join(scratch, "imports-cache");
    for (const run of ["first", "second"]) {
      expect({ run, ...(await runCached(script, cacheDir)) }).toEqual({
        run,
        stdout: "dep import('./not-code') true\n",
        stderr: "",
      });
    }
    // The second run compiled the module from the cache: its entry holds cached data and the one
    // import() site (the `import` of line 5), and that run left the file as it was.
    const [file] = readdirSync(cacheDir);
    const contents = readFileSync(join(cacheDir, file!));
    const headerStart = contents.indexOf(10) + 1;
    const header = JSON.parse(
      contents.subarray(headerStart, contents.indexOf(10, headerStart)).toString(),
    ) as {
      entries: [string, string, number, number, number[]][];
    };
    const source = readFileSync(join(lib, "imports.cjs"), "utf8");
    const entry = header.entries.find(([module]) => module === join(lib, "imports.cjs"));
    expect(entry?.[3]).toBeGreaterThan(0);
    expect(entry?.[4]).toEqual([source.indexOf('import("./dep.mjs")')]);
    expect((await runCached(script, cacheDir)).stdout).toBe("dep import('./not-code') true\n");
    expect(readFileSync(join(cacheDir, file!)).equals(contents)).toBe(true);
  });
});
