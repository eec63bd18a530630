import { describe, expect, it } from "vitest";
import { createWorker } from "../../worker/src/app";
import {
  HELLO,
  callWorker,
  captureLogs,
  chatRequest,
  completion,
  errorBody,
  fakeProvider,
  inspect,
  providerJson,
  testEnv,
} from "./helpers";

const MODEL = "llama-3.3-70b-versatile";

describe("cost caps (MAX_OUTPUT_TOKENS, MAX_N, ALLOWED_BODY_FIELDS)", () => {
  captureLogs();

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ["max_tokens above the cap is clamped", { max_tokens: 1_000_000_000 }, { max_tokens: 2048 }],
    [
      "max_completion_tokens above the cap is clamped",
      { max_completion_tokens: 999_999_999 },
      { max_completion_tokens: 2048 },
    ],
    [
      "both are clamped",
      { max_tokens: 5000, max_completion_tokens: 4097 },
      { max_tokens: 2048, max_completion_tokens: 2048 },
    ],
    ["a limit within the cap is kept", { max_tokens: 64 }, { max_tokens: 64 }],
    ["the cap itself is kept", { max_completion_tokens: 2048 }, { max_completion_tokens: 2048 }],
    ["no limit: max_tokens is set to the cap", {}, { max_tokens: 2048 }],
    ["n = 1 is accepted", { n: 1 }, { n: 1, max_tokens: 2048 }],
  ])("forwards a bounded request: %s", async (_name, fields, expected) => {
    const provider = fakeProvider(() => providerJson(200, completion("ok")));
    const seen = await inspect(await callWorker(chatRequest({ ...HELLO, ...fields })));
    expect(seen.status).toBe(200);
    expect(provider.calls[0]?.body).toEqual({ ...HELLO, model: MODEL, ...expected });
  });

  it.each<[string, Record<string, unknown>, string, string, string]>([
    ["n above MAX_N (1)", { n: 128 }, "n_too_large", "n is 128; at most 1", "n"],
    ["n = 2", { n: 2 }, "n_too_large", "n is 2; at most 1", "n"],
    ["n = 0", { n: 0 }, "invalid_n", "n must be a positive integer", "n"],
    ["a fractional n", { n: 1.5 }, "invalid_n", "n must be a positive integer", "n"],
    [
      "a string max_tokens",
      { max_tokens: "100" },
      "invalid_max_tokens",
      "max_tokens must be a positive integer",
      "max_tokens",
    ],
    [
      "a negative max_completion_tokens",
      { max_completion_tokens: -1 },
      "invalid_max_tokens",
      "max_completion_tokens must be a positive integer",
      "max_completion_tokens",
    ],
    [
      "a field outside the allow-list",
      { logit_bias: { "50256": -100 } },
      "unsupported_parameter",
      'Request body field "logit_bias" is not supported',
      "logit_bias",
    ],
    [
      "a costly field outside the allow-list",
      { service_tier: "flex" },
      "unsupported_parameter",
      'Request body field "service_tier" is not supported',
      "service_tier",
    ],
  ])("refuses %s with 400 without calling the provider", async (_name, fields, code, message, param) => {
    const provider = fakeProvider(() => providerJson(200, completion("never")));
    const seen = await inspect(await callWorker(chatRequest({ ...HELLO, ...fields })));
    expect(seen.status).toBe(400);
    expect(seen.json).toEqual(errorBody(code, message, "invalid_request_error", param));
    expect(provider.calls).toHaveLength(0);
  });

  it("forwards every field of the default allow-list", async () => {
    const provider = fakeProvider(() => providerJson(200, completion("ok")));
    const body = {
      ...HELLO,
      model: MODEL,
      stream: false,
      stream_options: { include_usage: true },
      max_tokens: 10,
      max_completion_tokens: 10,
      n: 1,
      temperature: 0.1,
      top_p: 0.9,
      stop: ["\n"],
      presence_penalty: 0,
      frequency_penalty: 0,
      seed: 7,
      user: "u-1",
      response_format: { type: "json_object" },
      tools: [],
      tool_choice: "none",
      parallel_tool_calls: false,
    };
    const seen = await inspect(await callWorker(chatRequest(body)));
    expect(seen.status).toBe(200);
    expect(provider.calls[0]?.body).toEqual(body);
  });

  it("applies the configured caps and allow-list", async () => {
    const provider = fakeProvider(() => providerJson(200, completion("ok")));
    const worker = createWorker();
    const env = testEnv({
      MAX_OUTPUT_TOKENS: "100",
      MAX_N: "3",
      ALLOWED_BODY_FIELDS: "n,max_tokens,logprobs",
    });
    const ok = await inspect(
      await worker.fetch(chatRequest({ ...HELLO, n: 3, max_tokens: 500, logprobs: true }), env),
    );
    expect(ok.status).toBe(200);
    expect(provider.calls[0]?.body).toEqual({
      ...HELLO,
      model: MODEL,
      n: 3,
      max_tokens: 100,
      logprobs: true,
    });
    const refused = await inspect(await worker.fetch(chatRequest({ ...HELLO, temperature: 1 }), env));
    expect(refused.json).toEqual(
      errorBody(
        "unsupported_parameter",
        'Request body field "temperature" is not supported',
        "invalid_request_error",
        "temperature",
      ),
    );
  });
});
