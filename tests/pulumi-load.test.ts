/**
 * `pulumi up` loads index.ts through the project's own typescript and ts-node with the options
 * @pulumi/pulumi's cmd/run computes. If the tsconfig (or an import) is one that loader cannot handle,
 * this fails here rather than on a user's first `pulumi up`.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

import { expect, it } from "vitest";

const ROOT = join(__dirname, "..");

it("loads index.ts with type checking, the project's TypeScript and ts-node, and exports the program function", () => {
  const stdout = execFileSync(
    process.execPath,
    [join(__dirname, "fixtures", "load-with-pulumi-ts-node.cjs"), ROOT],
    {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  const report = JSON.parse(stdout) as Record<string, string>;
  expect(report).toEqual({
    typescript: expect.stringMatching(/^6\./),
    typescriptPath: join(ROOT, "node_modules", "typescript", "lib", "typescript.js"),
    tsNode: "10.9.2",
    tsNodePath: join(ROOT, "node_modules", "ts-node", "dist", "index.js"),
    exportType: "function",
    // WorkerSecret's provider survives Pulumi's serialization of this ts-node build.
    dynamicProvider: "check,create,delete,diff,read,update",
    dynamicProviderRequires: true,
    dynamicProviderRuns: "value",
  });
}, 120_000);
