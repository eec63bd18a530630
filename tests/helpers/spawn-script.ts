/** Runs one of the repository's scripts through tsx in a child process, with a bare environment. */
import { spawn } from "node:child_process";
import { join } from "node:path";

const REPO = join(__dirname, "..", "..");

export interface ScriptRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `tsx <script> ...args` from the repository root. The environment holds only PATH and HOME plus
 * `env`: no credentials, no Pulumi settings leak in from the developer's shell.
 */
export function spawnScript(
  script: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<ScriptRun> {
  return new Promise<ScriptRun>((resolve, reject) => {
    const child = spawn(join(REPO, "node_modules/.bin/tsx"), [script, ...args], {
      cwd: REPO,
      env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
