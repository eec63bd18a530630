/**
 * bundleWorker reuses its last build of an entry while nothing esbuild read has changed. These
 * cases change one thing each and expect exactly what a fresh build gives.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { bundleCacheFile, bundleWorker, forgetBuildsInProcess, sha256Hex } from "../../lib/worker-bundle";

// Each test gets a scratch directory holding entry.ts; the build kept on disk for it goes with it.
let dir: string;
let entry: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "worker-bundle-cache-"));
  entry = path.join(dir, "entry.ts");
});
afterEach(() => {
  rmSync(bundleCacheFile(entry), { force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe("bundleWorker's reuse of a build", () => {
  beforeEach(() => {
    writeFileSync(
      entry,
      'import { greeting } from "./greeting";\nexport default { fetch: () => new Response(greeting) };\n',
    );
    writeFileSync(path.join(dir, "greeting.ts"), 'export const greeting = "first";\n');
  });

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

  it("rebuilds on an edit of the same size once its sources are older than the stamp's racy window", async () => {
    expect((await bundleWorker(entry)).content).toContain("first");
    // Past the window, the next call keeps a stamp of the sources' metadata and trusts it after.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await bundleWorker(entry)).content).toContain("first");
    expect((await bundleWorker(entry)).content).toContain("first");
    writeFileSync(path.join(dir, "greeting.ts"), 'export const greeting = "fir5t";\n');
    const changed = await bundleWorker(entry);
    expect(changed.content).toContain("fir5t");
    expect(changed.content).not.toContain('"first"');
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

describe("bundleWorker's build kept on disk for the next process", () => {
  beforeEach(() => {
    writeFileSync(entry, 'export default { fetch: () => new Response("on disk") };\n');
  });

  it("is read back by a process that has not built it, while its sources are unchanged", async () => {
    const built = await bundleWorker(entry);
    forgetBuildsInProcess();
    // A whole stored build is used as it is: mark it to see that it was.
    const file = bundleCacheFile(entry);
    const stored = JSON.parse(readFileSync(file, "utf8")) as { bundle: { content: string; sha256: string } };
    stored.bundle.content = `${stored.bundle.content}// read from disk\n`;
    stored.bundle.sha256 = sha256Hex(stored.bundle.content);
    writeFileSync(file, JSON.stringify(stored));
    expect((await bundleWorker(entry)).content).toBe(`${built.content}// read from disk\n`);
  });

  it("is built again when a source changed, or the stored bundle is not whole", async () => {
    const built = await bundleWorker(entry);
    const file = bundleCacheFile(entry);
    const stored = JSON.parse(readFileSync(file, "utf8")) as { bundle: { content: string } };
    stored.bundle.content = "tampered";
    writeFileSync(file, JSON.stringify(stored));
    forgetBuildsInProcess();
    expect(await bundleWorker(entry)).toEqual(built);
    writeFileSync(entry, 'export default { fetch: () => new Response("changed") };\n');
    forgetBuildsInProcess();
    expect((await bundleWorker(entry)).content).toContain("changed");
    writeFileSync(file, "{ not json");
    forgetBuildsInProcess();
    expect((await bundleWorker(entry)).content).toContain("changed");
  });
});
