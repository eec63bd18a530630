/**
 * npm run bench's options (tools/bench/plan.ts): a bad one is a usage error (exit 2, its message
 * alone) before anything is measured, and what was typed is quoted with control characters shown.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { REPO } from "../plan/helpers";

/**
 * As `npm run bench` runs it: under tsx (not through tests/helpers/spawn-script.ts's launcher, whose
 * bundle would take plan-child.ts's entry-point check for its own).
 */
function bench(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        join(REPO, "node_modules", "tsx", "dist", "cli.mjs"),
        join(REPO, "tools", "bench", "plan.ts"),
        ...args,
      ],
      { cwd: REPO },
      (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
    );
  });
}

describe("npm run bench's usage errors", () => {
  it("refuses an unknown option, a timing option with --instructions and a bad size, quoting input safely", async () => {
    const [unknown, timing, size] = await Promise.all([
      bench(["--bogus"]),
      bench(["--instructions", "--warmup", "500"]),
      bench(["--sizes", "1,\u001b[31m"]),
    ]);
    expect(unknown).toEqual({
      code: 2,
      stdout: "",
      stderr: expect.stringMatching(/^bench: Unknown option '--bogus'/),
    });
    expect(timing).toEqual({
      code: 2,
      stdout: "",
      stderr: "bench: --warmup times runs; --instructions counts them: drop one of the two\n",
    });
    expect(size).toEqual({
      code: 2,
      stdout: "",
      stderr: 'bench: --sizes takes positive whole numbers (got "1,\\x1b[31m")\n',
    });
  });
});
