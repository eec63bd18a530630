import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createWorker } from "../../worker/src/app";
import { overlayRuntimeConfig, readConfig } from "../../worker/src/config";
import { RUNTIME_CONFIG_KEY, WORKER_VAR_DEFAULTS } from "../../worker/src/defaults";
import example from "../../worker/runtime-config.example.json";
import {
  HELLO,
  captureLogs,
  chatRequest,
  completion,
  countingKv,
  errorBody,
  fakeProvider,
  inspect,
  providerJson,
  testEnv,
} from "./helpers";

/** An ExecutionContext whose waitUntil promises the test can await. */
function context(): { ctx: ExecutionContext; settled: () => Promise<unknown> } {
  const pending: Promise<unknown>[] = [];
  const ctx = {
    waitUntil: (promise: Promise<unknown>) => pending.push(promise),
    passThroughOnException: () => undefined,
    props: {},
  } as unknown as ExecutionContext;
  return { ctx, settled: () => Promise.all(pending.splice(0)) };
}

const doc = (value: unknown): Record<string, string> => ({ [RUNTIME_CONFIG_KEY]: JSON.stringify(value) });

async function status(
  worker: ReturnType<typeof createWorker>,
  body: unknown,
  workerEnv: object,
  ctx?: ExecutionContext,
) {
  return inspect(await worker.fetch(chatRequest(body), workerEnv, ctx));
}

describe("runtime config from CONFIG_KV", () => {
  const logs = captureLogs();

  it("applies the operator's document from the real KV binding: models and caps change without a deploy", async () => {
    const provider = fakeProvider(() => providerJson(200, completion("ok")));
    await env.CONFIG_KV.put(
      RUNTIME_CONFIG_KEY,
      JSON.stringify({ ALLOWED_MODELS: ["qwen-2.5-32b"], MAX_OUTPUT_TOKENS: 256, MAX_N: 2 }),
    );
    try {
      const worker = createWorker();
      const workerEnv = testEnv();
      const seen = await status(
        worker,
        { ...HELLO, model: "qwen-2.5-32b", n: 2, max_tokens: 9999 },
        workerEnv,
      );
      expect(seen.status).toBe(200);
      expect(provider.calls[0]?.body).toEqual({ ...HELLO, model: "qwen-2.5-32b", n: 2, max_tokens: 256 });
      // The document replaces ALLOWED_MODELS: a model only the vars allowed is refused now.
      const refused = await status(worker, { ...HELLO, model: "llama-3.1-8b-instant" }, workerEnv);
      expect(refused.json).toEqual(
        errorBody(
          "model_not_allowed",
          'model "llama-3.1-8b-instant" is not allowed; allowed: llama-3.3-70b-versatile, qwen-2.5-32b',
          "invalid_request_error",
          "model",
        ),
      );
    } finally {
      await env.CONFIG_KV.delete(RUNTIME_CONFIG_KEY);
    }
  });

  it("uses the vars when there is no document", async () => {
    const provider = fakeProvider(() => providerJson(200, completion("ok")));
    const { kv, gets } = countingKv();
    const seen = await status(createWorker(), HELLO, testEnv({ CONFIG_KV: kv }));
    expect(seen.status).toBe(200);
    expect(provider.calls[0]?.body).toMatchObject({ max_tokens: 2048 });
    expect(gets).toEqual([RUNTIME_CONFIG_KEY]);
    expect(logs.lines).toHaveLength(1);
  });

  it.each<[string, Record<string, string>, string]>([
    ["not JSON", { [RUNTIME_CONFIG_KEY]: "{ALLOWED_MODELS: x" }, `CONFIG_KV "config" is not JSON`],
    ["an array", doc(["x"]), `CONFIG_KV "config" must be a JSON object`],
    [
      "a key it may not set (the provider URL)",
      doc({ PROVIDER_BASE_URL: "https://evil.example/v1" }),
      `CONFIG_KV "config" key "PROVIDER_BASE_URL" is not one of DEFAULT_MODEL, ALLOWED_MODELS, MAX_MESSAGES, MAX_MESSAGE_CHARS, MAX_OUTPUT_TOKENS, MAX_N, ALLOWED_BODY_FIELDS`,
    ],
    ["a bad value", doc({ MAX_N: 0 }), 'MAX_N must be a positive integer, got "0"'],
    [
      "a value of the wrong type",
      doc({ MAX_OUTPUT_TOKENS: { value: 5 } }),
      `CONFIG_KV "config" key "MAX_OUTPUT_TOKENS" must be a non-empty string, an integer or a string list`,
    ],
    [
      "an empty value",
      doc({ DEFAULT_MODEL: " " }),
      `CONFIG_KV "config" key "DEFAULT_MODEL" must be a non-empty string, an integer or a string list`,
    ],
  ])("keeps the vars in force and warns when the document is %s", async (_name, values, problem) => {
    const provider = fakeProvider(() => providerJson(200, completion("ok")));
    const { kv } = countingKv(values);
    const seen = await status(createWorker(), { ...HELLO, n: 1 }, testEnv({ CONFIG_KV: kv }));
    expect(seen.status).toBe(200);
    expect(provider.calls[0]?.body).toMatchObject({ max_tokens: 2048 });
    expect(provider.calls[0]?.url).toBe("https://provider.test/openai/v1/chat/completions");
    expect(JSON.parse(logs.lines[0] ?? "")).toMatchObject({
      level: "warn",
      message: "runtime config invalid; using the vars",
      problem,
    });
  });

  it("keeps the vars in force when KV fails: never a 5xx", async () => {
    fakeProvider(() => providerJson(200, completion("ok")));
    const { kv } = countingKv({}, { fail: true });
    const seen = await status(createWorker(), HELLO, testEnv({ CONFIG_KV: kv }));
    expect(seen.status).toBe(200);
    expect(JSON.parse(logs.lines[0] ?? "")).toMatchObject({
      level: "warn",
      message: "runtime config unreadable; using the vars",
      error: "Error: KV is unavailable",
    });
  });

  it("works without the binding at all (the vars alone)", async () => {
    fakeProvider(() => providerJson(200, completion("ok")));
    const seen = await status(
      createWorker(),
      HELLO,
      testEnv({ CONFIG_KV: undefined as unknown as KVNamespace }),
    );
    expect(seen.status).toBe(200);
  });

  it("reads KV once per isolate, then refreshes it in the background after the refresh period", async () => {
    const provider = fakeProvider(() => providerJson(200, completion("ok")));
    const values = doc({ MAX_OUTPUT_TOKENS: 100 });
    const { kv, gets } = countingKv(values);
    let now = 1_790_000_000_000;
    const worker = createWorker({ now: () => now });
    const workerEnv = testEnv({ CONFIG_KV: kv });
    const { ctx, settled } = context();
    const maxTokens = (): unknown => (provider.calls.at(-1)?.body as { max_tokens?: unknown }).max_tokens;

    await status(worker, HELLO, workerEnv, ctx);
    expect(maxTokens()).toBe(100);
    now += 59_000;
    await status(worker, HELLO, workerEnv, ctx);
    expect(gets).toHaveLength(1); // within the period: the isolate's copy

    Object.assign(values, doc({ MAX_OUTPUT_TOKENS: 200 }));
    now += 2_000;
    await status(worker, HELLO, workerEnv, ctx);
    expect(maxTokens()).toBe(100); // stale copy served while the refresh runs in waitUntil
    await settled();
    expect(gets).toHaveLength(2);
    await status(worker, HELLO, workerEnv, ctx);
    expect(maxTokens()).toBe(200);
    expect(gets).toHaveLength(2);
  });
});

