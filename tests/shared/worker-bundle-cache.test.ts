/**
 * bundleWorker reuses its last build of an entry while nothing esbuild read has changed. These
 * cases change one thing each and expect exactly what a fresh build gives.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { bundleWorker } from "../../lib/worker-bundle";

describe("bundleWorker's reuse of a build", () => {
  let dir: string;
  let entry: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "worker-bundle-cache-"));
    entry = path.join(dir, "entry.ts");
    writeFileSync(
      entry,
      'import { greeting } from "./greeting";\nexport default { fetch: () => new Response(greeting) };\n',
    );
    writeFileSync(path.join(dir, "greeting.ts"), 'export const greeting = "first";\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("gives the same bundle while the sources are unchanged", async () => {
    const first = await bundleWorker(entry);
    const second = await bundleWorker(entry);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
  });

  it("rebuilds when an imported file's content changes", async () => {
    expect((await bundleWorker(entry)).content).toContain("first");
    writeFileSync(path.join(dir, "greeting.ts"), 'export const greeting = "second";\n');
    const changed = await bundleWorker(entry);
    expect(changed.content).toContain("second");
    expect(changed.content).not.toContain("first");
  });

  it("rebuilds when a new file shadows an import (lib.ts before lib/index.ts)", async () => {
    rmSync(path.join(dir, "greeting.ts"));
    writeFileSync(
      entry,
      'import { greeting } from "./lib";\nexport default { fetch: () => new Response(greeting) };\n',
    );
    const nested = path.join(dir, "lib");
    mkdirSync(nested);
    writeFileSync(path.join(nested, "index.ts"), 'export const greeting = "from the directory";\n');
    expect((await bundleWorker(entry)).content).toContain("from the directory");
    writeFileSync(path.join(dir, "lib.ts"), 'export const greeting = "from the file";\n');
    expect((await bundleWorker(entry)).content).toContain("from the file");
  });

  it("rebuilds when a tsconfig.json next to the sources appears", async () => {
    writeFileSync(
      entry,
      "class A { x?: number }\nexport default { fetch: () => new Response(String(new A())) };\n",
    );
    const without = await bundleWorker(entry);
    writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { useDefineForClassFields: false } }),
    );
    const withConfig = await bundleWorker(entry);
    expect(withConfig.content).not.toBe(without.content);
  });
});
