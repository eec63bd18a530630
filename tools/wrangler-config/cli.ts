/**
 * npm run wrangler-config -- --stack <name> [--kv-namespace-id <id>]
 *
 * Prints, offline, the deploy contract's wrangler config for a stack (lib/deploy-contract.ts): what
 * the application repository's `wrangler deploy` uses, the same JSON the program publishes as the
 * Actions variable SCOPED_EDGE_WRANGLER_CONFIG. The KV namespace's id exists only after `pulumi up`:
 * pass it with --kv-namespace-id, or the output carries a placeholder and says so on stderr.
 */
import { parseArgs } from "node:util";

import { ConfigError } from "../../lib/config";
import { DeployContractError, wranglerConfigFor } from "../../lib/deploy-contract";
import { StackFileError } from "../shared/stack-file";
import { loadStackConfig } from "../verify/stack";

export const KV_NAMESPACE_ID_PLACEHOLDER = "KV_NAMESPACE_ID_AFTER_PULUMI_UP";

export const USAGE =
  "usage: npm run wrangler-config -- --stack <name> [--kv-namespace-id <32 hex id>]\n" +
  "  Prints the stack's deploy contract (the app's wrangler config, without `main`) as JSON.\n" +
  "  --kv-namespace-id  the Worker's KV namespace id (pulumi stack output kvNamespaceId); without it the\n" +
  `                     output holds the placeholder ${KV_NAMESPACE_ID_PLACEHOLDER}.\n`;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The repository root holding Pulumi.yaml and the stack files. */
  readonly root: string;
}

/** `text` with each control character (C0, DEL, C1) replaced by "?". */
const withoutControls = (text: string) =>
  [...text]
    .map((char) => {
      const code = char.codePointAt(0) ?? 0;
      return code < 0x20 || (code >= 0x7f && code <= 0x9f) ? "?" : char;
    })
    .join("");
/** Input quoted in a message: JSON escapes C0 controls; C1 ones are replaced. */
const printable = (value: string) => withoutControls(JSON.stringify(value));

export function main(argv: readonly string[], io: CliIo): number {
  let values: { stack?: string; "kv-namespace-id"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        stack: { type: "string" },
        "kv-namespace-id": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.stderr(`wrangler-config: ${withoutControls((error as Error).message)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (values.stack === undefined || values.stack === "") {
    io.stderr(`wrangler-config: --stack is required (e.g. --stack dev)\n${USAGE}`);
    return 2;
  }
  const kvId = values["kv-namespace-id"];
  if (kvId !== undefined && !/^[0-9a-f]{32}$/.test(kvId)) {
    io.stderr(
      `wrangler-config: --kv-namespace-id ${printable(kvId)} is not a KV namespace id (32 lowercase hex ` +
        "characters); take it from `pulumi stack output kvNamespaceId`\n",
    );
    return 2;
  }
  try {
    const config = loadStackConfig(io.root, values.stack);
    const contract = wranglerConfigFor(config, { kvNamespaceId: kvId ?? KV_NAMESPACE_ID_PLACEHOLDER });
    if (kvId === undefined) {
      io.stderr(
        `wrangler-config: kv_namespaces[0].id is the placeholder ${KV_NAMESPACE_ID_PLACEHOLDER}: the id exists ` +
          "only after `pulumi up`; pass --kv-namespace-id <id> (pulumi stack output kvNamespaceId), or use the " +
          "Actions variable SCOPED_EDGE_WRANGLER_CONFIG, which carries the real id\n",
      );
    }
    io.stdout(`${JSON.stringify(contract, null, 2)}\n`);
    return 0;
  } catch (error) {
    if (
      error instanceof StackFileError ||
      error instanceof ConfigError ||
      error instanceof DeployContractError
    ) {
      io.stderr(`wrangler-config: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
