/**
 * `wrangler dev` for the Worker (worker/wrangler.jsonc), stopped whole when this process is stopped.
 *
 *   node worker/dev.mjs [wrangler dev options, e.g. --port 8787]
 *
 * wrangler starts workerd (twice) and esbuild; stopped by a signal to an ancestor (`npm run`, whose
 * `sh -c` does not pass signals on), it leaves them running with nothing to stop them. So wrangler runs
 * here in a process group of its own, and this script takes the whole group down when it gets SIGINT,
 * SIGTERM or SIGHUP, when its parent goes away without a signal, or when wrangler itself exits.
 * wrangler's stdin is not a terminal, so its keyboard shortcuts are off: stop it with Ctrl-C.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { constants } from "node:os";
import { setInterval, setTimeout } from "node:timers";
import { URL, fileURLToPath } from "node:url";

const GRACE_MS = 5000;
const wrangler = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
const config = fileURLToPath(new URL("wrangler.jsonc", import.meta.url));

const child = spawn(process.execPath, [wrangler, "dev", "--config", config, ...process.argv.slice(2)], {
  // A new process group (led by wrangler) holding everything wrangler starts.
  detached: true,
  // A background group must not read the terminal (SIGTTIN would stop it).
  stdio: ["ignore", "inherit", "inherit"],
});
const group = child.pid;

/** Sends `signal` to every process in wrangler's group; false once the group is empty. */
function signalGroup(signal) {
  try {
    process.kill(-group, signal);
    return true;
  } catch {
    return false;
  }
}

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  signalGroup(signal);
  // Whatever has not stopped after the grace period is killed.
  setTimeout(() => {
    signalGroup("SIGKILL");
    process.exit(1);
  }, GRACE_MS).unref();
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => stop(signal));

// A parent that dies without passing a signal on (npm killed, a closed terminal) leaves this process
// re-parented: stop as if told to.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop("SIGTERM");
}, 250).unref();

child.on("exit", (code, signal) => {
  // wrangler is gone: take down anything it left behind in its group.
  signalGroup("SIGKILL");
  process.exit(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
});
