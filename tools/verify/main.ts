/**
 * npm run verify-token -- --stack <name> [--admin] [--json] [--api-base-url URL] [--timeout-ms N]
 *                         [--deadline-ms N] [--foreign-zone ID] [--foreign-account ID]
 *
 * Proves that the token in CLOUDFLARE_API_TOKEN has exactly the access the stack needs; with
 * --admin, that the admin credential can mint it.
 * See docs/VERIFY-TOKEN.md; the logic lives in tools/verify/.
 */
import { main, runAsProcess } from "./cli";

runAsProcess("verify-token", main);
