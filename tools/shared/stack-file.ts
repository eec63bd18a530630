/**
 * Reads a stack's configuration from Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI
 * hands it to a program: full keys (`scoped-edge:accountId`), project defaults applied, scalars as
 * strings, structured values as JSON strings. `secure:` values are never decrypted: they stand in as
 * an opaque placeholder and their keys are reported as secret. Used by the offline plan and the
 * token verifier, which run without the Pulumi CLI.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FAILSAFE_SCHEMA, load, Type } from "js-yaml";
import { CST, isScalar, Lexer, parse, Schema, YAMLParseError, type ScalarTag } from "yaml";

import { looksSecret } from "../../lib/quote-value";
import { escapeControl } from "../../lib/text";
import { deepFreeze } from "./deep-freeze";
import { closestNames } from "../../policies/lib/permission-catalog";
import { secretWordsInName } from "../../policies/lib/secret-patterns";

/** What a `secure:` value becomes offline: never the ciphertext, never a real secret. */
export const SECRET_PLACEHOLDER = "[secret]";

export interface StackConfigMap {
  readonly project: string;
  readonly stack: string;
  readonly stackFile: string;
  readonly config: Record<string, string>;
  readonly secretKeys: Set<string>;
}

/** The top-level keys of a Pulumi stack file (the CLI's workspace.ProjectStack). */
export const STACK_FILE_KEYS: readonly string[] = [
  "config",
  "secretsprovider",
  "encryptionsalt",
  "encryptedkey",
  "environment",
];

export class StackFileError extends Error {
  override readonly name = "StackFileError";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function containsSecure(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(containsSecure);
  if (!isRecord(value)) return false;
  if (Object.keys(value).length === 1 && typeof value.secure === "string") return true;
  return Object.values(value).some(containsSecure);
}

/** Replaces every `{secure: ...}` leaf with the placeholder. */
function maskSecure(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecure);
  if (!isRecord(value)) return value;
  if (Object.keys(value).length === 1 && typeof value.secure === "string") return SECRET_PLACEHOLDER;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, maskSecure(inner)]));
}

