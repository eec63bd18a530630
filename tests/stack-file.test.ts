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

  it.each([
    [
      "a secure: ciphertext on the failing line",
      "config:\n  scoped-edge:providerKey:\n    secure: v1:c2VjcmV0LWNpcGhlcnRleHQ=\n   scoped-edge:workerName: x\n",
      "All mapping items must start at the same column (line 4, column 1) (line not shown: it may hold a secret)",
    ],
    [
      "a pasted plain-text key on the failing line",
      "config:\n  scoped-edge:workerName: edge\n   scoped-edge:providerKey: gsk_0123456789abcdefABCDEF\n",
      "Nested mappings are not allowed in compact mappings (line 2, column 27): scoped-edge:workerName: edge",
    ],
    [
      "a value under a secret key",
      "config:\n  cloudflare:apiToken:\n    0123456789abcdef0123\n    def: x\n",
      "Implicit keys need to be on a single line (line 3, column 5) (line not shown: it may hold a secret)",
    ],
    [
      "a duplicate key, shown with its control characters escaped",
      "config:\n  scoped-edge:workerName: a\n  scoped-edge:workerName: b\u001b[8m\n",
      "Map keys must be unique (line 3, column 3): scoped-edge:workerName: b\\x1b[8m",
    ],
  ])("reports invalid YAML without quoting secrets: %s", (_name, yaml, expected) => {
    const dir = fixture(yaml);
    let message = "";
    try {
      readStackConfigMap(dir, "qa");
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(`${join(dir, "Pulumi.qa.yaml")} is not valid YAML: `);
    expect(message).toContain(expected);
    for (const secret of ["c2VjcmV0", "gsk_", "0123456789abcdef0123", "secure", "\u001b"]) {
      expect(message).not.toContain(secret);
    }
    expect(message.split("\n")).toHaveLength(1);
  });

  it("refuses a misspelt top-level key, which would drop the whole config", () => {
    const dir = fixture("confg:\n  scoped-edge:environment: dev\n");
    expect(() => readStackConfigMap(dir, "qa")).toThrow(
      `${join(dir, "Pulumi.qa.yaml")}: "confg" is not a stack file setting (did you mean config?); a stack file holds config, secretsprovider, encryptionsalt, encryptedkey, environment`,
    );
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
