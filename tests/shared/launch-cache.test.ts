/**
 * The tools' start cache (tools/shared/launch-cache.cjs) as a preload: a second process, started
 * from the cache the first one wrote, must behave as the first. Node 20 drops the dynamic-import
 * callback of a script compiled from another process's cached data, so a module that calls import()
 * must never be compiled from the cache.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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

  it("leaves import() working in the process that starts from the cache", async () => {
    const script = join(scratch, "imports.cjs");
    writeFileSync(
      script,
      'const { join } = require("node:path");\n' +
        'import("node:path").then((m) => console.log(m.join === join ? "imported" : "other"));\n',
    );
    const cacheDir = join(scratch, "imports-cache");
    for (const run of ["first", "second"]) {
      expect({ run, ...(await runCached(script, cacheDir)) }).toEqual({
        run,
        stdout: "imported\n",
        stderr: "",
      });
    }
  });
});