/** The string the CLI would hand the program for this value. */
function encode(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

function fullKey(project: string, key: string): string {
  return key.includes(":") ? key : `${project}:${key}`;
}

/** The key of a `key: value` line, without quotes and indentation. */
function lineKey(line: string): string {
  return /^\s*-?\s*["']?([^"':#]+(?::[^"':#\s]+)?)["']?\s*:(\s|$)/.exec(line)?.[1] ?? "";
}

/**
 * Whether a YAML line may be quoted in an error: not a `secure:` ciphertext, not the line of a key
 * whose name marks a secret (providerKey, apiToken, github:token), nor the value line under one,
 * and no secret- or key-looking value.
 */
function quotable(lines: readonly string[], index: number): boolean {
  const line = lines[index];
  if (line === undefined || line.trim() === "") return false;
  if (/secure/i.test(line) || looksSecret(line)) return false;
  if (secretWordsInName(lineKey(line)).length > 0) return false;
  // A value on the line under its key (`providerKey:` then the value indented below).
  for (let previous = index - 1; previous >= 0; previous--) {
    const above = lines[previous]!;
    if (above.trim() === "") continue;
    const indent = (text: string) => text.length - text.trimStart().length;
    if (indent(above) < indent(line) && secretWordsInName(lineKey(above)).length > 0) return false;
    if (indent(above) < indent(line)) break;
  }
  return true;
}

/**
 * The parse error without the parser's source excerpt, which could print a secret's line: what is
 * wrong, where, and the offending line only when it is safe to show (control characters escaped).
 */
function describeYamlError(error: unknown, text: string): string {
  if (!(error instanceof YAMLParseError)) return "it could not be parsed";
  const what = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  const position = error.linePos?.[0];
  if (position === undefined) return what;
  const lines = text.split(/\r?\n/);
  const index = position.line - 1;
  const shown = quotable(lines, index)
    ? `: ${escapeControl(lines[index]!.trim())}`
    : lines[index] === undefined || lines[index]!.trim() === ""
      ? ""
      : " (line not shown: it may hold a secret)";
  return `${what} (line ${position.line}, column ${position.col})${shown}`;
}

/**
 * `yaml`'s own YAML 1.2 core schema scalars (null, bool, int, float) as js-yaml types: the same
 * tests in the same order and the same values, so a plain scalar resolves as `yaml` resolves it.
 * js-yaml keeps one implicit type per tag, so the tests of one tag (int: octal, decimal, hex) form
 * one type; core lists each tag's tests together, so the order across tags is kept.
 */
const CORE_SCALARS = (() => {
  const byTag = new Map<string, ScalarTag[]>();
  for (const tag of new Schema({ schema: "core" }).tags) {
    const scalar = tag as ScalarTag;
    if (!scalar.default || !(scalar.test instanceof RegExp) || scalar.tag === undefined) continue;
    byTag.set(scalar.tag, [...(byTag.get(scalar.tag) ?? []), scalar]);
  }
  const types = [...byTag].map(
    ([name, tags]) =>
      new Type(name, {
        kind: "scalar",
        resolve: (text: string) => tags.some((tag) => tag.test!.test(text)),
        construct: (text: string) => {
          const value = tags.find((tag) => tag.test!.test(text))!.resolve(text, () => undefined, {});
          return isScalar(value) ? value.value : value;
        },
      }),
  );
  return FAILSAFE_SCHEMA.extend({ implicit: types });
})();

/** Lexer tokens of plain block YAML, the only kind the fast path reads. */
const BLOCK_TOKENS: ReadonlySet<string> = new Set([
  "doc-mode",
  "scalar",
  "single-quoted-scalar",
  "double-quoted-scalar",
  "block-scalar-header",
  "map-value-ind",
  "seq-item-ind",
  "space",
  "newline",
  "comment",
]);
const EMPTY_FLOW: Readonly<Record<string, string>> = {
  "flow-map-start": "flow-map-end",
  "flow-seq-start": "flow-seq-end",
};

/**
 * Whether `text` is plain block YAML: block mappings and sequences of scalars, comments, and `{}` or
 * `[]` alone; no flow content, anchors, aliases, tags, explicit keys, directives, document markers,
 * merge keys, `__proto__`, a carriage return alone, or a line long enough for `yaml`'s 1024-character
 * key limit. On such text js-yaml with CORE_SCALARS and `yaml` agree: the same value, or both refuse
 * it (no difference in 360,000 random mutations of the repository's stack files;
 * tests/shared/stack-file-yaml.test.ts keeps the known differences and a sample of mutations).
 * `yaml`'s lexer, its cheap first stage, tells.
 */
function isPlainBlockYaml(text: string): boolean {
  if (/^.{1025}|^(?:---|\.\.\.)|<<|__proto__|\r(?!\n)/m.test(text)) return false;
  let closing: string | undefined;
  let scalarSource = false;
  let previous: string | null = null;
  for (const token of new Lexer().lex(text)) {
    if (scalarSource) {
      scalarSource = false; // a plain scalar's text follows its marker token
      continue;
    }
    const type = CST.tokenType(token);
    if (closing !== undefined) {
      if (type !== closing) return false;
      closing = undefined;
    } else if (type === "scalar") scalarSource = true;
    else if (type !== null && type in EMPTY_FLOW) closing = EMPTY_FLOW[type];
    else if (type === null || !BLOCK_TOKENS.has(type)) return false;
    // js-yaml is laxer than yaml about the indentation of a quoted scalar's later lines and of
    // what follows a `-` that ends its line: such text goes to yaml.
    else if (type.endsWith("quoted-scalar") && token.includes("\n")) return false;
    else if (type === "newline" && previous === "seq-item-ind") return false;
    // yaml refuses a comment not separated from the token before it (`"x"#`); js-yaml reads it.
    else if (type === "comment" && previous !== null && previous !== "space" && previous !== "newline")
      return false;
    previous = type;
  }
  return closing === undefined;
}

/** js-yaml names a null key "null"; `yaml` names it "". */
function hasNullKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasNullKey);
  if (!isRecord(value)) return false;
  return Object.entries(value).some(([key, inner]) => key === "null" || hasNullKey(inner));
}

