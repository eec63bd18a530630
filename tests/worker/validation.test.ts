import { describe, expect, it } from "vitest";
import { createWorker } from "../../worker/src/app";
import {
  CHAT_URL,
  HELLO,
  callWorker,
  captureLogs,
  chatRequest,
  errorBody,
  fakeProvider,
  freshIp,
  inspect,
  providerJson,
  completion,
  testEnv,
} from "./helpers";

const long = "x".repeat(16_001);

describe("input checks", () => {
  captureLogs();

  it.each([
    ["text/plain", "unsupported_media_type"],
    ["application/x-www-form-urlencoded", "unsupported_media_type"],
    ["", "unsupported_media_type"],
  ])("refuses Content-Type %j with 415", async (type, code) => {
    const provider = fakeProvider(() => providerJson(200, completion("never")));
    const request = new Request(CHAT_URL, {
      method: "POST",
      headers:
        type === ""
          ? { "CF-Connecting-IP": freshIp() }
          : { "Content-Type": type, "CF-Connecting-IP": freshIp() },
      body: JSON.stringify(HELLO),
    });
    if (type === "") request.headers.delete("Content-Type");
    const seen = await inspect(await callWorker(request));
    expect(seen.status).toBe(415);
    expect(seen.json).toEqual(errorBody(code, "Content-Type must be application/json"));
    expect(provider.calls).toHaveLength(0);
  });

  it("accepts application/json with a charset parameter", async () => {
    fakeProvider(() => providerJson(200, completion("ok")));
    const seen = await inspect(
      await callWorker(
        chatRequest(HELLO, { headers: { "Content-Type": "Application/JSON; charset=utf-8" } }),
      ),
    );
    expect(seen.status).toBe(200);
  });

  it("refuses a body over MAX_BODY_BYTES (declared length) with 413", async () => {
    const seen = await inspect(
      await callWorker(chatRequest({ messages: [{ role: "user", content: "y".repeat(70_000) }] })),
    );
    expect(seen.status).toBe(413);
    expect(seen.json).toEqual(errorBody("body_too_large", "Request body exceeds 65536 bytes"));
  });

  it("refuses a streamed body (no Content-Length) once it passes the limit", async () => {
    const worker = createWorker();
    const chunk = new TextEncoder().encode("a".repeat(400));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1;
        if (sent > 100) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const request = new Request(CHAT_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": freshIp() },
      body,
    });
    expect(request.headers.get("Content-Length")).toBeNull();
    const seen = await inspect(await worker.fetch(request, testEnv({ MAX_BODY_BYTES: "1000" })));
    expect(seen.status).toBe(413);
    expect(seen.json).toEqual(errorBody("body_too_large", "Request body exceeds 1000 bytes"));
    expect(sent).toBeLessThan(10);
  });

  it("refuses a body that cannot be read (the client went away mid-body) with 400, never a 5xx", async () => {
    const provider = fakeProvider(() => providerJson(200, completion("never")));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"messages": ['));
        controller.error(new Error("connection reset"));
      },
    });
    const request = new Request(CHAT_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": freshIp() },
      body,
    });
    const seen = await inspect(await createWorker().fetch(request, testEnv()));
    expect(seen.status).toBe(400);
    expect(seen.json).toEqual(errorBody("invalid_body", "Request body could not be read"));
    expect(provider.calls).toHaveLength(0);
  });

  const role = "system, developer, user, assistant, tool";
  it.each<[string, unknown, string, string, string | null]>([
    ["malformed JSON", '{"messages": [', "invalid_json", "Request body is not valid JSON", null],
    ["a JSON array", "[]", "invalid_body", "Request body must be a JSON object", null],
    [
      "no messages",
      { model: "llama-3.3-70b-versatile" },
      "invalid_messages",
      "messages must be an array",
      "messages",
    ],
    [
      "messages not an array",
      { messages: "hi" },
      "invalid_messages",
      "messages must be an array",
      "messages",
    ],
    ["empty messages", { messages: [] }, "invalid_messages", "messages must not be empty", "messages"],
    [
      "too many messages",
      { messages: Array.from({ length: 65 }, () => ({ role: "user", content: "hi" })) },
      "too_many_messages",
      "messages has 65 entries; at most 64",
      "messages",
    ],
    [
      "a message that is not an object",
      { messages: ["hi"] },
      "invalid_message",
      "messages[0] must be an object",
      "messages[0]",
    ],
    [
      "an unknown role",
      {
        messages: [
          { role: "user", content: "a" },
          { role: "admin", content: "b" },
        ],
      },
      "invalid_role",
      `messages[1].role must be one of ${role}`,
      "messages[1].role",
    ],
    [
      "a missing role",
      { messages: [{ content: "a" }] },
      "invalid_role",
      `messages[0].role must be one of ${role}`,
      "messages[0].role",
    ],
    [
      "a numeric content",
      { messages: [{ role: "user", content: 42 }] },
      "invalid_message",
      "messages[0].content must be a string or an array of text parts",
      "messages[0].content",
    ],
    [
      "a null content from the user",
      { messages: [{ role: "user", content: null }] },
      "invalid_message",
      "messages[0].content must be a string or an array of text parts",
      "messages[0].content",
    ],
    [
      "an image part",
      {
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }],
      },
      "invalid_message",
      'messages[0].content[0] must be {"type": "text", "text": string}',
      "messages[0].content[0]",
    ],
    [
      "a tool message without tool_call_id",
      { messages: [{ role: "tool", content: "42" }] },
      "invalid_message",
      "messages[0].tool_call_id must be a string for role tool",
      "messages[0].tool_call_id",
    ],
    [
      "an over-long message",
      { messages: [{ role: "user", content: long }] },
      "message_too_long",
      "messages[0].content has 16001 characters; at most 16000",
      "messages[0].content",
    ],
    [
      "over-long text parts",
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: long.slice(1) },
              { type: "text", text: "zz" },
            ],
          },
        ],
      },
      "message_too_long",
      "messages[0].content has 16002 characters; at most 16000",
      "messages[0].content",
    ],
    ["a numeric model", { ...HELLO, model: 7 }, "invalid_model", "model must be a non-empty string", "model"],
    [
      "a model off the allow-list",
      { ...HELLO, model: "gpt-4o" },
      "model_not_allowed",
      'model "gpt-4o" is not allowed; allowed: llama-3.3-70b-versatile, llama-3.1-8b-instant',
      "model",
    ],
    [
      "a non-boolean stream",
      { ...HELLO, stream: "yes" },
      "invalid_stream",
      "stream must be a boolean",
      "stream",
    ],
  ])("refuses %s with 400 naming the problem", async (_name, body, code, message, param) => {
    const provider = fakeProvider(() => providerJson(200, completion("never")));
    const seen = await inspect(await callWorker(chatRequest(body)));
    expect(seen.status).toBe(400);
    expect(seen.json).toEqual(errorBody(code, message, "invalid_request_error", param));
    expect(provider.calls).toHaveLength(0);
  });

  it("accepts text parts, an assistant null content and a tool reply", async () => {
    const provider = fakeProvider(() => providerJson(200, completion("ok")));
    const messages = [
      { role: "system", content: [{ type: "text", text: "Be brief." }] },
      { role: "user", content: "What is 6*7?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c1", type: "function", function: { name: "calc", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "c1", content: "42" },
    ];
    const seen = await inspect(await callWorker(chatRequest({ messages })));
    expect(seen.status).toBe(200);
    expect(provider.calls[0]?.body).toEqual({ messages, model: "llama-3.3-70b-versatile", max_tokens: 2048 });
  });
});
