/**
 * `npm run plan` runs tools/plan/cli.cjs: main.ts as a cached esbuild bundle under plain node. It
 * must print exactly what main.ts's main() prints, and rebuild when a source it was built from
 * changes.
 */
import { execFile } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

import { main } from "../../tools/plan/main";
import { DYNAMIC_PROVIDER_PLACEHOLDER } from "../../tools/plan/mask";

const REPO = join(__dirname, "..", "..");
const CACHE = join(REPO, "node_modules", ".cache", "scoped-edge-plan");
const MANIFEST = join(CACHE, "manifest.json");

async function bundled(args: readonly string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(REPO, "tools/plan/cli.cjs"), ...args],
      { cwd: REPO, maxBuffer: 64 * 1024 * 1024 },
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

describe("the bundled plan (tools/plan/cli.cjs)", () => {
  it("prints what main() prints, and rebuilds when a bundled source no longer matches its hash", async () => {
    // A dynamic resource's serialized provider follows the transpiler that loaded the program (tsx
    // here, esbuild in the bundle), so the plan prints a placeholder for it: the outputs are equal.
    const planBundled = await bundled(PLAN);
    expect(planBundled.stdout).toContain(`"__provider": "${DYNAMIC_PROVIDER_PLACEHOLDER}"`);
    expect(planBundled).toEqual(await inProcess(PLAN));

    const manifest = JSON.parse(readFileSync(MANIFEST, "utf8")) as { inputs: Record<string, string> };
    expect(Object.keys(manifest.inputs)).toEqual(
      expect.arrayContaining(["tools/plan/main.ts", "tools/plan/run.ts", "index.ts"]),
    );
    const builtAt = statSync(join(CACHE, "plan.cjs")).mtimeMs;
    manifest.inputs["tools/plan/main.ts"] = "0".repeat(64);
    writeFileSync(MANIFEST, JSON.stringify(manifest));

    expect(await bundled(BAD_INPUT)).toEqual(await inProcess(BAD_INPUT));
    expect(statSync(join(CACHE, "plan.cjs")).mtimeMs).toBeGreaterThan(builtAt);
    const rebuilt = JSON.parse(readFileSync(MANIFEST, "utf8")) as { inputs: Record<string, string> };
    expect(rebuilt.inputs["tools/plan/main.ts"]).toMatch(/^(?!0{64})[0-9a-f]{64}$/);
  }, 120_000);
});
