/**
 * `pulumi up` loads index.ts through the project's own typescript and ts-node with the options
 * @pulumi/pulumi's cmd/run computes. If the tsconfig (or an import) is one that loader cannot handle,
 * this fails here rather than on a user's first `pulumi up`.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

import { expect, it } from "vitest";

const ROOT = join(__dirname, "..");

// Transpile only (PULUMI_NODEJS_TRANSPILE_ONLY, which run.js honours): `npm run typecheck` already
// type-checks index.ts with this tsconfig, and nothing is type-checked twice. What this proves is that
// Pulumi's loader resolves, compiles and runs the program as it is.
it("loads index.ts with the project's TypeScript and ts-node as `pulumi up` does, and exports the program function", () => {
  const stdout = execFileSync(
    process.execPath,
    [join(__dirname, "fixtures", "load-with-pulumi-ts-node.cjs"), ROOT],
    {
      cwd: ROOT,
      env: { ...process.env, PULUMI_NODEJS_TRANSPILE_ONLY: "true" },
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
