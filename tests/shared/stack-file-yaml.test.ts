/**
 * The stack file's fast YAML path (js-yaml on plain block YAML, tools/shared/stack-file.ts) must
 * read every document exactly as `yaml` does: the same value, or an error where `yaml` has one.
 * Compared on the repository's own files and on thousands of mutations of them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parse, stringify } from "yaml";

import { parseYaml, readStackConfigMap } from "../../tools/shared/stack-file";

const ROOT = join(__dirname, "..", "..");

const SEEDS = [
  ...["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"].map((file) =>
    readFileSync(join(ROOT, file), "utf8"),
  ),
  stringify({
    config: {
      "scoped-edge:zones": [
        { name: "z0.example.com", id: "7000000000000000000000000d0000000", routes: ["api.z0.example.com/*"] },
      ],
      "scoped-edge:providerKey": { secure: "v1:YmVuY2g=" },
      "scoped-edge:workerVars": { A: "1.50", B: "true", C: "" },
    },
  }),
  "a: [1, 2.5, -.5, 0x1F, 0o7, .inf, ~, null, true, False, '', \"\"]\nb: {1: a, true: b, 1.50: c}\n",
  "a: |\n  x\n\nb: >-\n  p\n  q\nc: 'it''s'\nd: \"\\x41\\u00e9\\/\"\ne: x\n  y\n",
];

/** Characters and fragments that change YAML's structure. */
const FRAGMENTS = [
  ...[" ", "  ", "\t", "\n", "\n  ", "\n- ", "\r", "\r\n", "\u2028", "\u0085", "\u000b", "\u000c", "\u0000"],
  ...[":", ": ", "-", "#", "\t#", "'", '"', "\\", "|", ">", "@", "`", ",", "%", "*", "&", "!", "?"],
  ...[
    "[",
    "]",
    "{",
    "}",
    ". ",
    "0",
    "~",
    "---",
    "...",
    "<<",
    "null",
    "\u00a0",
    "\ufeff",
    "0x",
    "0o",
    ".5",
    "e3",
  ],
];

type Outcome = { value: unknown } | { error: true };

function outcome(read: (text: string) => unknown, text: string): Outcome {
  try {
    return { value: read(text) };
  } catch {
    return { error: true };
  }
}

const quietParse = (text: string) => parse(text, { logLevel: "error" });

describe("the stack file's YAML reading", () => {
  // yaml warns (process.emitWarning) about odd but valid input, e.g. an unresolved tag; not here.
  beforeAll(() => vi.spyOn(process, "emitWarning").mockImplementation(() => undefined));
  afterAll(() => vi.restoreAllMocks());

  it("reads the repository's files as yaml does", () => {
    for (const seed of SEEDS) expect(parseYaml(seed)).toEqual(parse(seed));
  });

  it.each([
    ["a carriage return alone as a line break", "\r\rname: x\n"],
    ["a null key", "config:\n  ~: 1\n"],
    ["a key over 1,024 characters", `${"k".repeat(1100)}: 1\n`],
    ["a document marker without a space", "---# comment\nconfig: {}\n"],
    ["flow content indented less than its key", "config:\n  a: [1,\n2]\n"],
    ["a collection as a key", "config:\n  [a, b]: 1\n  {c: d}: 2\n"],
    ["a quoted scalar's later line indented less than its key", "a:\n  b: x\nc: 'it''s-\n  p\n'\nd: 1\n"],
    [
      "a sequence item less indented than the empty item before it",
      "config:\n  zones:\n    - name: example.net\n      routes:\n        -\n-  api.example.net/*\n  workerName: edge\n",
    ],
    ["scalars js-yaml's own core schema reads otherwise", "a: 0b101\nb: -0x1F\nc: -.5\nd: 1_000\n"],
    ["a comment right after a quoted scalar", "config:\n  a: \"\"#\n  b: 'x'# c\n"],
  ])("reads what js-yaml alone would read differently as yaml does: %s", (_name, text) => {
    expect(outcome(parseYaml, text)).toEqual(outcome(quietParse, text));
  });

  it("reads every mutation of them as yaml does (same value, or an error where yaml errs)", () => {
    const mutation = fc.record({
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      kind: fc.constantFrom("insert", "delete", "copy"),
      fragment: fc.constantFrom(...FRAGMENTS),
      length: fc.integer({ min: 1, max: 6 }),
      from: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.constantFrom(...SEEDS),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (seed, edits) => {
          let text = seed;
          for (const { at, kind, fragment, length, from } of edits) {
            const index = Math.floor(at * text.length);
            const source = Math.floor(from * text.length);
            text =
              kind === "insert"
                ? text.slice(0, index) + fragment + text.slice(index)
                : kind === "delete"
                  ? text.slice(0, index) + text.slice(index + length)
                  : text.slice(0, index) + text.slice(source, source + length) + text.slice(index);
          }
          const expected = outcome(quietParse, text);
          const actual = outcome(parseYaml, text);
          if ("error" in expected) expect(actual).toEqual({ error: true });
          else expect(actual).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("reads a file again when its text changes (documents are kept by text)", () => {
    const root = mkdtempSync(join(tmpdir(), "stack-file-yaml-"));
    try {
      writeFileSync(join(root, "Pulumi.yaml"), "name: scoped-edge\n");
      writeFileSync(join(root, "Pulumi.qa.yaml"), "config:\n  scoped-edge:workerName: first\n");
      expect(readStackConfigMap(root, "qa").config["scoped-edge:workerName"]).toBe("first");
      expect(readStackConfigMap(root, "qa").config["scoped-edge:workerName"]).toBe("first");
      writeFileSync(join(root, "Pulumi.qa.yaml"), "config:\n  scoped-edge:workerName: second\n");
      expect(readStackConfigMap(root, "qa").config["scoped-edge:workerName"]).toBe("second");
      writeFileSync(join(root, "Pulumi.qa.yaml"), "config: [unclosed\n");
      expect(() => readStackConfigMap(root, "qa")).toThrow("is not valid YAML");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
