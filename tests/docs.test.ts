/**
 * Docs that cannot drift from the code: every config key, npm script, environment variable,
 * secret or variable name, workflow and file path that README.md, docs/*.md and policies/README.md
 * name exists in the repository; and every config key in Pulumi.yaml and every npm script is
 * documented in the README. Names are read from code spans (`...`), fenced blocks and links, the
 * way a reader meets them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";
import { parse } from "yaml";

import { PROJECT, PROVIDER_CONFIG_KEYS } from "../lib/config";

const REPO = join(__dirname, "..");
const read = (path: string) => readFileSync(join(REPO, path), "utf8");

const DOCS = [
  "README.md",
  ...readdirSync(join(REPO, "docs"))
    .filter((file) => file.endsWith(".md"))
    .map((file) => `docs/${file}`),
  "policies/README.md",
];

/** Everything that is code, not prose: where a documented name must occur. */
const CODE_ROOTS = [
  "index.ts",
  "tests",
  "components",
  "lib",
  "tools",
  "policies",
  "worker",
  ".github",
  "examples",
  "package.json",
  "Pulumi.yaml",
];
const SKIP = new Set(["node_modules", ".git", "scratch", "dist", ".wrangler"]);
const CODE_FILE = /\.(ts|mts|js|mjs|json|jsonc|ya?ml|toml)$/;

function walk(path: string, out: string[]): void {
  const full = join(REPO, path);
  if (!existsSync(full)) return;
  if (statSync(full).isDirectory()) {
    for (const entry of readdirSync(full)) if (!SKIP.has(entry)) walk(join(path, entry), out);
  } else if (CODE_FILE.test(path) || path === "package.json") {
    out.push(path);
  }
}
const codeFiles: string[] = [];
for (const root of CODE_ROOTS) walk(root, codeFiles);
const CODE = codeFiles
  .filter((file) => file !== "tests/docs.test.ts")
  .map(read)
  .join("\n");

/**
 * The clients that read environment variables the docs tell a user about (or warn against), as
 * installed: a name the project's code does not read passes only if the real reader reads it.
 */
const CLIENT_SOURCES = [
  "node_modules/cloudflare/client.js",
  "node_modules/@pulumi/cloudflare/config/vars.d.ts",
  "node_modules/@pulumi/github/config/vars.d.ts",
  "node_modules/wrangler/wrangler-dist/cli.js",
]
  .filter((file) => existsSync(join(REPO, file)))
  .map(read)
  .join("\n");

