/**
 * Runs one of the repository's scripts in a child process, with a bare environment, through the tools'
 * launcher (tools/shared/launch.cjs) as `npm run <tool>` runs it: a cached bundle with a V8 code cache.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";

const REPO = join(__dirname, "..", "..");

export interface ScriptRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `node tools/shared/launch.cjs <script> ...args` from the repository root. The environment holds
 * only PATH and HOME plus `env`: no credentials, no Pulumi settings leak in from the developer's
 * shell.
 */
export function spawnScript(
  script: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<ScriptRun> {
  return new Promise<ScriptRun>((resolve, reject) => {
    execFile(
      process.execPath,
      [join(REPO, "tools/shared/launch.cjs"), script, ...args],
      {
        cwd: REPO,
        env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        // A non-zero exit is a result here, not a failure; only a failure to start rejects.
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        if (error !== null && code === null && error.signal === null) reject(error);
        else resolve({ code, stdout, stderr });
      },
    );
  });
}
