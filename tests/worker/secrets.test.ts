import { describe, expect, it } from "vitest";
import { createWorker } from "../../worker/src/app";
import { SecretScanner, heldPrefixLength, indexOfBytes } from "../../worker/src/scan";
import {
  CHAT_URL,
  HEALTH_URL,
  HELLO,
  KEY,
  callWorker,
  captureLogs,
  chatRequest,
  completion,
  controlledBody,
  errorBody,
  fakeProvider,
  inspect,
  providerJson,
  sse,
  sseErrorEvent,
  sseResponse,
  testEnv,
} from "./helpers";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const WITHHELD_MESSAGE = "The LLM provider's answer carried this service's credentials and was withheld";

/** A body of the given chunks, as a stream the runtime delivers chunk by chunk. */
function chunked(chunks: readonly string[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[next++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(encoder.encode(chunk));
    },
  });
}

/** Reads a streamed response to its end (the text is checked for the key by `inspect`). */
async function streamed(chunks: readonly string[]): Promise<{ text: string; canceled: boolean }> {
  let canceled = false;
  const body = chunked(chunks);
  const reader = body.getReader();
  const tracked = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel() {
      canceled = true;
      return reader.cancel();
    },
  });
  fakeProvider(() => sseResponse(tracked));
  const seen = await inspect(await callWorker(chatRequest({ ...HELLO, stream: true })));
  expect(seen.status).toBe(200);
  return { text: seen.text, canceled };
}

