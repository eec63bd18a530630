import { describe, expect, it } from "vitest";
import {
  ALLOWED_ORIGIN,
  HELLO,
  KEY,
  PROVIDER_URL,
  callWorker,
  captureLogs,
  chatRequest,
  completion,
  controlledBody,
  errorBody,
  fakeProvider,
  inspect,
  providerJson,
  testEnv,
} from "./helpers";
import { createWorker } from "../../worker/src/app";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function sse(delta: string): string {
  return `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: delta } }] })}\n\n`;
}

/** Rejects if `promise` has not settled after `ms` (the runtime's timers are real). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not arrive within ${ms} ms`)), ms),
    ),
  ]);
}

describe("POST /v1/chat/completions forwarding", () => {
  const logs = captureLogs();

  it("forwards the request to the provider with the key and passes the answer through", async () => {
    const provider = fakeProvider(() =>
      providerJson(200, completion("Hi there"), {
        "x-request-id": "req_provider_1",
        "set-cookie": "provider_session=abc",
        "x-ratelimit-remaining-tokens": "999",
      }),
    );
    const body = { ...HELLO, temperature: 0.2, max_tokens: 64 };
    const seen = await inspect(
      await callWorker(
        chatRequest(body, {
          ip: "203.0.113.7",
          headers: { Authorization: "Bearer client-supplied", Cookie: "site_session=xyz" },
        }),
      ),
    );

    expect(seen.status).toBe(200);
    expect(seen.json).toEqual(completion("Hi there"));
    expect(seen.headers.get("Content-Type")).toBe("application/json");
    expect(seen.headers.get("x-request-id")).not.toBe("req_provider_1"); // the Worker's own id wins
    expect(seen.headers.get("Set-Cookie")).toBeNull();
    expect(seen.headers.get("x-ratelimit-remaining-tokens")).toBeNull();

    expect(provider.calls).toHaveLength(1);
    const call = provider.calls[0]!;
    expect(call.url).toBe(PROVIDER_URL);
    expect(call.method).toBe("POST");
    expect(call.redirect).toBe("manual");
    expect(Object.fromEntries(call.headers)).toEqual({
      authorization: `Bearer ${KEY}`,
      "content-type": "application/json",
      accept: "application/json",
    });
    expect(call.body).toEqual({ ...body, model: "llama-3.3-70b-versatile" });

    expect(logs.lines).toHaveLength(1);
    expect(JSON.parse(logs.lines[0] ?? "")).toMatchObject({
      level: "info",
      path: "/v1/chat/completions",
      status: 200,
      model: "llama-3.3-70b-versatile",
      stream: false,
      upstreamStatus: 200,
    });
  });

  it("relays an answer of declared length whole", async () => {
    const text = JSON.stringify(completion("Hi there"));
    fakeProvider(
      () =>
        new Response(text, {
          headers: { "Content-Type": "application/json", "Content-Length": String(text.length) },
        }),
    );
    const seen = await inspect(await callWorker(chatRequest(HELLO)));
    expect(seen.status).toBe(200);
    expect(seen.text).toBe(text);
  });

  it("answers 502 for an answer declared larger than 4 MiB, without reading it", async () => {
    const body = controlledBody();
    fakeProvider(
      () =>
        new Response(body.body, {
          headers: { "Content-Type": "application/json", "Content-Length": String(5 * 1024 * 1024) },
        }),
    );
    const seen = await inspect(await createWorker().fetch(chatRequest(HELLO), testEnv()));
    expect(seen.status).toBe(502);
    expect(seen.json).toEqual(
      errorBody("provider_error", "The LLM provider's answer exceeds 4194304 bytes", "upstream_error"),
    );
  });

  it("answers 502 for an answer of undeclared length over 4 MiB", async () => {
    const big = new Uint8Array(4 * 1024 * 1024 + 1).fill(0x20);
    fakeProvider(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(big);
              controller.close();
            },
          }),
          { headers: { "Content-Type": "application/json" } },
        ),
    );
    const seen = await inspect(await callWorker(chatRequest(HELLO)));
    expect(seen.status).toBe(502);
    expect(seen.json).toEqual(
      errorBody("provider_error", "The LLM provider's answer exceeds 4194304 bytes", "upstream_error"),
    );
  });

  it("forwards an allowed non-default model as given", async () => {
    const provider = fakeProvider(() => providerJson(200, completion("ok", "llama-3.1-8b-instant")));
    const seen = await inspect(await callWorker(chatRequest({ ...HELLO, model: "llama-3.1-8b-instant" })));
    expect(seen.status).toBe(200);
    expect(provider.calls[0]?.body).toEqual({ ...HELLO, model: "llama-3.1-8b-instant", max_tokens: 2048 });
  });

  it("passes a streamed answer through as a stream: the first event arrives before the provider finishes", async () => {
    let finish!: () => void;
    const providerMayFinish = new Promise<void>((resolve) => (finish = resolve));
    let providerFinished = false;
    const provider = fakeProvider(() => {
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      const writer = writable.getWriter();
      void (async () => {
        await writer.write(encoder.encode(sse("Hel")));
        await providerMayFinish;
        await writer.write(encoder.encode(sse("lo")));
        await writer.write(encoder.encode("data: [DONE]\n\n"));
        providerFinished = true;
        await writer.close();
      })();
      return new Response(readable, {
        status: 200,
        headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" },
      });
    });

    const response = await within(
      callWorker(chatRequest({ ...HELLO, stream: true }, { origin: ALLOWED_ORIGIN })),
      5000,
      "the response head",
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/event-stream");
    expect(response.headers.get("Cache-Control")).toBe("no-cache");
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED_ORIGIN);
    expect(provider.calls[0]?.headers.get("Accept")).toBe("text/event-stream");
    expect(provider.calls[0]?.body).toEqual({
      ...HELLO,
      stream: true,
      model: "llama-3.3-70b-versatile",
      max_tokens: 2048,
    });

    const reader = response.body!.getReader();
    const first = await within(reader.read(), 5000, "the first SSE event");
    expect(providerFinished).toBe(false);
    expect(decoder.decode(first.value)).toBe(sse("Hel"));

    finish();
    let rest = "";
    for (;;) {
      const { done, value } = await within(reader.read(), 5000, "the rest of the stream");
      if (done) break;
      rest += decoder.decode(value, { stream: true });
    }
    expect(providerFinished).toBe(true);
    expect(rest).toBe(`${sse("lo")}data: [DONE]\n\n`);
    expect(rest).not.toContain(KEY);
  });
});
