/** Exit 3: an internal error is still one JSON document on stdout with --json, escaped and schema-valid. */
import { describe, expect, it } from "vitest";

import type * as Run from "../../tools/plan/run";
import { cliOverReplacedModule, jsonOutput } from "./helpers";

const cli = cliOverReplacedModule<typeof Run>("../../tools/plan/run", () => ({
  runPlan: () => Promise.reject(new Error("the engine broke\u001b[2J")),
}));

describe("exit 3", () => {
  it("--json prints {error: {key: internal, problem, fix}}; text goes to stderr only", async () => {
    const json = await cli.runCli(["--stack", "dev", "--json"]);
    expect(json.code).toBe(3);
    expect(jsonOutput<{ error: unknown }>(json)).toEqual({
      error: {
        key: "internal",
        problem: "internal error: the engine broke\\x1b[2J",
        fix: "rerun with SCOPED_EDGE_PLAN_DEBUG=1 for a stack trace and report it",
      },
    });
    const text = await cli.runCli(["--stack", "dev"]);
    expect(text.code).toBe(3);
    expect(text.stdout).toBe("");
    expect(text.stderr).toContain("plan: internal error: the engine broke\\x1b[2J\n");
    expect(text.stderr).not.toContain("\u001b");
  });
});