describe("PROVIDER_KEY never leaves the Worker", () => {
  const logs = captureLogs();

  it("is not in any response, header or log line across every kind of answer", async () => {
    const replies = [
      () => providerJson(200, { echo: "ok" }, { "X-Debug-Auth": `Bearer ${KEY}` }),
      () =>
        providerJson(401, { error: { message: `bad key ${KEY}` } }, { "WWW-Authenticate": `Bearer ${KEY}` }),
      () => providerJson(400, { error: `invalid ${KEY}` }),
      () => new Response(`data: ${KEY}\n\n`, { status: 500 }),
    ];
    let next = 0;
    fakeProvider(() => (replies[next++] ?? replies[0]!)());
    const requests = [
      chatRequest(HELLO),
      chatRequest(HELLO),
      chatRequest(HELLO),
      chatRequest(HELLO),
      chatRequest({ messages: [] }),
      chatRequest(HELLO, { origin: "https://evil.example" }),
      new Request(HEALTH_URL),
      new Request(CHAT_URL, {
        method: "OPTIONS",
        headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "POST" },
      }),
    ];
    const statuses: number[] = [];
    for (const request of requests) statuses.push((await inspect(await callWorker(request))).status);
    expect(statuses).toEqual([200, 502, 400, 502, 400, 403, 200, 204]);
    expect(logs.lines).toHaveLength(requests.length);
    for (const line of logs.lines) expect(line).not.toContain(KEY);
  });

  it("passes only allow-listed provider headers, and none that carries the key", async () => {
    fakeProvider(() =>
      providerJson(200, completion("ok"), {
        "Content-Type": `application/json; note=${KEY}`,
        "Cache-Control": "private, max-age=0",
        "Set-Cookie": "provider_session=abc",
        "WWW-Authenticate": `Bearer ${KEY}`,
        "X-Debug-Auth": `Bearer ${KEY}`,
        "X-Request-Id": "req_provider_1",
        Server: "provider/1.0",
      }),
    );
    const seen = await inspect(await callWorker(chatRequest(HELLO)));
    expect(seen.status).toBe(200);
    expect(seen.json).toEqual(completion("ok"));
    expect([...seen.headers.keys()].sort()).toEqual([
      "cache-control",
      "vary",
      "x-content-type-options",
      "x-request-id",
    ]);
    expect(seen.headers.get("Cache-Control")).toBe("private, max-age=0");
    expect(seen.headers.get("X-Request-Id")).not.toBe("req_provider_1");
  });

  it.each([
    ["the key", KEY, false],
    ["Bearer <key>", `Bearer ${KEY}`, false],
    ["the key (declared length)", KEY, true],
    ["Bearer <key> (declared length)", `Bearer ${KEY}`, true],
  ])(
    "withholds a 2xx JSON answer carrying %s: 502, nothing of the answer",
    async (_name, secret, declared) => {
      const text = JSON.stringify(completion(`Your header was Authorization: ${secret}`));
      const length: Record<string, string> = declared ? { "Content-Length": String(text.length) } : {};
      fakeProvider(() => new Response(text, { headers: { "Content-Type": "application/json", ...length } }));
      const seen = await inspect(await callWorker(chatRequest(HELLO)));
      expect(seen.status).toBe(502);
      expect(seen.json).toEqual(errorBody("provider_answer_withheld", WITHHELD_MESSAGE, "upstream_error"));
      expect(JSON.parse(logs.lines.at(-1) ?? "")).toMatchObject({
        status: 502,
        upstreamStatus: 200,
        error: "provider_answer_withheld",
      });
    },
  );

  it("withholds a 2xx JSON answer whose key is split over every pair of chunks", async () => {
    const text = JSON.stringify(completion(`leak: Bearer ${KEY} end`));
    const at = text.indexOf(KEY);
    for (let split = at + 1; split < at + KEY.length; split += 1) {
      fakeProvider(
        () =>
          new Response(chunked([text.slice(0, split), text.slice(split)]), {
            headers: { "Content-Type": "application/json" },
          }),
      );
      const seen = await inspect(await callWorker(chatRequest(HELLO)));
      expect(seen.status).toBe(502);
    }
  });

  it("cuts a stream carrying the key with an SSE error event, and cancels the provider's stream", async () => {
    const { text, canceled } = await streamed([sse("Hel"), sse("lo"), sse(`Bearer ${KEY}`), sse("never")]);
    expect(text).toBe(
      `${sse("Hel")}${sse("lo")}${sseErrorEvent("provider_answer_withheld", WITHHELD_MESSAGE)}`,
    );
    expect(canceled).toBe(true);
    expect(JSON.parse(logs.lines.at(-1) ?? "")).toMatchObject({ level: "warn", end: "key_withheld" });
  });

  it("finds the key split across two chunks at every position, letting no part of it out", async () => {
    for (let split = 1; split < KEY.length; split += 1) {
      const before = `data: {"choices":[{"delta":{"content":"Bearer `;
      const { text, canceled } = await streamed([
        sse("Hel"),
        `${before}${KEY.slice(0, split)}`,
        `${KEY.slice(split)}"}}]}\n\n`,
        sse("never"),
      ]);
      expect(text).toBe(
        `${sse("Hel")}${before}${sseErrorEvent("provider_answer_withheld", WITHHELD_MESSAGE)}`,
      );
      expect(canceled).toBe(true);
    }
  });

  it("finds the key sent one byte per chunk", async () => {
    const body = `${sse("Hel")}${sse(`the key is ${KEY}!`)}`;
    const { text } = await streamed([...body]);
    expect(text).toBe(
      `${body.slice(0, body.indexOf(KEY))}${sseErrorEvent("provider_answer_withheld", WITHHELD_MESSAGE)}`,
    );
  });

  it("passes on text that only starts like the key, including at the very end of the stream", async () => {
    const almost = KEY.slice(0, -1);
    const chunks = [sse("Hel"), `data: {"x":"${almost}`, `?"}\n\n`, `data: "${KEY.slice(0, 6)}`];
    const { text, canceled } = await streamed(chunks);
    expect(text).toBe(chunks.join(""));
    expect(canceled).toBe(false);
  });

  it("withholds the start of the key when a stream ends on it", async () => {
    const { text, canceled } = await streamed([sse("Hel"), `data: {"x":"Bearer ${KEY.slice(0, -1)}`]);
    expect(text).toBe(
      `${sse("Hel")}data: {"x":"Bearer ${sseErrorEvent("provider_answer_withheld", WITHHELD_MESSAGE)}`,
    );
    expect(text).not.toContain(KEY.slice(0, 7));
    expect(canceled).toBe(false);
  });

  it("withholds the start of the key when a stream goes silent on it", async () => {
    const body = controlledBody();
    fakeProvider(() => sseResponse(body.body));
    const response = await createWorker().fetch(
      chatRequest({ ...HELLO, stream: true }),
      testEnv({ STREAM_IDLE_TIMEOUT_MS: "30" }),
    );
    body.write(`${sse("Hel")}data: ${KEY.slice(0, 20)}`);
    const seen = await inspect(response);
    expect(seen.text).toBe(
      `${sse("Hel")}data: ${sseErrorEvent("provider_answer_withheld", WITHHELD_MESSAGE)}`,
    );
    await body.canceled;
  });

  it("relays a stream chunk by chunk: an event that ends a chunk is not held back", async () => {
    // Called in the test's own context: the test writes the provider's stream as the Worker reads it.
    const provider = controlledBody();
    fakeProvider(() => sseResponse(provider.body));
    const response = await createWorker().fetch(chatRequest({ ...HELLO, stream: true }), testEnv());
    const reader = response.body!.getReader();
    provider.write(sse("Hel"));
    expect(decoder.decode((await reader.read()).value)).toBe(sse("Hel"));
    provider.write(`${sse("lo")}data: ${KEY.slice(0, 5)}`);
    expect(decoder.decode((await reader.read()).value)).toBe(`${sse("lo")}data: `);
    provider.write(" not it\n\n");
    expect(decoder.decode((await reader.read()).value)).toBe(`${KEY.slice(0, 5)} not it\n\n`);
    provider.close();
    expect((await reader.read()).done).toBe(true);
  });

  it("redacts the key from an unexpected error's log line", async () => {
    const worker = createWorker();
    const env = testEnv();
    Object.defineProperty(env, "VERSION", {
      get: () => {
        throw new Error(`config exploded near ${KEY}`);
      },
    });
    const seen = await inspect(await worker.fetch(chatRequest(HELLO), env));
    expect(seen.status).toBe(500);
    const requestId = seen.headers.get("X-Request-Id");
    expect(seen.json).toEqual({
      error: {
        message: `Internal error (request ${requestId})`,
        type: "server_error",
        code: "internal_error",
        param: null,
      },
    });
    expect(logs.lines).toHaveLength(2);
    expect(JSON.parse(logs.lines[0] ?? "")).toEqual({
      level: "error",
      message: "unhandled error",
      requestId,
      error: "Error: config exploded near [redacted]",
    });
    expect(JSON.parse(logs.lines[1] ?? "")).toMatchObject({ level: "error", status: 500, requestId });
  });
});

