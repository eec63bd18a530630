/**
 * The real entrypoint, once: `tools/plan/main.ts --stack dev --json` in a child process, through the
 * tools' launcher.
 */
import { describe, expect, it } from "vitest";

import { spawnScript } from "../helpers/spawn-script";
import { expectSchemaValid, type JsonPlan } from "./helpers";

const spawnPlan = (args: readonly string[]) => spawnScript("tools/plan/main.ts", args);

describe("tools/plan/main.ts as a process", () => {
  it("exits 0 and prints exactly one JSON document on stdout, nothing on stderr", async () => {
    // The real clock: whatever the current rotation window, the committed dev stack plans clean.
    const run = await spawnPlan(["--stack", "dev", "--json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const document = JSON.parse(run.stdout) as JsonPlan;
    expect(run.stdout).toBe(`${JSON.stringify(document, null, 2)}\n`);
    expectSchemaValid(document);
    expect(document.stack).toBe("dev");
    expect(document.result.exitCode).toBe(0);
    expect(document.violations.filter((violation) => violation.level === "mandatory")).toEqual([]);
  }, 30_000);

  it("exit 2 with --json still prints one JSON document on stdout, and the problem on stderr", async () => {
    const run = await spawnPlan(["--stack", "no-such-stack", "--json"]);
    expect(run.code).toBe(2);
    const document = JSON.parse(run.stdout) as { error: { key: string } };
    expectSchemaValid(document);
    expect(document.error.key).toBe("--stack");
    expect(run.stderr).toContain("plan: --stack: no stack file Pulumi.no-such-stack.yaml");
  }, 30_000);
});
