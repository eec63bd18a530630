/** The real entrypoint, once: `tsx scripts/plan.ts --stack dev --json` in a child process. */
import { spawn } from "node:child_process";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { REPO, type JsonPlan } from "./helpers";

function spawnPlan(args: readonly string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(join(REPO, "node_modules/.bin/tsx"), ["scripts/plan.ts", ...args], {
      cwd: REPO,
      // No credentials, no Pulumi: only what node needs.
      env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("scripts/plan.ts as a process", () => {
  it("exits 0 and prints exactly one JSON document on stdout, nothing on stderr", async () => {
    // The real clock: whatever the current rotation window, the committed dev stack plans clean.
    const run = await spawnPlan(["--stack", "dev", "--json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const document = JSON.parse(run.stdout) as JsonPlan;
    expect(run.stdout).toBe(`${JSON.stringify(document, null, 2)}\n`);
    expect(Object.keys(document)).toEqual(["stack", "resources", "violations", "missing"]);
    expect(document.stack).toBe("dev");
    expect(document.resources).toHaveLength(14);
    expect(document.violations.filter((violation) => violation.level === "mandatory")).toEqual([]);
  }, 30_000);
});
