/**
 * The command end to end: a real tools/verify/main.ts process (through the tools' launcher) against
 * the fake API.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { spawnScript } from "../helpers/spawn-script";
import { startFakeCloudflare, type FakeCloudflare } from "./fake-cloudflare";
import {
  ACCOUNTS,
  repoStack,
  rightSizedGrants,
  runCli,
  stackDir,
  stackToken,
  TOKEN,
  ZONES,
} from "./fixtures";

const OTHER_TOKEN = "Kd2_p9Qw-Lm4nBv6cXz8aSd0fGh3jKl5QwErTy7U";

const spawnVerifier = (args: string[], env: Record<string, string>) =>
  spawnScript("tools/verify/main.ts", args, env);

describe("tools/verify/main.ts end to end", () => {
  let fake: FakeCloudflare;

  beforeAll(async () => {
    // Real clock here: the child process verifies against the current rotation window.
    const dev = repoStack("dev");
    const short = rightSizedGrants(dev).filter((grant) => grant.permission !== "Workers Scripts Write");
    fake = await startFakeCloudflare({
      tokens: [
        stackToken(dev, {}, new Date()),
        stackToken(dev, { value: OTHER_TOKEN, grants: short }, new Date()),
      ],
      zones: ZONES,
      accounts: ACCOUNTS,
    });
  });
  afterAll(() => fake.close());

  it("exits 0 with `N passed, 0 failed` for the right token and 1 for a short one; 2 for --token", async () => {
    const [good, bad, usage] = await Promise.all([
      spawnVerifier(["--stack", "dev", "--api-base-url", fake.url], { CLOUDFLARE_API_TOKEN: TOKEN }),
      spawnVerifier(["--stack", "dev", "--api-base-url", fake.url], { CLOUDFLARE_API_TOKEN: OTHER_TOKEN }),
      spawnVerifier(["--stack", "dev", "--token", TOKEN], { CLOUDFLARE_API_TOKEN: TOKEN }),
    ]);
    expect(good.stderr).toBe("");
    expect(good.stdout.trimEnd().split("\n").at(-1)).toBe("13 passed, 0 failed");
    expect(good.code).toBe(0);
    expect(bad.stdout.trimEnd().split("\n").at(-1)).toBe("12 passed, 1 failed");
    expect(bad.stdout).toContain("missing: Workers Scripts Write");
    expect(bad.code).toBe(1);
    expect(usage.stderr).toContain("--token is not accepted");
    expect(usage.stdout).toBe("");
    expect(usage.code).toBe(2);
    for (const run of [good, bad, usage]) {
      expect(run.stdout + run.stderr).not.toContain(TOKEN);
      expect(run.stdout + run.stderr).not.toContain(OTHER_TOKEN);
    }
  }, 30_000);
});

describe("usage and configuration errors exit 2 without checking anything", () => {
  it.each([
    ["no token", ["--stack", "dev"], {}, /CLOUDFLARE_API_TOKEN is not set/],
    [
      "a --token flag",
      ["--stack", "dev", "--token", TOKEN],
      { CLOUDFLARE_API_TOKEN: TOKEN },
      /--token is not accepted/,
    ],
    [
      "an unknown stack",
      ["--stack", "qa"],
      { CLOUDFLARE_API_TOKEN: TOKEN },
      /no stack file Pulumi\.qa\.yaml/,
    ],
    [
      "a bad timeout",
      ["--stack", "dev", "--timeout-ms", "-1"],
      { CLOUDFLARE_API_TOKEN: TOKEN },
      /missing its value|--timeout-ms/,
    ],
    [
      "the stack's own zone as foreign",
      ["--stack", "dev", "--foreign-zone", "0000000000000000000000000000d001"],
      { CLOUDFLARE_API_TOKEN: TOKEN },
      /is one of the stack's own zones/,
    ],
  ])("%s", async (_label, argv, env, message) => {
    const run = await runCli(argv, { env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain(TOKEN);
  });

  it("an invalid stack config", async () => {
    const root = stackDir({ broken: { "scoped-edge:environment": "qa", "scoped-edge:accountId": "nope" } });
    const run = await runCli(["--stack", "broken"], { root });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Invalid configuration for stack "broken"');
    expect(run.stderr).toContain("scoped-edge:accountId");
  });

  it("--help exits 0", async () => {
    const run = await runCli(["--help"], { env: {} });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("usage: npm run verify-token -- --stack <name>");
  });
});
