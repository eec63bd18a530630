/** The rotation-due command, in process, on the committed stack files. */
import { describe, expect, it } from "vitest";

import { DEFAULT_LOOKBACK_HOURS, main, USAGE } from "../../tools/rotation-due/cli";
import { ROOT } from "../helpers/program";

function run(argv: string[], env: Record<string, string | undefined> = {}) {
  let stdout = "";
  let stderr = "";
  const code = main(argv, {
    env,
    root: ROOT,
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

describe("rotation-due", () => {
  it("prints the decision as JSON for the workflow", () => {
    const result = run(["--stack", "prod", "--now", "2026-11-26T05:17:00Z", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      stack: "prod",
      due: true,
      reason: "the rotation window rolled over at 2026-11-26T00:00:00Z, within the last 72 h",
      hasDeployToken: true,
      windowStart: "2026-11-26T00:00:00Z",
      nextRotation: "2026-12-03T00:00:00Z",
      expiresOn: "2026-12-10T00:00:00Z",
      committedGeneration: 0,
      generation: 0,
    });
  });

  it("prints a short text decision, with the bumped generation", () => {
    const result = run(["--stack", "dev", "--bump-generation"], { SCOPED_EDGE_NOW: "2026-11-23T05:17:00Z" });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        "dev: rotation due: emergency rotation: rotationGeneration 0 -> 1 forces a new token",
        "  window: 2026-11-03T00:00:00Z to 2026-12-03T00:00:00Z; token expires 2026-12-18T00:00:00Z",
        "  rotationGeneration: 1 (committed: 0)",
        "",
      ].join("\n"),
    );
  });

  it("uses the lookback it documents, and a shorter one when asked", () => {
    expect(USAGE).toContain(`(default ${DEFAULT_LOOKBACK_HOURS})`);
    const late = ["--stack", "prod", "--now", "2026-11-27T05:00:00Z", "--json"];
    expect(JSON.parse(run(late).stdout).due).toBe(true);
    expect(JSON.parse(run([...late, "--lookback-hours", "24"]).stdout).due).toBe(false);
  });

  it.each([
    [[], "--stack <name> is required"],
    [["--stack", "dev", "--now", "yesterday"], "--now must be an ISO-8601 instant"],
    [["--stack", "dev", "--lookback-hours", "0"], "--lookback-hours must be a whole number of hours"],
    [["--stack", "dev", "--lookback-hours", "3.5"], "--lookback-hours must be a whole number of hours"],
    [["--stack", "dev", "--verbose"], "Unknown option '--verbose'"],
    [["--stack", "dev", "extra"], "Unexpected argument 'extra'"],
  ])("usage error %j exits 2 naming the problem", (argv, message) => {
    const result = run(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain(USAGE);
  });

  it("a missing stack file or a bad clock exits 2 with the fix", () => {
    const missing = run(["--stack", "qa"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^rotation-due: no stack file Pulumi\.qa\.yaml in .*; create one/);
    const clock = run(["--stack", "dev"], { SCOPED_EDGE_NOW: "soon" });
    expect(clock.code).toBe(2);
    expect(clock.stderr).toContain('SCOPED_EDGE_NOW="soon" is not an ISO-8601 instant');
  });
});
