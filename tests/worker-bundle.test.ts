import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { pathToFileURL } from "node:url";

import { Miniflare } from "miniflare";
import * as ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  COMPATIBILITY_DATE,
  COMPATIBILITY_FLAGS,
  RATE_LIMIT_DEFAULTS,
  WORKER_BINDINGS,
  WORKER_MAIN_MODULE,
  WORKER_SOURCE_MAP,
  WORKER_VAR_DEFAULTS,
  bundleWorker,
  sha256Hex,
  type WorkerBundle,
} from "../lib/worker-bundle";
import { WRANGLER_START_CACHE_ENV } from "./wrangler/run-wrangler";

describe("bundleWorker", () => {
  let first: WorkerBundle;
  let second: WorkerBundle;

  beforeAll(async () => {
    first = await bundleWorker();
    second = await bundleWorker();
  });

  it("is deterministic: two builds give the same bytes and sha256", () => {
    expect(second.content).toBe(first.content);
    expect(second.sourceMap).toBe(first.sourceMap);
    expect(second.sha256).toBe(first.sha256);
    expect(first.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(first.sha256).toBe(sha256Hex(first.content));
    expect(first.mainModule).toBe(WORKER_MAIN_MODULE);
  });

  it("is minified, at most 20 KB, with a source map of the Worker's sources", () => {
    expect(Buffer.byteLength(first.content, "utf8")).toBeLessThanOrEqual(20_000);
    expect(first.content.split("\n").length).toBeLessThan(10);
    expect(first.sourceMapName).toBe(WORKER_SOURCE_MAP);
    const map = JSON.parse(first.sourceMap) as {
      version: number;
      sources: string[];
      sourcesContent: string[];
    };
    expect(map.version).toBe(3);
    expect(map.sources).toContain("worker/src/index.ts");
    expect(map.sources.every((source) => source.startsWith("worker/src/"))).toBe(true);
    expect(map.sourcesContent).toHaveLength(map.sources.length);
    // The map is not referenced from the code, so the deployed bytes do not depend on it.
    expect(first.content).not.toContain("sourceMappingURL");
  });

  it("carries no absolute path of the machine that built it", () => {
    const root = path.resolve(__dirname, "..");
    expect(first.content).not.toContain(root);
    expect(first.sourceMap).not.toContain(root);
  });

  it("is one ES module whose default export has a fetch handler", async () => {
    expect(first.content).toMatch(/export\s*\{\s*[\w$]+ as default\s*\};\s*$/);
    const dir = mkdtempSync(path.join(tmpdir(), "worker-bundle-"));
    try {
      const file = path.join(dir, "worker.mjs");
      writeFileSync(file, first.content);
      const module = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as {
        default: { fetch?: unknown };
      };
      expect(Object.keys(module)).toEqual(["default"]);
      expect(typeof module.default.fetch).toBe("function");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("imports no Node built-in and requires nothing", () => {
    expect(first.content).not.toMatch(/\brequire\(/);
    expect(first.content).not.toMatch(/^\s*import\b/m);
    expect(first.content).not.toMatch(/\bimport\(/);
    for (const name of builtinModules) {
      expect(first.content).not.toContain(`"node:${name}"`);
    }
  });

  it("fails the build when the Worker imports a Node built-in", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "worker-bundle-bad-"));
    try {
      const entry = path.join(dir, "bad.ts");
      writeFileSync(
        entry,
        'import { readFileSync } from "node:fs";\nexport default { fetch: () => new Response(String(readFileSync)) };\n',
      );
      await expect(bundleWorker(entry)).rejects.toThrow(/node:fs/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the Worker's bindings and vars", () => {
  it("names the bindings the Edge Worker component must create", () => {
    expect(WORKER_BINDINGS).toEqual({
      kv: "CONFIG_KV",
      rateLimiter: "RATE_LIMITER",
      providerKey: "PROVIDER_KEY",
    });
    expect(RATE_LIMIT_DEFAULTS).toEqual({ limit: 20, periodSeconds: 60 });
  });

  it("defaults to GROQ's OpenAI-compatible API", () => {
    expect(WORKER_VAR_DEFAULTS.PROVIDER_BASE_URL).toBe("https://api.groq.com/openai/v1");
    expect(WORKER_VAR_DEFAULTS.ALLOWED_MODELS.split(",")).toContain(WORKER_VAR_DEFAULTS.DEFAULT_MODEL);
  });

  it("matches worker/wrangler.jsonc, which the worker tests run with: date, flags, bindings, vars", () => {
    const text = readFileSync(path.join(__dirname, "..", "worker", "wrangler.jsonc"), "utf8");
    const parsed = ts.parseConfigFileTextToJson("wrangler.jsonc", text);
    expect(parsed.error).toBeUndefined();
    const config = parsed.config as {
      compatibility_date: string;
      compatibility_flags: string[];
      vars: Record<string, string>;
      kv_namespaces: { binding: string }[];
      ratelimits: { name: string; namespace_id: string; simple: { limit: number; period: number } }[];
    };
    expect(config.compatibility_date).toBe(COMPATIBILITY_DATE);
    expect(config.compatibility_flags).toEqual(COMPATIBILITY_FLAGS);
    expect(config.vars).toEqual(WORKER_VAR_DEFAULTS);
    expect(config.kv_namespaces.map((kv) => kv.binding)).toEqual([WORKER_BINDINGS.kv]);
    expect(config.ratelimits).toEqual([
      {
        name: WORKER_BINDINGS.rateLimiter,
        namespace_id: expect.stringMatching(/^[1-9][0-9]*$/),
        simple: { limit: RATE_LIMIT_DEFAULTS.limit, period: RATE_LIMIT_DEFAULTS.periodSeconds },
      },
    ]);
  });

  it("runs its tests at the newest date the pinned workerd supports", () => {
    const miniflare = JSON.parse(
      readFileSync(path.join(__dirname, "..", "node_modules", "miniflare", "package.json"), "utf8"),
    ) as { version: string };
    // miniflare 4.YYYYMMDD.x ships the workerd of that date, which accepts dates up to it.
    const [, stamp] = /^4\.(\d{8})\./.exec(miniflare.version) ?? [];
    expect(COMPATIBILITY_DATE).toBe(`${stamp!.slice(0, 4)}-${stamp!.slice(4, 6)}-${stamp!.slice(6, 8)}`);
  });
});

describe("the bundle on workerd", () => {
  const key = "gsk_bundle_test_key_0123456789";
  let mf: Miniflare;
  let output = "";

  beforeAll(async () => {
    const bundle = await bundleWorker();
    mf = new Miniflare({
      modules: [{ type: "ESModule", path: bundle.mainModule, contents: bundle.content }],
      compatibilityDate: COMPATIBILITY_DATE,
      compatibilityFlags: [...COMPATIBILITY_FLAGS],
      kvNamespaces: [WORKER_BINDINGS.kv],
      ratelimits: { [WORKER_BINDINGS.rateLimiter]: { simple: { limit: 20, period: 60 } } },
      bindings: { ...WORKER_VAR_DEFAULTS, VERSION: "bundle-check", PROVIDER_KEY: key },
      handleRuntimeStdio(stdout: Readable, stderr: Readable) {
        stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
        stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
      },
    });
    await mf.ready;
  });

  afterAll(async () => {
    await mf?.dispose();
    expect(output).not.toContain(key);
  });

  it("serves /health", async () => {
    const response = await mf.dispatchFetch("http://localhost/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", version: "bundle-check" });
  });

  it("refuses an invalid chat request with the JSON error, and logs it (LOG_REQUESTS failures)", async () => {
    const response = await mf.dispatchFetch("http://localhost/v1/chat/completions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ messages: [] }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        message: "messages must not be empty",
        type: "invalid_request_error",
        code: "invalid_messages",
        param: "messages",
      },
    });
    await expect.poll(() => output).toContain('"path":"/v1/chat/completions","status":400');
    expect(output).not.toContain('"path":"/health"');
  });
});

/** Pids of the live children of `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^[0-9]+$/.test(entry))
    .filter((entry) => {
      try {
        // The fields after "(comm) ": state, ppid, ...
        return Number(readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]?.split(" ")[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts `command` (through `sh -c`, as `npm run` does) and waits for wrangler to be ready. */
async function startDev(command: (port: number) => string) {
  const port = await freePort();
  const shell = spawn("sh", ["-c", command(port)], {
    cwd: path.join(__dirname, ".."),
    env: {
      PATH: process.env["PATH"] ?? "",
      HOME: process.env["HOME"] ?? "",
      WRANGLER_SEND_METRICS: "false",
      ...WRANGLER_START_CACHE_ENV,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  shell.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  shell.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  await expect.poll(() => output, { timeout: 90_000, interval: 250 }).toContain("Ready on");
  return { port, shell };
}

describe.skipIf(process.platform !== "linux")("worker/dev.mjs (npm run worker:dev)", () => {
  const cleanup: (() => void)[] = [];
  afterAll(() => {
    for (const step of cleanup) step();
  });

  /** The wrapper under `shell` and the process group wrangler leads (workerd, esbuild). */
  function processes(shellPid: number): { wrapper: number; pgid: number } {
    const [wrapper] = childrenOf(shellPid);
    expect(readFileSync(`/proc/${wrapper}/cmdline`, "utf8")).toContain("worker/dev.mjs");
    const [pgid] = childrenOf(wrapper!);
    cleanup.push(() => {
      if (groupAlive(pgid!)) process.kill(-pgid!, "SIGKILL");
    });
    expect(groupAlive(pgid!)).toBe(true);
    return { wrapper: wrapper!, pgid: pgid! };
  }

  it("serves the Worker from worker/wrangler.jsonc, and leaves nothing running once its parent is stopped", async () => {
    // `sh -c` dies on SIGTERM without passing it on, as under `npm run`.
    const { port, shell } = await startDev((port) => `node worker/dev.mjs --port ${port} --ip 127.0.0.1`);
    cleanup.push(() => shell.kill("SIGKILL"));
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(await health.json()).toEqual({ status: "ok", version: "dev" });
    const { pgid } = processes(shell.pid!);
    shell.kill("SIGTERM");
    await expect.poll(() => groupAlive(pgid), { timeout: 15_000, interval: 100 }).toBe(false);
  }, 120_000);

  it("leaves nothing running once it is stopped itself (SIGTERM, or SIGINT from Ctrl-C)", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const { shell } = await startDev((port) => `node worker/dev.mjs --port ${port} --ip 127.0.0.1; true`);
      cleanup.push(() => shell.kill("SIGKILL"));
      const { wrapper, pgid } = processes(shell.pid!);
      process.kill(wrapper, signal);
      await expect.poll(() => groupAlive(pgid), { timeout: 15_000, interval: 100 }).toBe(false);
    }
  }, 180_000);
});
