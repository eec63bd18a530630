import { describe, expect, it } from "vitest";
import { createWorker } from "../../worker/src/app";
import {
  HELLO,
  KEY,
  captureLogs,
  chatRequest,
  completion,
  controlledBody,
  errorBody,
  fakeProvider,
  inspect,
  neverAnswers,
  providerJson,
  sse,
  sseErrorEvent,
  sseResponse,
  testEnv,
} from "./helpers";

const decoder = new TextDecoder();

// Short timeouts, so a test waits milliseconds for the Worker to give up; the tests never measure
// time, they only check what the Worker does once a timer has fired.
const SHORT = { PROVIDER_TIMEOUT_MS: "30", STREAM_IDLE_TIMEOUT_MS: "30" };

describe("timeouts and disconnects", () => {
  const logs = captureLogs();

  it("answers 504 JSON when the provider sends no response headers within PROVIDER_TIMEOUT_MS, and aborts the call", async () => {
    const provider = fakeProvider(neverAnswers);
    const seen = await inspect(await createWorker().fetch(chatRequest(HELLO), testEnv(SHORT)));
    expect(seen.status).toBe(504);
    expect(seen.json).toEqual(
      errorBody("provider_timeout", "The LLM provider did not answer in time; retry later", "upstream_error"),
    );
    expect(provider.calls[0]?.signal?.aborted).toBe(true);
    expect(JSON.parse(logs.lines.at(-1) ?? "")).toMatchObject({ status: 504, provider: "timeout" });
  });

  it.each([
    ["of unknown length", {}],
    ["of declared length", { "Content-Length": "400" }],
  ])(
    "answers 504 JSON when a non-streamed answer %s stalls past PROVIDER_TIMEOUT_MS, and aborts the call",
    async (_name, length) => {
      const body = controlledBody();
      const provider = fakeProvider(
        () => new Response(body.body, { headers: { "Content-Type": "application/json", ...length } }),
      );
      const pending = createWorker().fetch(chatRequest(HELLO), testEnv(SHORT));
      body.write('{"id": "chatcmpl-1", "choices": [');
      const seen = await inspect(await pending);
      expect(seen.status).toBe(504);
      expect(seen.json).toEqual(
        errorBody(
          "provider_timeout",
          "The LLM provider did not answer in time; retry later",
          "upstream_error",
        ),
      );
      expect(provider.calls[0]?.signal?.aborted).toBe(true);
      await body.canceled;
    },
  );

  it("ends a stream that goes silent with an SSE error event, and cancels the provider's stream", async () => {
    const body = controlledBody();
    fakeProvider(() => sseResponse(body.body));
    const response = await createWorker().fetch(chatRequest({ ...HELLO, stream: true }), testEnv(SHORT));
    expect(response.status).toBe(200);
    body.write(sse("Hel"));
    const seen = await inspect(response);
    expect(seen.text).toBe(
      `${sse("Hel")}${sseErrorEvent("provider_timeout", "The LLM provider stopped sending; the answer is incomplete")}`,
    );
    await body.canceled;
    expect(JSON.parse(logs.lines.at(-1) ?? "")).toMatchObject({ level: "warn", end: "idle_timeout" });
  });

  it("ends a stream that breaks off with an SSE error event", async () => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const broken = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
    });
    fakeProvider(() => sseResponse(broken));
    const response = await createWorker().fetch(chatRequest({ ...HELLO, stream: true }), testEnv());
    const reader = response.body!.getReader();
    controller.enqueue(new TextEncoder().encode(sse("Hel")));
    expect(decoder.decode((await reader.read()).value)).toBe(sse("Hel"));
    controller.error(new Error(`connection reset (Authorization: Bearer ${KEY})`));
    const rest = decoder.decode((await reader.read()).value);
    expect(rest).toBe(
      sseErrorEvent("provider_error", "The LLM provider's answer broke off; the answer is incomplete"),
    );
    expect((await reader.read()).done).toBe(true);
    expect(JSON.parse(logs.lines.at(-1) ?? "")).toMatchObject({ level: "warn", end: "failed" });
  });

  it("keeps a slow but live stream open: each chunk restarts the idle timer", async () => {
    const body = controlledBody();
    fakeProvider(() => sseResponse(body.body));
    const response = await createWorker().fetch(
      chatRequest({ ...HELLO, stream: true }),
      testEnv({ STREAM_IDLE_TIMEOUT_MS: "60000" }),
    );
    const reader = response.body!.getReader();
    for (const delta of ["a", "b", "c"]) {
      body.write(sse(delta));
      expect(decoder.decode((await reader.read()).value)).toBe(sse(delta));
    }
    body.close();
    expect((await reader.read()).done).toBe(true);
    expect(body.isCanceled()).toBe(false);
  });

  it("cancels the provider's stream when the client stops reading (disconnects)", async () => {
    const body = controlledBody();
    fakeProvider(() => sseResponse(body.body));
    const response = await createWorker().fetch(chatRequest({ ...HELLO, stream: true }), testEnv());
    const reader = response.body!.getReader();
    body.write(sse("Hel"));
    expect(decoder.decode((await reader.read()).value)).toBe(sse("Hel"));
    await reader.cancel();
    await body.canceled;
    expect(JSON.parse(logs.lines.at(-1) ?? "")).toMatchObject({ level: "warn", end: "client_gone" });
  });

  it("aborts the provider call when the client disconnects before the answer (request.signal)", async () => {
    const provider = fakeProvider(neverAnswers);
    const client = new AbortController();
    const request = new Request(chatRequest(HELLO), { signal: client.signal });
    const pending = createWorker().fetch(request, testEnv());
    // Abort once the provider has been called (the fake records the call before answering).
    await expect.poll(() => provider.calls.length).toBe(1);
    client.abort();
    const seen = await inspect(await pending);
    expect(seen.status).toBe(499);
    expect(provider.calls[0]?.signal?.aborted).toBe(true);
    expect(JSON.parse(logs.lines.at(-1) ?? "")).toMatchObject({ status: 499, provider: "client_gone" });
  });

  it("does not call the provider for a client that is already gone", async () => {
    const provider = fakeProvider(() => providerJson(200, completion("never")));
    const client = new AbortController();
    client.abort();
    const request = new Request(chatRequest(HELLO), { signal: client.signal });
    const seen = await inspect(await createWorker().fetch(request, testEnv()));
    expect(seen.status).toBe(499);
    expect(provider.calls).toHaveLength(0);
  });
});
