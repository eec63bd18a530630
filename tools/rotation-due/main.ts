/**
 * npm run rotation-due -- --stack <name> [--now ISO] [--lookback-hours N] [--force]
 *                         [--bump-generation] [--json]
 *
 * Whether the stack's deploy token is due for rotation; the rotate workflow asks once per stack.
 * See docs/WORKFLOWS.md; the logic lives in tools/rotation-due/decide.ts.
 */
import { resolve } from "node:path";

import { main } from "./cli";

process.exitCode = main(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  root: resolve(__dirname, "..", ".."),
});
