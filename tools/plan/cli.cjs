/**
 * `npm run plan`'s entry: runs tools/plan/main.ts's main() through the tools' launcher
 * (tools/shared/launch.cjs: a cached esbuild bundle and a V8 code cache, under plain node), so a
 * plan does not pay tsx's transpile-on-load nor compile its modules from source on each start.
 * SCOPED_EDGE_PLAN_DEBUG maps stack traces to the sources. Plain JavaScript: it runs before any
 * TypeScript tooling is loaded.
 */
"use strict";
const { join } = require("node:path");

const { launch } = require("../shared/launch.cjs");

async function run() {
  const { main } = await launch(join(__dirname, "main.ts"), {
    sourceMaps: Boolean(process.env.SCOPED_EDGE_PLAN_DEBUG),
  });
  process.exitCode = await main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}

run().catch((error) => {
  process.stderr.write(`plan: internal error: ${error && error.stack ? error.stack : String(error)}\n`);
  process.exitCode = 3;
});