/** Files the user creates and git ignores on purpose (e.g. worker/.dev.vars for local secrets). */
const IGNORED = read(".gitignore")
  .split("\n")
  .map((line) => line.trim().replace(/^\//, ""))
  .filter((line) => line !== "" && !line.startsWith("#"));

const packageScripts = Object.keys(
  (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts,
);
const projectKeys = Object.keys(
  (parse(read("Pulumi.yaml")) as { config: Record<string, unknown> }).config,
).map((key) => (key.includes(":") ? key : `${PROJECT}:${key}`));

interface Mention {
  readonly doc: string;
  readonly line: number;
  readonly text: string;
}

/** Code spans outside fenced blocks, and whole lines inside fenced blocks (mermaid excepted). */
function mentions(doc: string): { spans: Mention[]; fenced: Mention[]; links: Mention[] } {
  const spans: Mention[] = [];
  const fenced: Mention[] = [];
  const links: Mention[] = [];
  let fence: string | undefined;
  read(doc)
    .split("\n")
    .forEach((text, index) => {
      const line = index + 1;
      const opening = /^\s*```(\w*)/.exec(text);
      if (opening) {
        fence = fence === undefined ? opening[1] || "text" : undefined;
        return;
      }
      if (fence !== undefined) {
        if (fence !== "mermaid") fenced.push({ doc, line, text });
        return;
      }
      for (const [, span] of text.matchAll(/`([^`]+)`/g)) spans.push({ doc, line, text: span! });
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) links.push({ doc, line, text: target! });
    });
  return { spans, fenced, links };
}

const ALL = DOCS.map(mentions);
const spans = ALL.flatMap((entry) => entry.spans);
const fenced = ALL.flatMap((entry) => entry.fenced);
const links = ALL.flatMap((entry) => entry.links);
const where = (mention: Mention) => `${mention.doc}:${mention.line}`;

/** Each mention failing `ok`, as "doc:line name", for one readable failure. */
function failures(found: { mention: Mention; name: string }[], ok: (name: string) => boolean): string[] {
  return found.filter(({ name }) => !ok(name)).map(({ mention, name }) => `${where(mention)} ${name}`);
}

describe("what the docs name exists", () => {
  it("found names to check in every document (the extraction works)", () => {
    for (const doc of DOCS)
      expect(
        spans.some((mention) => mention.doc === doc),
        doc,
      ).toBe(true);
    expect(packageScripts).toContain("plan");
  });

  it("config keys: scoped-edge:* in Pulumi.yaml, cloudflare:* and github:* among the keys the program accepts", () => {
    const found = [...spans, ...fenced].flatMap((mention) =>
      [...mention.text.matchAll(/\b(scoped-edge|cloudflare|github):([A-Za-z][A-Za-z0-9_]*)\b/g)]
        // `cloudflare:index/...` type tokens and `github:index/...` are not config keys.
        .filter((match) => !["/", ":"].includes(mention.text[match.index + match[0].length] ?? ""))
        .map((match) => ({ mention, name: match[0] })),
    );
    const known = new Set([
      ...projectKeys,
      ...Object.entries(PROVIDER_CONFIG_KEYS).flatMap(([namespace, keys]) =>
        keys.map((key) => `${namespace}:${key}`),
      ),
    ]);
    expect(failures(found, (name) => known.has(name))).toEqual([]);
  });

  it("npm scripts: every `npm run X` is a script in package.json", () => {
    const found = [...spans, ...fenced].flatMap((mention) =>
      [...mention.text.matchAll(/\bnpm run (?:-s )?([a-z][\w:-]*)/g)].map((match) => ({
        mention,
        name: match[1]!.replace(/:$/, ""),
      })),
    );
    expect(found.length).toBeGreaterThan(0);
    expect(failures(found, (name) => packageScripts.includes(name))).toEqual([]);
  });

  it("environment variables, secrets and variables: every UPPER_SNAKE name occurs in the code", () => {
    const found = spans.flatMap((mention) =>
      [...mention.text.matchAll(/(?<![\w.-])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?![\w-])/g)].map((match) => ({
        mention,
        name: match[1]!,
      })),
    );
    expect(found.length).toBeGreaterThan(0);
    const named = (name: string) => new RegExp(`\\b${name}\\b`);
    expect(failures(found, (name) => named(name).test(CODE) || named(name).test(CLIENT_SOURCES))).toEqual([]);
  });

  it("workflows and file paths named in code spans and links exist", () => {
    const pathLike = (text: string) =>
      /^(\.github\/|docs\/|lib\/|tools\/|tests\/|policies\/|components\/|worker\/|examples\/|[\w.-]+\.(ts|md|json|jsonc|ya?ml)$)/.test(
        text,
      ) && !/[<>*{}$ ]|\.\.\./.test(text);
    const found = [
      ...spans.map((mention) => ({ mention, name: mention.text.replace(/[#:].*$/, "").replace(/\/$/, "") })),
      ...links
        .filter((mention) => !/^(https?:|mailto:|#)/.test(mention.text))
        .map((mention) => ({
          mention,
          name: join(mention.doc, "..", mention.text.replace(/#.*$/, "")).replace(/\/$/, ""),
        })),
    ].filter(({ name }) => pathLike(name));
    expect(found.length).toBeGreaterThan(0);
    const exists = (name: string, doc: string) =>
      existsSync(join(REPO, name)) ||
      // Relative to the document (policies/README.md names lib/derive.ts for policies/lib/derive.ts).
      existsSync(join(REPO, doc, "..", name)) ||
      // A file named on its own may live anywhere in the repository's code or tests.
      (!name.includes("/") && codeFiles.some((file) => file.endsWith(`/${name}`))) ||
      // A file the code writes (wrangler.deploy.json) or another repository's file the code cites (openapi.json).
      CODE.includes(name.split("/").at(-1)!) ||
      IGNORED.some((pattern) => name.split("/").at(-1) === pattern);
    expect(
      found
        .filter(({ mention, name }) => !exists(name, mention.doc))
        .map(({ mention, name }) => `${where(mention)} ${name}`),
    ).toEqual([]);
  });
});

describe("config tables state Pulumi.yaml's defaults", () => {
  const declared = (parse(read("Pulumi.yaml")) as { config: Record<string, { default?: unknown }> }).config;

  /** Rows of every Markdown table whose header has a `key` and a `default` column. */
  function defaultRows(doc: string): { line: number; key: string; stated: string }[] {
    const rows: { line: number; key: string; stated: string }[] = [];
    let columns: string[] | undefined;
    read(doc)
      .split("\n")
      .forEach((text, index) => {
        if (!text.startsWith("|")) {
          columns = undefined;
          return;
        }
        const cells = text
          .slice(1, -1)
          .split("|")
          .map((cell) => cell.trim());
        if (columns === undefined) {
          columns = cells.map((cell) => cell.toLowerCase());
          return;
        }
        const keyAt = columns.indexOf("key");
        const defaultAt = columns.indexOf("default");
        if (keyAt < 0 || defaultAt < 0 || /^-+$/.test(cells[0] ?? "")) return;
        const stated = /^`([^`]*)`$/.exec(cells[defaultAt] ?? "")?.[1];
        const keys = [...(cells[keyAt] ?? "").matchAll(/`?([A-Za-z][A-Za-z0-9]*)`?/g)].map(
          (match) => match[1]!,
        );
        for (const key of keys) {
          if (stated !== undefined && key in declared) rows.push({ line: index + 1, key, stated });
        }
      });
    return rows;
  }

  it.each(DOCS)("%s", (doc) => {
    const wrong = defaultRows(doc)
      .filter(({ key, stated }) => {
        const value = declared[key]!.default;
        const expected = typeof value === "string" ? value : JSON.stringify(value);
        return stated !== expected && stated !== `"${expected}"`;
      })
      .map(
        ({ line, key, stated }) =>
          `${doc}:${line} ${key}: \`${stated}\` but Pulumi.yaml says ${JSON.stringify(declared[key]!.default)}`,
      );
    expect(wrong).toEqual([]);
  });
});

describe("what the code has is documented in the README", () => {
  const readme = read("README.md");

  it("every config key in Pulumi.yaml", () => {
    const undocumented = projectKeys.filter((key) => {
      const bare = key.slice(PROJECT.length + 1);
      return !readme.includes(`\`${key}\``) && !new RegExp(`\`${bare}\``).test(readme);
    });
    expect(undocumented).toEqual([]);
  });

  it("every npm script", () => {
    const undocumented = packageScripts.filter(
      (script) =>
        !readme.includes(`npm run ${script}`) &&
        !(["test", "start"].includes(script) && readme.includes(`npm ${script}`)),
    );
    expect(undocumented).toEqual([]);
  });
});
