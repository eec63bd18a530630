/** npm run wrangler-config -- --stack <name> [--kv-namespace-id <id>]; see cli.ts and docs/DEPLOY-CONTRACT.md. */
import { resolve } from "node:path";

import { main } from "./cli";

process.exitCode = main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  root: resolve(__dirname, "..", ".."),
});
