import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { pathToFileURL } from "node:url";

import { Miniflare } from "miniflare";
import * as ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  WORKER_BINDINGS,
  WORKER_MAIN_MODULE,
  WORKER_VAR_DEFAULTS,
  bundleWorker,
  sha256Hex,
  type WorkerBundle,
} from "../lib/worker-bundle";

describe("bundleWorker", () => {
  let first: WorkerBundle;
  let second: WorkerBundle;

  beforeAll(async () => {
    first = await bundleWorker();
    second = await bundleWorker();
  });

  it("is deterministic: two builds give the same bytes and sha256", () => {
    expect(second.content).toBe(first.content);
    expect(second.sha256).toBe(first.sha256);
    expect(first.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(first.sha256).toBe(sha256Hex(first.content));
    expect(first.mainModule).toBe(WORKER_MAIN_MODULE);
  });

  it("carries no absolute path of the machine that built it", () => {
    expect(first.content).not.toContain(path.resolve(__dirname, ".."));
    expect(first.content).toContain("// worker/src/index.ts");
  });

  it("is one ES module whose default export has a fetch handler", async () => {
    expect(first.content).toMatch(/export \{\s*index_default as default\s*\};\s*$/);
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
    expect(WORKER_BINDINGS).toEqual({ kv: "RATE_LIMIT_KV", providerKey: "PROVIDER_KEY" });
  });

  it("defaults to GROQ's OpenAI-compatible API", () => {
    expect(WORKER_VAR_DEFAULTS.PROVIDER_BASE_URL).toBe("https://api.groq.com/openai/v1");
    expect(WORKER_VAR_DEFAULTS.ALLOWED_MODELS.split(",")).toContain(WORKER_VAR_DEFAULTS.DEFAULT_MODEL);
  });

  it("matches the vars and KV binding of worker/wrangler.jsonc (local dev)", () => {
    const text = readFileSync(path.join(__dirname, "..", "worker", "wrangler.jsonc"), "utf8");
    const parsed = ts.parseConfigFileTextToJson("wrangler.jsonc", text);
    expect(parsed.error).toBeUndefined();
    const config = parsed.config as { vars: Record<string, string>; kv_namespaces: { binding: string }[] };
    expect(config.vars).toEqual(WORKER_VAR_DEFAULTS);
    expect(config.kv_namespaces.map((kv) => kv.binding)).toEqual([WORKER_BINDINGS.kv]);
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
      compatibilityDate: "2026-04-26",
      kvNamespaces: [WORKER_BINDINGS.kv],
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
    await expect.poll(() => output).toContain('"path":"/health","status":200');
  });

  it("refuses an invalid chat request with the JSON error", async () => {
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
  });
});
