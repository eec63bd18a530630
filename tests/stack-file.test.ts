/** Reading stack config as the Pulumi CLI hands it to the program, without the CLI. */
import { mkdtempSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { currentTime } from "../lib/clock";
import {
  listStacks,
  readStackConfigMap,
  SECRET_PLACEHOLDER,
  StackFileError,
} from "../tools/shared/stack-file";

const ROOT = join(__dirname, "..");

function fixture(stackYaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "scoped-edge-stack-"));
  copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  writeFileSync(join(dir, "Pulumi.qa.yaml"), stackYaml);
  return dir;
}

describe("readStackConfigMap", () => {
  it("applies Pulumi.yaml defaults, full keys, scalars as strings and structures as JSON", () => {
    const map = readStackConfigMap(ROOT, "prod");
    expect(map.project).toBe("scoped-edge");
    expect(map.config["scoped-edge:tokenTtlDays"]).toBe("14");
    expect(map.config["scoped-edge:rotationGeneration"]).toBe("0");
    expect(map.config["scoped-edge:tokenOwner"]).toBe("account");
    expect(JSON.parse(map.config["scoped-edge:zones"]!)).toHaveLength(2);
    expect(map.config["scoped-edge:tokenAllowedIps"]).toBe("[]");
    expect(map.secretKeys.size).toBe(0);
  });

  it("never decrypts secure values: they stand in as the placeholder and are reported secret", () => {
    const dir = fixture(
      [
        "secretsprovider: passphrase",
        "encryptionsalt: v1:abc",
        "config:",
        "  scoped-edge:providerKey:",
        "    secure: v1:ciphertext-one",
        "  github:token:",
        "    secure: v1:ciphertext-two",
        "  scoped-edge:workerVars:",
        "    PLAIN: visible",
        "    HIDDEN:",
        "      secure: v1:ciphertext-three",
      ].join("\n"),
    );
    const map = readStackConfigMap(dir, "qa");
    expect(map.config["scoped-edge:providerKey"]).toBe(SECRET_PLACEHOLDER);
    expect(map.config["github:token"]).toBe(SECRET_PLACEHOLDER);
    expect(JSON.parse(map.config["scoped-edge:workerVars"]!)).toEqual({
      PLAIN: "visible",
      HIDDEN: SECRET_PLACEHOLDER,
    });
    expect([...map.secretKeys].sort()).toEqual([
      "github:token",
      "scoped-edge:providerKey",
      "scoped-edge:workerVars",
    ]);
    expect(JSON.stringify(map)).not.toContain("ciphertext");
  });

  it("names the missing stack file and how to create it", () => {
    expect(() => readStackConfigMap(ROOT, "nope")).toThrow(StackFileError);
    expect(() => readStackConfigMap(ROOT, "nope")).toThrow(
      `no stack file Pulumi.nope.yaml in ${ROOT}; create one (e.g. copy Pulumi.dev.yaml) or run pulumi stack init nope`,
    );
  });

  it("refuses stack names that are not file-safe", () => {
    expect(() => readStackConfigMap(ROOT, "../etc")).toThrow('stack name "../etc" may contain only letters');
  });

  it("reports invalid YAML with the file name", () => {
    const dir = fixture("config: [unclosed");
    expect(() => readStackConfigMap(dir, "qa")).toThrow(`${join(dir, "Pulumi.qa.yaml")} is not valid YAML`);
  });

  it("lists every Pulumi.<stack>.yaml as a stack", () => {
    expect(listStacks(ROOT)).toEqual(["dev", "prod", "staging"]);
  });
});

describe("currentTime", () => {
  it("uses SCOPED_EDGE_NOW when set, the real clock otherwise", () => {
    expect(currentTime({ SCOPED_EDGE_NOW: "2026-01-02T03:04:05Z" }).toISOString()).toBe(
      "2026-01-02T03:04:05.000Z",
    );
    const before = Date.now();
    const now = currentTime({}).getTime();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});
