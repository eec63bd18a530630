/**
 * The call to the LLM provider and everything that comes back from it. Only this module sees the
 * key in a request, and nothing the provider sends reaches the client unchecked: headers pass an
 * allow-list, error bodies are replaced by the Worker's own messages, and 2xx bodies are scanned for
 * the key (and so for `Bearer <key>`), a stream across its chunk boundaries.
 */
import type { ApiError } from "./http";
import { SecretScanner, indexOfBytes } from "./scan";

/** Provider response headers passed on to the client (allow-list); the rest is dropped. */
const PASSED_HEADERS = ["content-type", "cache-control"] as const;

/** The largest non-streamed 2xx answer relayed (bytes); the Worker buffers it to scan it whole. */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** The most of a provider error body read, to find the field it names. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

const TIMEOUT = Symbol("timeout");

/** The most bytes of the key's start a stream may end with (formats share prefixes like "gsk_"). */
const HARMLESS_KEY_PREFIX = 6;

/** Cancels a body or reader nobody will read, ignoring a failure to. */
function discard(stream: ReadableStream | ReadableStreamDefaultReader | null): void {
  void stream?.cancel().catch(() => undefined);
}

/** `promise`, or TIMEOUT if it has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer!: ReturnType<typeof setTimeout>;
  const timeout = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMEOUT);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface ProviderCall {
  readonly url: string;
  readonly key: string;
  /** The request body, serialised. */
  readonly body: string;
  readonly stream: boolean;
  /** Time allowed until a streamed answer's headers, or until a non-streamed answer is complete. */
  readonly timeoutMs: number;
  /** The client's request signal: a disconnect aborts the provider call. */
  readonly signal?: AbortSignal;
}

/** A provider call that answered: its response, and the deadline still running over its body. */
export interface Exchange {
  readonly upstream: Response;
  /** Aborts the call, and with it the response body. */
  readonly abort: () => void;
  /** Stops the deadline (the body is read, or handed to the idle timers of a stream). */
  readonly settle: () => void;
  readonly timedOut: () => boolean;
}

export type ProviderOutcome =
  ({ readonly kind: "response" } & Exchange) | { readonly kind: "timeout" | "unreachable" | "client_gone" };

/**
 * Sends the chat request to the provider with the key. One timer per call: at the deadline it aborts
 * the call, which rejects the fetch or, once the headers are in, the read of the body.
 */