describe("readConfig and overlayRuntimeConfig (pure, also used by the Pulumi program)", () => {
  it("accepts the defaults", () => {
    expect(readConfig({}).ok).toBe(true);
    expect(readConfig(WORKER_VAR_DEFAULTS).ok).toBe(true);
  });

  it.each<[Record<string, string>, string]>([
    [
      { ALLOWED_ORIGINS: "*" },
      'ALLOWED_ORIGINS entry "*" is not an exact origin like https://app.example.com',
    ],
    [
      { ALLOWED_ORIGINS: "null" },
      'ALLOWED_ORIGINS entry "null" is not an exact origin like https://app.example.com',
    ],
    [
      { PROVIDER_BASE_URL: "http://api.groq.com/openai/v1" },
      "PROVIDER_BASE_URL must use https (http only for localhost)",
    ],
    [{ MAX_N: "0" }, 'MAX_N must be a positive integer, got "0"'],
  ])("refuses %j", (vars, problem) => {
    expect(readConfig(vars)).toEqual({ ok: false, problem });
  });

  it("allows plain http for a local provider (development, benchmarks)", () => {
    expect(readConfig({ PROVIDER_BASE_URL: "http://127.0.0.1:8787/v1" }).ok).toBe(true);
  });

  it("accepts worker/runtime-config.example.json, the document operators start from", () => {
    const overlay = overlayRuntimeConfig(WORKER_VAR_DEFAULTS, example);
    expect(overlay.ok).toBe(true);
    const result = overlay.ok ? readConfig(overlay.vars) : overlay;
    expect(result.ok && result.config.maxOutputTokens).toBe(1024);
  });

  it("lays numbers and string lists over the vars", () => {
    expect(overlayRuntimeConfig({ VERSION: "v1" }, { MAX_N: 2, ALLOWED_MODELS: ["a", "b"] })).toEqual({
      ok: true,
      vars: { VERSION: "v1", MAX_N: "2", ALLOWED_MODELS: "a,b" },
    });
  });

  it.each([
    [{ ALLOWED_MODELS: ["a,b"] }, 'key "ALLOWED_MODELS" must be'],
    [{ MAX_N: 1.5 }, 'key "MAX_N" must be'],
    [{ MAX_N: null }, 'key "MAX_N" must be'],
    [{ ALLOWED_ORIGINS: "*" }, 'key "ALLOWED_ORIGINS" is not one of'],
    [null, "must be a JSON object"],
  ])("refuses the document %j", (document, problem) => {
    const result = overlayRuntimeConfig({}, document);
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.problem).toContain(problem);
  });
});
