import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, expect, vi, type MockInstance } from "vitest";
import type { WorkerEnv } from "../../worker/src/env";

/** The key the vitest config binds as PROVIDER_KEY. */
export const KEY: string = (() => {
  const key = env.PROVIDER_KEY;
  if (key === undefined || key.length < 20)
    throw new Error("tests need PROVIDER_KEY bound by worker/vitest.config.ts");
  return key;
})();

export const PROVIDER_URL = "https://provider.test/openai/v1/chat/completions";
export const ALLOWED_ORIGIN = "https://app.example.com";
export const CHAT_URL = "https://proxy.test/v1/chat/completions";
export const HEALTH_URL = "https://proxy.test/health";

/** The Worker's environment as bound by the test config, with overrides. */
export function testEnv(overrides: Partial<WorkerEnv> = {}): WorkerEnv {
  return { ...env, ...overrides };
}

let ipCounter = 0;
/** A client IP no other test uses, so rate-limit counters never collide. */
export function freshIp(): string {
  ipCounter += 1;
  return `198.51.${Math.floor(ipCounter / 250) % 250}.${(ipCounter % 250) + 1}`;
}

let v6Counter = 0;
/** A client IPv6 /64 no other test uses (2001:db8:<n>:<n>::/64), as its first four groups. */
export function freshV6Prefix(): string {
  v6Counter += 1;
  return `2001:db8:${v6Counter.toString(16)}:${(v6Counter * 7).toString(16)}`;
}

export interface ChatOptions {
  origin?: string;
  ip?: string;
  headers?: Record<string, string>;
}

export function chatRequest(body: unknown, options: ChatOptions = {}): Request {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "CF-Connecting-IP": options.ip ?? freshIp(),
    ...options.headers,
  };
  if (options.origin !== undefined) headers.Origin = options.origin;
  return new Request(CHAT_URL, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export const HELLO = { messages: [{ role: "user", content: "Hello" }] };

/** Calls the deployed entry point (the module's default export) through the runtime. */
export function callWorker(request: Request): Promise<Response> {
  return exports.default.fetch(request);
}

export interface Seen {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body (undefined when the body is not JSON). */
  json: unknown;
}

/** Reads a response in full and asserts the key is nowhere in its headers or body. */
export async function inspect(response: Response): Promise<Seen> {
  const text = await response.text();
  expect(text).not.toContain(KEY);
  for (const [name, value] of response.headers) {
    expect(`${name}: ${value}`).not.toContain(KEY);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The OpenAI-style error body the Worker answers with. */
export function errorBody(
  code: string,
  message: string,
  type = "invalid_request_error",
  param: string | null = null,
) {
  return { error: { message, type, code, param } };
}

export interface ProviderCall {
  url: string;
  method: string;
  headers: Headers;
  body: unknown;
  redirect: string | undefined;
  /** The signal the Worker gave fetch (a timeout or a client disconnect aborts it). */
  signal: AbortSignal | undefined;
}

export type ProviderReply = (call: ProviderCall) => Response | Promise<Response>;

/**
 * The fake LLM provider: replaces the global fetch (the Worker runs in the tests' isolate), records
 * every outbound call and answers with `reply`. Any URL other than the provider's fails the test.
 */
export function fakeProvider(reply: ProviderReply): { calls: ProviderCall[] } {
  const calls: ProviderCall[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const text = await request.text();
    const call: ProviderCall = {
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: text === "" ? undefined : JSON.parse(text),
      redirect: init?.redirect,
      signal: init?.signal ?? undefined,
    };
    calls.push(call);
    if (call.url !== PROVIDER_URL) throw new Error(`unexpected outbound fetch to ${call.url}`);
    return abortable(await reply(call), call.signal);
  });
  return { calls };
}

/**
 * The response as a real fetch gives it: once the call's signal aborts, reading the body fails and
 * the provider's side of it is cancelled (the connection closes).
 */
function abortable(response: Response, signal: AbortSignal | undefined): Response {
  if (signal === undefined || response.body === null) return response;
  const reader = response.body.getReader();
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      void reader.cancel().catch(() => undefined);
      reject(new DOMException("The operation was aborted", "AbortError"));
    };
  });
  aborted.catch(() => undefined);
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort);
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await Promise.race([reader.read(), aborted]);
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

export function completion(content: string, model = "llama-3.3-70b-versatile") {
  return {
    id: "chatcmpl-test",
    object: "chat.completion",
    created: 1_790_000_000,
    model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  };
}

export function providerJson(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/**
 * Captures every console line the Worker writes during a test, and fails the test if any of them
 * carries the key. Returns the captured lines for assertions.
 */
export function captureLogs(): { lines: string[] } {
  const captured = { lines: [] as string[] };
  let spies: MockInstance[] = [];
  beforeEach(() => {
    captured.lines.length = 0;
    spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        captured.lines.push(
          args.map((arg) => (typeof arg === "string" ? arg : JSON.stringify(arg))).join(" "),
        );
      }),
    );
  });
  afterEach(() => {
    for (const line of captured.lines) expect(line).not.toContain(KEY);
    for (const spy of spies) spy.mockRestore();
    vi.restoreAllMocks();
  });
  return captured;
}

/** A provider that accepts the request and never answers; like a real fetch, it rejects once aborted. */
export function neverAnswers(call: ProviderCall): Promise<Response> {
  return new Promise((_, reject) => {
    call.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
  });
}

const streamEncoder = new TextEncoder();

/**
 * A provider body the test writes chunk by chunk. `canceled` resolves when the Worker cancels it
 * (a cut stream, a client that went away).
 */
export function controlledBody(): {
  body: ReadableStream<Uint8Array>;
  write: (text: string) => void;
  close: () => void;
  canceled: Promise<void>;
  isCanceled: () => boolean;
} {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let markCanceled!: () => void;
  let wasCanceled = false;
  const canceled = new Promise<void>((resolve) => (markCanceled = resolve));
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      wasCanceled = true;
      markCanceled();
    },
  });
  return {
    body,
    write: (text) => controller.enqueue(streamEncoder.encode(text)),
    close: () => controller.close(),
    canceled,
    isCanceled: () => wasCanceled,
  };
}

export function sseResponse(body: ReadableStream<Uint8Array> | string, headers: Record<string, string> = {}) {
  return new Response(body, {
    status: 200,
    headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", ...headers },
  });
}

export function sse(delta: string): string {
  return `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: delta } }] })}\n\n`;
}

/** The SSE error event the Worker ends a cut stream with. */
export function sseErrorEvent(code: string, message: string, type = "upstream_error"): string {
  return `\n\nevent: error\ndata: ${JSON.stringify({ error: { message, type, code, param: null } })}\n\n`;
}

/** A KV namespace that counts reads and writes and answers from `values` (or fails, when asked). */
export function countingKv(
  values: Record<string, string> = {},
  options: { fail?: boolean } = {},
): { kv: KVNamespace; gets: string[]; puts: string[] } {
  const gets: string[] = [];
  const puts: string[] = [];
  const kv = {
    get: async (key: string) => {
      gets.push(key);
      if (options.fail === true) throw new Error("KV is unavailable");
      return values[key] ?? null;
    },
    put: async (key: string) => {
      puts.push(key);
    },
    delete: async (key: string) => {
      puts.push(key);
    },
  } as unknown as KVNamespace;
  return { kv, gets, puts };
}