describe("SecretScanner", () => {
  const secret = encoder.encode("abcab-secret");

  it("finds bytes and the longest held-back prefix", () => {
    expect(indexOfBytes(encoder.encode("xxabcab-secretyy"), secret)).toBe(2);
    expect(indexOfBytes(encoder.encode("abcab-secre"), secret)).toBe(-1);
    expect(heldPrefixLength(encoder.encode("xx abcab"), secret)).toBe(5);
    expect(heldPrefixLength(encoder.encode("xx abcab-secre"), secret)).toBe(11);
    expect(heldPrefixLength(encoder.encode("xx ab"), secret)).toBe(2);
    expect(heldPrefixLength(encoder.encode("xx abd"), secret)).toBe(0);
  });

  it("never emits the secret or a prefix that becomes it, over 500 pseudo-random chunkings", () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (let round = 0; round < 500; round += 1) {
      const leak = round % 3 !== 0;
      const text = `data: ab abcab-sec ${leak ? "abcab-secret" : "abcab-secrex"} tail abca`;
      const scanner = new SecretScanner(secret);
      let out = "";
      let found = false;
      for (let at = 0; at < text.length && !found;) {
        const size = 1 + random(8);
        const safe = scanner.push(encoder.encode(text.slice(at, at + size)));
        at += size;
        if (safe === null) found = true;
        else out += decoder.decode(safe);
      }
      if (!found) out += decoder.decode(scanner.flush());
      expect(found).toBe(leak);
      if (leak) expect(out).toBe(text.slice(0, text.indexOf("abcab-secret")).slice(0, out.length));
      else expect(out).toBe(text);
      expect(out).not.toContain("abcab-secret");
      if (leak) expect(text.indexOf("abcab-secret")).toBeGreaterThanOrEqual(out.length);
    }
  });
});