export async function callProvider(call: ProviderCall, fetchImpl: typeof fetch): Promise<ProviderOutcome> {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  const client = call.signal;
  if (client?.aborted === true) return { kind: "client_gone" };
  client?.addEventListener("abort", abort);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort();
  }, call.timeoutMs);
  const settle = (): void => clearTimeout(timer);
  try {
    const upstream = await fetchImpl(call.url, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${call.key}`,
        "Content-Type": "application/json",
        Accept: call.stream ? "text/event-stream" : "application/json",
      },
      body: call.body,
      // Never follow a redirect: it would carry the request (and the key) somewhere else.
      redirect: "manual",
      signal: controller.signal,
    });
    return { kind: "response", upstream, abort, settle, timedOut: () => timedOut };
  } catch {
    settle();
    // The error text may quote the request: never passed on, never logged.
    return { kind: timedOut ? "timeout" : controller.signal.aborted ? "client_gone" : "unreachable" };
  }
}

/** The allow-listed headers of a provider response, minus any whose value carries the key. */
export function passedHeaders(upstream: Response, key: string): Record<string, string> {
  const passed: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null && !value.includes(key)) passed[name] = value;
  }
  return passed;
}

type ReadResult = { ok: true; bytes: Uint8Array } | { ok: false; error: ApiError };

/**
 * Reads an answer's body whole, in one native call, within the exchange's deadline, and at most `max`
 * bytes (a longer declared length is refused unread). A non-streamed answer is small: its tokens are
 * capped by MAX_OUTPUT_TOKENS and MAX_N.
 */
async function readAll(exchange: Exchange, max: number): Promise<ReadResult> {
  const response = exchange.upstream;
  try {
    if (Number(response.headers.get("Content-Length")) > max) {
      exchange.abort();
      return { ok: false, error: ANSWER_TOO_LARGE };
    }
    const whole = await response.arrayBuffer();
    return whole.byteLength > max
      ? { ok: false, error: ANSWER_TOO_LARGE }
      : { ok: true, bytes: new Uint8Array(whole) };
  } catch {
    return { ok: false, error: exchange.timedOut() ? PROVIDER_TIMEOUT : PROVIDER_STREAM_FAILED };
  } finally {
    exchange.settle();
  }
}

/**
 * A non-streamed 2xx answer: read whole (so a leak is answered with a clean 502 rather than a cut
 * body), scanned for the key, then relayed.
 */
export async function relayAnswer(exchange: Exchange, keyBytes: Uint8Array): Promise<ReadResult> {
  const read = await readAll(exchange, MAX_ANSWER_BYTES);
  if (read.ok && indexOfBytes(read.bytes, keyBytes) !== -1) return { ok: false, error: ANSWER_WITHHELD };
  return read;
}

const encoder = new TextEncoder();

export type StreamEnd = "done" | "key_withheld" | "idle_timeout" | "failed" | "client_gone";

/** An SSE event carrying an OpenAI-style error; OpenAI clients raise `data.error` as an API error. */
export function sseError(error: ApiError): Uint8Array {
  const body = { error: { message: error.message, type: error.type, code: error.code, param: null } };
  return encoder.encode(`\n\nevent: error\ndata: ${JSON.stringify(body)}\n\n`);
}

/**
 * A streamed 2xx answer (server-sent events), relayed chunk by chunk as the client reads: scanned
 * for the key across chunk boundaries, with at most `idleMs` of silence between chunks. A leak or a
 * silent provider ends the stream with an SSE error event and cancels the provider's stream; a
 * client that stops reading (disconnects) cancels it too.
 */
export function relayStream(
  upstream: Response,
  keyBytes: Uint8Array,
  idleMs: number,
  abortUpstream: () => void,
  onEnd: (end: StreamEnd) => void,
): ReadableStream<Uint8Array> {
  const body = upstream.body;
  if (body === null) return new ReadableStream({ start: (controller) => controller.close() });
  const reader = body.getReader();
  const scanner = new SecretScanner(keyBytes);
  const stop = (): void => {
    abortUpstream();
    discard(reader);
  };
  type Controller = ReadableStreamDefaultController<Uint8Array>;
  const finish = (controller: Controller, end: StreamEnd, ...chunks: Uint8Array[]): void => {
    for (const chunk of chunks) if (chunk.length > 0) controller.enqueue(chunk);
    controller.close();
    onEnd(end);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Loop until something can be enqueued: a pull that enqueues nothing is not called again.
        for (;;) {
          let result: ReadableStreamReadResult<Uint8Array> | typeof TIMEOUT;
          try {
            result = await within(reader.read(), idleMs);
          } catch {
            return finish(controller, "failed", sseError(PROVIDER_STREAM_FAILED));
          }
          if (result === TIMEOUT || result.done) {
            if (result === TIMEOUT) stop();
            // Bytes held back at the end are the start of the key: a stream that stops there would
            // leak that much of it. A few are let through (an answer may end like the key starts).
            const held = scanner.flush();
            if (held.length > HARMLESS_KEY_PREFIX) {
              return finish(controller, "key_withheld", sseError(ANSWER_WITHHELD));
            }
            return result === TIMEOUT
              ? finish(controller, "idle_timeout", held, sseError(PROVIDER_STREAM_IDLE))
              : finish(controller, "done", held);
          }
          const safe = scanner.push(result.value);
          if (safe === null) {
            stop();
            return finish(controller, "key_withheld", sseError(ANSWER_WITHHELD));
          }
          if (safe.length > 0) return controller.enqueue(safe);
        }
      },
      cancel() {
        stop();
        onEnd("client_gone");
      },
    },
    // Pull only when the client reads: back-pressure reaches the provider, nothing is read ahead.
    { highWaterMark: 0 },
  );
}

/** The field an OpenAI-style error body names (`error.param`), when it is one the Worker forwards. */
async function namedParam(exchange: Exchange, fields: ReadonlySet<string>): Promise<string | undefined> {
  const read = await readAll(exchange, MAX_ERROR_BODY_BYTES);
  if (!read.ok) return undefined;
  try {
    const body: unknown = JSON.parse(new TextDecoder().decode(read.bytes));
    const error = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined;
    const param =
      typeof error === "object" && error !== null ? (error as { param?: unknown }).param : undefined;
    return typeof param === "string" && fields.has(param) ? param : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Maps a provider error status to the client-facing error. No text of the provider's body or headers
 * is ever passed on (a key can hide in it in forms no redaction finds): every message is the Worker's
 * own, and a 4xx names at most the request field the provider objected to, from the Worker's own list.
 */
export async function mapProviderError(exchange: Exchange, fields: ReadonlySet<string>): Promise<ApiError> {
  const { upstream } = exchange;
  const status = upstream.status;
  if (status < 400 || status > 499 || status === 401 || status === 403 || status === 429) {
    exchange.settle();
    discard(upstream.body);
  }
  if (status === 401 || status === 403) {
    return upstreamError(
      502,
      "provider_auth_failed",
      "The LLM provider rejected this service's credentials; the operator must check PROVIDER_KEY",
    );
  }
  if (status === 429) {
    const retryAfter = upstream.headers.get("Retry-After");
    const seconds = retryAfter !== null && /^[0-9]{1,6}$/.test(retryAfter.trim()) ? retryAfter.trim() : "1";
    return {
      status: 429,
      type: "rate_limit_error",
      code: "provider_rate_limited",
      message: "The LLM provider is rate limiting this service; retry later",
      headers: { "Retry-After": seconds },
    };
  }
  if (status >= 500 || status < 400) {
    return upstreamError(
      status === 504 ? 504 : 502,
      status === 504 ? "provider_timeout" : "provider_error",
      `The LLM provider failed (HTTP ${status}); retry later`,
    );
  }
  const param = await namedParam(exchange, fields);
  return {
    status: 400,
    type: "invalid_request_error",
    code: "provider_rejected_request",
    message:
      param === undefined
        ? `The LLM provider rejected the request (HTTP ${status})`
        : `The LLM provider rejected the request (HTTP ${status}); check ${param}`,
    ...(param === undefined ? {} : { param }),
  };
}

const upstreamError = (status: number, code: string, message: string): ApiError => ({
  status,
  type: "upstream_error",
  code,
  message,
});

export const PROVIDER_UNREACHABLE = upstreamError(
  502,
  "provider_unreachable",
  "The LLM provider could not be reached; retry later",
);
export const PROVIDER_TIMEOUT = upstreamError(
  504,
  "provider_timeout",
  "The LLM provider did not answer in time; retry later",
);
export const PROVIDER_STREAM_IDLE = upstreamError(
  504,
  "provider_timeout",
  "The LLM provider stopped sending; the answer is incomplete",
);
export const PROVIDER_STREAM_FAILED = upstreamError(
  502,
  "provider_error",
  "The LLM provider's answer broke off; the answer is incomplete",
);
export const ANSWER_TOO_LARGE = upstreamError(
  502,
  "provider_error",
  `The LLM provider's answer exceeds ${MAX_ANSWER_BYTES} bytes`,
);
export const ANSWER_WITHHELD = upstreamError(
  502,
  "provider_answer_withheld",
  "The LLM provider's answer carried this service's credentials and was withheld",
);

/** Status of a request whose client went away before the answer (never seen by anyone; for the log). */
export const CLIENT_GONE: ApiError = {
  status: 499,
  type: "invalid_request_error",
  code: "client_disconnected",
  message: "The client disconnected",
};
