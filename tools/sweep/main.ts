/**
 * npm run sweep-tokens -- --stack <name> [--delete] [--keep-token-id ID]...
 *
 * Deletes this stack's expired or disabled deploy tokens (dry run by default). See
 * docs/VERIFY-TOKEN.md; the logic lives in tools/sweep/sweep.ts.
 */
import { resolve } from "node:path";

import { sweepMain } from "./cli";

sweepMain(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  root: resolve(__dirname, "..", ".."),
}).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.stderr.write("sweep-tokens: unexpected error\n");
    process.exitCode = 1;
  },
);
