/**
 * Runs the real wrangler (the 4.86.0 devDependency) against the Cloudflare API stand-in, offline:
 * a fresh project directory with the deploy contract's wrangler config plus `main`, a throwaway HOME,
 * and an environment built from scratch (nothing inherited but PATH), so no credential or setting of
 * the machine leaks in.
 * - CLOUDFLARE_API_BASE_URL points wrangler at the stand-in; CLOUDFLARE_ACCOUNT_ID as the workflow sets it.
 * - WRANGLER_SEND_METRICS / WRANGLER_SEND_ERROR_REPORTS=false, WRANGLER_HIDE_BANNER=true (the banner is
 *   what runs the npm update check, printWranglerBanner in wrangler-dist/cli.js), CI=true.
 * - HTTPS_PROXY/HTTP_PROXY at a closed local port with NO_PROXY=127.0.0.1: anything wrangler would
 *   send beyond the stand-in fails at once instead of reaching the network.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

const require = createRequire(__filename);
/** wrangler's own entry (node_modules/wrangler/bin/wrangler.js), run with this Node. */
export const WRANGLER_BIN = require.resolve("wrangler/bin/wrangler.js");

/**
 * The tools' start cache (tools/shared/launch-cache.cjs) as a preload for wrangler and the child node
 * wrangler starts: V8's compiled code for wrangler-dist/cli.js (12.7 MB) is reused across the many
 * wrangler runs of the tests, instead of compiled again by each. Only compilation is cached: the code
 * wrangler runs is its own, unchanged.
 */
export const WRANGLER_START_CACHE_ENV = {
  NODE_OPTIONS: `--require=${path.join(__dirname, "..", "..", "tools", "shared", "launch-cache.cjs")}`,
  SCOPED_EDGE_CODE_CACHE_DIR: path.join(__dirname, "..", "..", "node_modules", ".cache", "wrangler-start"),
};

export const WORKER_SOURCE = "export default { fetch() { return new Response('app code from CI'); } };\n";

export interface WranglerRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface WranglerProject {
  readonly dir: string;
  run(args: readonly string[], options: { token: string; stdin?: string }): Promise<WranglerRun>;
  remove(): void;
}

/** A project directory holding `config` (the deploy contract) with `main` added, as the app repository does. */
export function wranglerProject(config: object, baseUrl: string, accountId: string): WranglerProject {
  const dir = mkdtempSync(path.join(tmpdir(), "scoped-edge-wrangler-"));
  const home = path.join(dir, "home");
  mkdirSync(home);
  writeFileSync(path.join(dir, "index.js"), WORKER_SOURCE);
  writeFileSync(path.join(dir, "wrangler.json"), JSON.stringify({ ...config, main: "index.js" }, null, 2));
  return {
    dir,
    run: (args, { token, stdin }) =>
      new Promise((resolve) => {
        const child = execFile(
          process.execPath,
          [WRANGLER_BIN, ...args],
          {
            cwd: dir,
            timeout: 60_000,
            env: {
              PATH: process.env.PATH ?? "",
              HOME: home,
              XDG_CONFIG_HOME: path.join(home, ".config"),
              CLOUDFLARE_API_BASE_URL: baseUrl,
              CLOUDFLARE_ACCOUNT_ID: accountId,
              CLOUDFLARE_API_TOKEN: token,
              WRANGLER_SEND_METRICS: "false",
              WRANGLER_SEND_ERROR_REPORTS: "false",
              WRANGLER_HIDE_BANNER: "true",
              CI: "true",
              HTTPS_PROXY: "http://127.0.0.1:9",
              HTTP_PROXY: "http://127.0.0.1:9",
              NO_PROXY: "127.0.0.1,localhost",
              NO_COLOR: "1",
              ...WRANGLER_START_CACHE_ENV,
            },
          },
          (error, stdout, stderr) => {
            const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
            resolve({ code, stdout, stderr });
          },
        );
        child.stdin?.end(stdin ?? "");
      }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
