/**
 * npm run verify-token -- --stack <name> [--admin] [--json] [--api-base-url URL] [--timeout-ms N]
 *                         [--deadline-ms N] [--foreign-zone ID] [--foreign-account ID]
 *
 * Proves that the token in CLOUDFLARE_API_TOKEN has exactly the access the stack needs; with
 * --admin, that the admin credential can mint it.
 * See docs/VERIFY-TOKEN.md; the logic lives in tools/verify/.
 */
import { resolve } from "node:path";

import { main } from "./cli";

main(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  root: resolve(__dirname, "..", ".."),
}).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.stderr.write("verify-token: unexpected error\n");
    process.exitCode = 1;
  },
);
