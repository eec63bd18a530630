import type { WorkerConfig } from "./config";
import { invalid, type ApiError } from "./http";
import { concat } from "./scan";

export const ROLES = ["system", "developer", "user", "assistant", "tool"] as const;

export interface ChatRequest {
  /** The request body as sent on to the provider: the client's object with `model` filled in. */
  readonly body: Record<string, unknown> & { model: string; messages: unknown[] };
  readonly model: string;
  readonly stream: boolean;
}

type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

const fail = (error: ApiError): { ok: false; error: ApiError } => ({ ok: false, error });

/** application/json, with optional parameters such as charset=utf-8. */
export function checkContentType(request: Request): ApiError | undefined {
  const type = (request.headers.get("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type === "application/json") return undefined;
  return invalid("unsupported_media_type", "Content-Type must be application/json", undefined, 415);
}

function tooLarge(max: number): ApiError {
  return invalid("body_too_large", `Request body exceeds ${max} bytes`, undefined, 413);
}

// Not fatal: an invalid UTF-8 sequence becomes U+FFFD, as in `request.text()`; JSON.parse judges the rest.
const UTF8 = new TextDecoder();
const UNREADABLE = fail(invalid("invalid_body", "Request body could not be read"));

/**
 * Reads the body, refusing (without reading further) once it exceeds `max` bytes. Never rejects: a
 * body that cannot be read (the client went away) is an error result.
 */
export async function readBody(request: Request, max: number): Promise<Result<string>> {
  try {
    const declared = request.headers.get("Content-Length");
    if (declared !== null) {
      if (Number(declared) > max) return fail(tooLarge(max));
      // The runtime holds a body to its declared length: within the limit, it is read whole, natively.
      return { ok: true, value: await request.text() };
    }
    if (request.body === null) return { ok: true, value: "" };
    const reader = request.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        await reader.cancel();
        return fail(tooLarge(max));
      }
      chunks.push(value);
    }
    return { ok: true, value: UTF8.decode(concat(chunks, size)) };
  } catch {
    return UNREADABLE;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Length in characters of a message's content, or an error for a content of the wrong shape. */
function contentLength(content: unknown, role: string, param: string): Result<number> {
  if (typeof content === "string") return { ok: true, value: content.length };
  if (content === null && role === "assistant") return { ok: true, value: 0 };
  if (Array.isArray(content)) {
    let total = 0;
    for (const [index, part] of content.entries()) {
      if (!isRecord(part) || part.type !== "text" || typeof part.text !== "string") {
        return fail(
          invalid(
            "invalid_message",
            `${param}[${index}] must be {"type": "text", "text": string}`,
            `${param}[${index}]`,
          ),
        );
      }
      total += part.text.length;
    }
    return { ok: true, value: total };
  }
  return fail(invalid("invalid_message", `${param} must be a string or an array of text parts`, param));
}

/** Checks the JSON shape of a chat-completions request against the limits and the model allow-list. */
export function validateChatRequest(text: string, config: WorkerConfig): Result<ChatRequest> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail(invalid("invalid_json", "Request body is not valid JSON"));
  }
  if (!isRecord(parsed)) return fail(invalid("invalid_body", "Request body must be a JSON object"));
  for (const field in parsed) {
    if (!config.allowedBodyFields.has(field)) {
      return fail(invalid("unsupported_parameter", `Request body field "${field}" is not supported`, field));
    }
  }

  const messages = parsed.messages;
  if (!Array.isArray(messages)) {
    return fail(invalid("invalid_messages", "messages must be an array", "messages"));
  }
  if (messages.length === 0) {
    return fail(invalid("invalid_messages", "messages must not be empty", "messages"));
  }
  if (messages.length > config.maxMessages) {
    return fail(
      invalid(
        "too_many_messages",
        `messages has ${messages.length} entries; at most ${config.maxMessages}`,
        "messages",
      ),
    );
  }
  for (const [index, message] of messages.entries()) {
    const param = `messages[${index}]`;
    if (!isRecord(message)) return fail(invalid("invalid_message", `${param} must be an object`, param));
    const role = message.role;
    if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) {
      return fail(
        invalid("invalid_role", `${param}.role must be one of ${ROLES.join(", ")}`, `${param}.role`),
      );
    }
    if (role === "tool" && typeof message.tool_call_id !== "string") {
      return fail(
        invalid(
          "invalid_message",
          `${param}.tool_call_id must be a string for role tool`,
          `${param}.tool_call_id`,
        ),
      );
    }
    const length = contentLength(message.content, role, `${param}.content`);
    if (!length.ok) return length;
    if (length.value > config.maxMessageChars) {
      return fail(
        invalid(
          "message_too_long",
          `${param}.content has ${length.value} characters; at most ${config.maxMessageChars}`,
          `${param}.content`,
        ),
      );
    }
  }

  let model = config.defaultModel;
  if (parsed.model !== undefined) {
    if (typeof parsed.model !== "string" || parsed.model === "") {
      return fail(invalid("invalid_model", "model must be a non-empty string", "model"));
    }
    model = parsed.model;
  }
  if (!config.allowedModels.has(model)) {
    return fail(
      invalid(
        "model_not_allowed",
        `model "${model}" is not allowed; allowed: ${[...config.allowedModels].join(", ")}`,
        "model",
      ),
    );
  }

  if (parsed.stream !== undefined && typeof parsed.stream !== "boolean") {
    return fail(invalid("invalid_stream", "stream must be a boolean", "stream"));
  }

  // The parsed object is ours: fill in the model and caps in place rather than copy it.
  parsed.model = model;
  const body = parsed as ChatRequest["body"];
  const capped = capCost(body, config);
  if (capped !== undefined) return fail(capped);
  return { ok: true, value: { body, model, stream: parsed.stream === true } };
}

function positiveInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

/**
 * Bounds what one request can cost: `n` at most MAX_N, the output tokens at most MAX_OUTPUT_TOKENS
 * (clamped, and set when the request names no limit, so the provider's own maximum never applies).
 */
function capCost(body: Record<string, unknown>, config: WorkerConfig): ApiError | undefined {
  if (body.n !== undefined) {
    if (!positiveInteger(body.n)) return invalid("invalid_n", "n must be a positive integer", "n");
    if (body.n > config.maxN) {
      return invalid("n_too_large", `n is ${body.n}; at most ${config.maxN}`, "n");
    }
  }
  let limited = false;
  for (const field of TOKEN_LIMIT_FIELDS) {
    const value = body[field];
    if (value === undefined) continue;
    if (!positiveInteger(value))
      return invalid("invalid_max_tokens", `${field} must be a positive integer`, field);
    if (value > config.maxOutputTokens) body[field] = config.maxOutputTokens;
    limited = true;
  }
  if (!limited) body.max_tokens = config.maxOutputTokens;
  return undefined;
}

const TOKEN_LIMIT_FIELDS = ["max_tokens", "max_completion_tokens"] as const;
