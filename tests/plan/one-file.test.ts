/**
 * The newcomer's path with one file edited: on a copy of each committed stack, replace the
 * placeholder ids with real-looking ones and add a second zone in Pulumi.<stack>.yaml alone; the
 * plan (with the repository's own policy configs, untouched) is clean and asks only for secrets.
 * And a stack started with `npm run new-stack` plans with placeholder to-dos, then clean once its
 * ids are filled in.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";

import { PLACEHOLDER_ID } from "../../tools/plan/placeholders";
import { main as newStack, NEW_STACK_ACCOUNT_ID, NEW_STACK_ZONE_ID } from "../../tools/new-stack/main";
import { jsonOutput, NOW, REPO, runCli, TYPES } from "./helpers";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freshRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), "scoped-edge-one-file-"));
  dirs.push(dir);
  copyFileSync(join(REPO, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  return dir;
}

/** A real-looking id (32 lowercase hex, not a placeholder) standing for `placeholder` in `stack`. */
const realId = (stack: string, placeholder: string) =>
  createHash("sha256").update(`${stack}/${placeholder}`).digest("hex").slice(0, 32);

/** What a user does in Pulumi.<stack>.yaml: own ids everywhere, plus one more zone with a route. */
function ownIdsAndSecondZone(text: string, stack: string): string {
  const document = parseDocument(text);
  const zones = document.getIn(["config", "scoped-edge:zones"]) as { items: unknown[] } | undefined;
  expect(zones, "the stack file has scoped-edge:zones").toBeDefined();
  document.addIn(["config", "scoped-edge:zones"], {
    name: `second-${stack}.example.org`,
    id: realId(stack, "second-zone"),
    routes: [`api.second-${stack}.example.org/*`],
  });
  return document.toString().replace(/\b0{28}[0-9a-f]{4}\b/g, (id) => realId(stack, id));
}

describe("one file to edit", () => {
  it.each(["dev", "staging", "prod"])(
    "%s: own ids and a second zone in the stack file alone plan clean",
    async (stack) => {
      const root = freshRoot();
      const edited = ownIdsAndSecondZone(readFileSync(join(REPO, `Pulumi.${stack}.yaml`), "utf8"), stack);
      expect(edited).not.toMatch(PLACEHOLDER_ID);
      writeFileSync(join(root, `Pulumi.${stack}.yaml`), edited);

      const run = await runCli(["--stack", stack, "--root", root, "--json", "--now", NOW]);
      const document = jsonOutput(run);
      expect(document.violations.filter((violation) => violation.level === "mandatory")).toEqual([]);
      expect(run.code).toBe(0);
      // Only the three secrets are left to set; no placeholder id.
      expect(document.missing.map((item) => item.kind)).toEqual(["secret", "secret", "secret"]);
      // The second zone is really in the plan: its route exists.
      const routes = document.resources.filter((resource) => resource.type === TYPES.route);
      expect(routes.map((route) => route.inputs["zoneId"])).toContain(realId(stack, "second-zone"));
    },
    60_000,
  );
});

describe("npm run new-stack", () => {
  const capture = () => {
    const io = { out: "", err: "" };
    return {
      io,
      sink: { stdout: (text: string) => (io.out += text), stderr: (text: string) => (io.err += text) },
    };
  };

  it("writes a stack that plans with only to-dos, then clean once its ids are filled in", async () => {
    const root = freshRoot();
    const { io, sink } = capture();
    expect(newStack(["--name", "qa", "--environment", "staging", "--root", root], sink)).toBe(0);
    expect(io.err).toBe("");
    expect(io.out).toContain(`Wrote ${join(root, "Pulumi.qa.yaml")}.`);
    expect(io.out).toContain("npm run plan -- --stack qa");
    expect(io.out).toContain("pulumi config set --secret cloudflare:apiToken --stack qa");

    const first = jsonOutput(await runCli(["--stack", "qa", "--root", root, "--json", "--now", NOW]));
    expect(first.result.exitCode).toBe(0);
    expect(first.policyConfigFile).toMatch(/policies\/config\/staging\.json$/);
    expect(first.missing.map((item) => `${item.kind} ${item.key}`)).toEqual([
      "secret scoped-edge:providerKey",
      "secret cloudflare:apiToken",
      "secret github:token",
      "placeholder-id scoped-edge:accountId",
      "placeholder-id scoped-edge:zones[0].id",
    ]);

    const file = join(root, "Pulumi.qa.yaml");
    writeFileSync(
      file,
      readFileSync(file, "utf8")
        .replace(NEW_STACK_ACCOUNT_ID, realId("qa", "account"))
        .replace(NEW_STACK_ZONE_ID, realId("qa", "zone")),
    );
    const filled = await runCli(["--stack", "qa", "--root", root, "--json", "--now", NOW]);
    expect(filled.code).toBe(0);
    expect(jsonOutput(filled).missing.map((item) => item.kind)).toEqual(["secret", "secret", "secret"]);
  }, 60_000);

  it("gives each environment its committed lifetimes, and refuses bad input without writing", () => {
    const root = freshRoot();
    const { sink } = capture();
    expect(newStack(["--name", "eu", "--environment", "prod", "--root", root], sink)).toBe(0);
    const text = readFileSync(join(root, "Pulumi.eu.yaml"), "utf8");
    const prod = readFileSync(join(REPO, "Pulumi.prod.yaml"), "utf8");
    for (const key of ["tokenTtlDays", "rotationDays", "rotationGraceDays"]) {
      const line = new RegExp(`^ {2}scoped-edge:${key}: .*$`, "m");
      expect(line.exec(text)?.[0]).toBe(line.exec(prod)?.[0]);
    }

    for (const [argv, message] of [
      [["--name", "eu", "--environment", "prod"], "already exists"],
      [["--name", "../x", "--environment", "dev"], '--name: "../x" is not a stack name'],
      [["--name", "x", "--environment", "qa"], '--environment: "qa" is not an environment'],
      [["--name", "x"], "--environment: is required"],
      [
        ["--name", "x", "--environment", "dev", "--repository", "nope"],
        '--repository: "nope" is not owner/repo',
      ],
      [["--bogus"], "Unknown option '--bogus'"],
    ] as const) {
      const { io, sink: errors } = capture();
      expect(newStack([...argv, "--root", root], errors)).toBe(2);
      expect(io.out).toBe("");
      expect(io.err).toContain(message);
    }
    expect(readFileSync(join(root, "Pulumi.eu.yaml"), "utf8")).toBe(text);
  });
});
