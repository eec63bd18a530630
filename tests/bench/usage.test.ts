/**
 * npm run bench's options (tools/bench/plan.ts): a bad one is a usage error (exit 2, its message
 * alone) before anything is measured, and what was typed is quoted with control characters shown.
 */
import { describe, expect, it } from "vitest";

import { spawnScript } from "../helpers/spawn-script";

/** As `npm run bench` runs it: through the tools' launcher. */
const bench = (args: readonly string[]) => spawnScript("tools/bench/plan.ts", args);

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
