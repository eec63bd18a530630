/**
 * npm run sweep-tokens -- --stack <name> [--delete] [--keep-token-id ID]...
 *
 * Deletes this stack's expired or disabled deploy tokens (dry run by default). See
 * docs/VERIFY-TOKEN.md; the logic lives in tools/sweep/sweep.ts.
 */
import { runAsProcess } from "../verify/cli";
import { sweepMain } from "./cli";

runAsProcess("sweep-tokens", sweepMain);