/**
 * The document as `yaml` parses it. Plain block YAML (every stack file and Pulumi.yaml) is read by
 * js-yaml, several times faster (a 1,000-zone stack file is ~100 KB); anything else, anything js-yaml
 * rejects, and every error come from `yaml`, whose messages describeYamlError knows.
 */
export function parseYaml(text: string): unknown {
  if (isPlainBlockYaml(text)) {
    try {
      const value = load(text, { schema: CORE_SCALARS });
      if (!hasNullKey(value)) return value ?? null;
    } catch {
      // yaml below reports it
    }
  }
  return parse(text);
}

/**
 * Each file's last document, by its text: a process that plans more than once (the tests, the
 * benchmark) parses Pulumi.yaml and an unchanged stack file once. Frozen: the readers only read.
 */
const documents = new Map<string, { readonly text: string; readonly value: unknown }>();

function readYaml(path: string): unknown {
  const text = readFileSync(path, "utf8");
  const known = documents.get(path);
  if (known?.text === text) return known.value;
  let value: unknown;
  try {
    value = deepFreeze(parseYaml(text));
  } catch (error) {
    documents.delete(path);
    throw new StackFileError(`${path} is not valid YAML: ${describeYamlError(error, text)}`);
  }
  documents.set(path, { text, value });
  return value;
}

/** Stack names with a Pulumi.<name>.yaml in `root`. */
export function listStacks(root: string): string[] {
  return readdirSync(root)
    .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

export function readStackConfigMap(root: string, stack: string): StackConfigMap {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) {
    throw new StackFileError(`stack name "${stack}" may contain only letters, digits, '-', '_' and '.'`);
  }
  const projectFile = join(root, "Pulumi.yaml");
  const stackFile = join(root, `Pulumi.${stack}.yaml`);
  if (!existsSync(projectFile)) throw new StackFileError(`no Pulumi.yaml in ${root}`);
  if (!existsSync(stackFile)) {
    throw new StackFileError(
      `no stack file Pulumi.${stack}.yaml in ${root}; create one (e.g. copy Pulumi.dev.yaml) or run pulumi stack init ${stack}`,
    );
  }
  const projectDoc = readYaml(projectFile);
  if (!isRecord(projectDoc) || typeof projectDoc.name !== "string") {
    throw new StackFileError(`${projectFile} has no project name`);
  }
  const project = projectDoc.name;
  const config: Record<string, string> = {};
  const secretKeys = new Set<string>();

  // Project-level declarations: defaults, or plain values for other namespaces.
  const declared = isRecord(projectDoc.config) ? projectDoc.config : {};
  for (const [key, declaration] of Object.entries(declared)) {
    const name = fullKey(project, key);
    if (isRecord(declaration) && ("default" in declaration || "value" in declaration)) {
      config[name] = encode(declaration.default ?? declaration.value);
    } else if (!isRecord(declaration) && declaration !== undefined) {
      config[name] = encode(declaration);
    }
  }

  const stackDoc = readYaml(stackFile) ?? {};
  if (!isRecord(stackDoc)) throw new StackFileError(`${stackFile} must be a YAML mapping`);
  for (const key of Object.keys(stackDoc)) {
    if (!STACK_FILE_KEYS.includes(key)) {
      throw new StackFileError(
        `${stackFile}: ${JSON.stringify(escapeControl(key))} is not a stack file setting (did you mean ` +
          `${closestNames(key, STACK_FILE_KEYS, 1)[0]}?); a stack file holds ${STACK_FILE_KEYS.join(", ")}`,
      );
    }
  }
  const stackConfig = stackDoc.config ?? {};
  if (!isRecord(stackConfig)) throw new StackFileError(`${stackFile}: config must be a mapping`);
  for (const [key, value] of Object.entries(stackConfig)) {
    const name = fullKey(project, key);
    if (containsSecure(value)) secretKeys.add(name);
    config[name] = encode(maskSecure(value));
  }
  return { project, stack, stackFile, config, secretKeys };
}
