import { clientKey } from "./client-key";
import type { WorkerConfig } from "./config";
import { addCors, checkOrigin, preflight, type OriginDecision } from "./cors";
import type { WorkerEnv } from "./env";
import { errorResponse, invalid, jsonResponse, type ApiError } from "./http";
import { createLogger, describeError, type LogFields, type LogSink, type Logger } from "./log";
import {
  CLIENT_GONE,
  PROVIDER_TIMEOUT,
  PROVIDER_UNREACHABLE,
  callProvider,
  mapProviderError,
  passedHeaders,
  relayAnswer,
  relayStream,
} from "./provider";
import { retryAfterSeconds } from "./rate-limit";
import { effectiveConfig } from "./runtime-config";
import { checkContentType, readBody, validateChatRequest } from "./validation";

export const CHAT_PATH = "/v1/chat/completions";
export const HEALTH_PATH = "/health";

/** Methods each path accepts (OPTIONS, the preflight, is implied). */
const ROUTES: Readonly<Record<string, readonly string[]>> = {
  [HEALTH_PATH]: ["GET"],
  [CHAT_PATH]: ["POST"],
};
const ALLOW: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(ROUTES).map(([path, methods]) => [path, [...methods, "OPTIONS"].join(", ")]),
);

/** What the Worker takes from its surroundings; tests inject a clock, a provider fetch and a log sink. */
export interface WorkerDeps {
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
  /** The outbound fetch used to call the provider. */
  readonly fetch?: typeof fetch;
  readonly log?: LogSink;
}

interface Handled {
  response: Response;
  fields?: LogFields;
  /** No log line unless the request failed (4xx/5xx): LOG_REQUESTS "failures". */
  quiet?: boolean;
}

/** Per-env values derived once per isolate: the key's bytes (for scanning) and the redacting logger. */
interface Secrets {
  readonly key: string;
  readonly keyBytes: Uint8Array;
  readonly log: Logger;
}

const encoder = new TextEncoder();

function fromError(error: ApiError, headers?: Record<string, string>): Response {
  return errorResponse(
    headers === undefined ? error : { ...error, headers: { ...headers, ...error.headers } },
  );
}

const misconfigured = (message: string): ApiError => ({
  status: 500,
  type: "server_error",
  code: "server_misconfigured",
  message,
});
const MISSING_KEY = misconfigured("The PROVIDER_KEY secret is not set");
const MISSING_LIMITER = misconfigured("The RATE_LIMITER binding is missing");

export function createWorker(deps: WorkerDeps = {}): ExportedHandler<WorkerEnv> & {
  fetch: (request: Request, env: WorkerEnv, ctx?: ExecutionContext) => Promise<Response>;
} {
  const now = deps.now ?? (() => Date.now());
  // Resolved at call time so a replaced global fetch (tests, instrumentation) is honoured.
  const outbound: typeof fetch = deps.fetch ?? ((input, init) => fetch(input, init));
  const sink: LogSink = deps.log ?? ((line) => console.log(line));
  const secretsByEnv = new WeakMap<object, Secrets>();

  function secretsOf(env: WorkerEnv): Secrets {
    let secrets = secretsByEnv.get(env);
    if (secrets === undefined) {
      const key = env.PROVIDER_KEY ?? "";
      secrets = { key, keyBytes: encoder.encode(key), log: createLogger(sink, [key]) };
      secretsByEnv.set(env, secrets);
    }
    return secrets;
  }

  async function chat(
    request: Request,
    env: WorkerEnv,
    config: WorkerConfig,
    secrets: Secrets,
    requestId: string,
  ): Promise<Handled> {
    const { key, keyBytes, log } = secrets;
    if (key === "") return { response: fromError(MISSING_KEY) };
    const limiter = env.RATE_LIMITER;
    if (limiter === undefined) return { response: fromError(MISSING_LIMITER) };

    // Cloudflare sets CF-Connecting-IP on every request at the edge (a client cannot forge it there);
    // only local tools may omit it, and those requests share one "unknown" bucket. The limiter is asked
    // first and answers while the body is read; its verdict is applied before anything else.
    const verdict = limiter
      .limit({ key: clientKey(request.headers.get("CF-Connecting-IP")) })
      .then(({ success }) => success, describeError);
    const typeError = checkContentType(request);
    const body = typeError === undefined ? readBody(request, config.maxBodyBytes) : undefined;
    const allowed = await verdict;
    if (typeof allowed === "string") {
      // Fail open: a rate-limiter outage must not take the service down; the cost caps still apply.
      log("warn", "rate limiter failed; request served", { requestId, error: allowed });
    } else if (!allowed) {
      const retryAfter = retryAfterSeconds(now());
      const error: ApiError = {
        status: 429,
        type: "rate_limit_error",
        code: "rate_limited",
        message: `Too many requests from this client; retry in ${retryAfter} s`,
      };
      return {
        response: fromError(error, { "Retry-After": String(retryAfter) }),
        fields: { rateLimited: true },
      };
    }
    if (body === undefined) return { response: fromError(typeError!) };
    const read = await body;
    if (!read.ok) return { response: fromError(read.error) };
    const chatRequest = validateChatRequest(read.value, config);
    if (!chatRequest.ok) return { response: fromError(chatRequest.error) };
    const { model, stream } = chatRequest.value;

    const outcome = await callProvider(
      {
        url: config.chatCompletionsUrl,
        key,
        body: JSON.stringify(chatRequest.value.body),
        stream,
        timeoutMs: config.providerTimeoutMs,
        signal: request.signal,
      },
      outbound,
    );
    if (outcome.kind !== "response") {
      const error =
        outcome.kind === "timeout"
          ? PROVIDER_TIMEOUT
          : outcome.kind === "client_gone"
            ? CLIENT_GONE
            : PROVIDER_UNREACHABLE;
      return { response: fromError(error), fields: { model, stream, provider: outcome.kind } };
    }
    const { upstream } = outcome;
    const fields: LogFields = { model, stream, upstreamStatus: upstream.status };
    if (upstream.status < 200 || upstream.status >= 300) {
      return { response: fromError(await mapProviderError(outcome, config.allowedBodyFields)), fields };
    }

    const headers = passedHeaders(upstream, key);
    if (headers["content-type"]?.startsWith("text/event-stream") === true) {
      // A stream: the deadline ends with the headers; idle timers watch the chunks from here.
      outcome.settle();
      const relayed = relayStream(upstream, keyBytes, config.streamIdleTimeoutMs, outcome.abort, (end) => {
        if (end !== "done") log("warn", "stream ended early", { requestId, end });
      });
      return { response: new Response(relayed, { status: upstream.status, headers }), fields };
    }
    const answer = await relayAnswer(outcome, keyBytes);
    if (!answer.ok) {
      return { response: fromError(answer.error), fields: { ...fields, error: answer.error.code } };
    }
    return { response: new Response(answer.bytes, { status: upstream.status, headers }), fields };
  }

  async function handle(
    request: Request,
    env: WorkerEnv,
    path: string,
    ctx: ExecutionContext | undefined,
    secrets: Secrets,
    requestId: string,
  ): Promise<Handled> {
    const pending = effectiveConfig(
      env,
      now(),
      ctx === undefined ? undefined : (promise) => ctx.waitUntil(promise),
      (message, fields) => secrets.log("warn", message, { requestId, ...fields }),
    );
    const configResult = pending instanceof Promise ? await pending : pending;
    if (!configResult.ok) return { response: fromError(misconfigured(configResult.problem)) };
    const config = configResult.config;
    const origin = checkOrigin(request, config.allowedOrigins);
    const methods = ROUTES[path];

    let handled: Handled;
    let cors: OriginDecision | undefined = origin;
    if (origin.kind === "denied") {
      handled = { response: fromError(origin.error) };
    } else if (methods === undefined) {
      handled = { response: fromError(invalid("not_found", `No route for ${path}`, undefined, 404)) };
    } else if (request.method === "OPTIONS") {
      // A preflight carries its own CORS headers (or none, refused); a plain OPTIONS gets Allow.
      cors = { kind: "none" };
      const result = origin.kind === "none" ? undefined : preflight(request, origin.origin, methods);
      handled = {
        response:
          result === undefined
            ? new Response(null, { status: 204, headers: { Allow: ALLOW[path]! } })
            : result.ok
              ? new Response(null, { status: 204, headers: result.headers })
              : fromError(result.error),
      };
      if (result?.ok !== false) cors = undefined;
    } else if (!methods.includes(request.method)) {
      const error = invalid(
        "method_not_allowed",
        `Method ${request.method} is not allowed on ${path}`,
        undefined,
        405,
      );
      handled = { response: fromError(error, { Allow: ALLOW[path]! }) };
    } else if (path === HEALTH_PATH) {
      handled = { response: jsonResponse(200, { status: "ok", version: config.version }) };
    } else {
      handled = await chat(request, env, config, secrets, requestId);
    }
    if (cors !== undefined) addCors(handled.response.headers, cors);
    handled.quiet = !config.logAllRequests;
    return handled;
  }

  return {
    async fetch(request: Request, env: WorkerEnv, ctx?: ExecutionContext): Promise<Response> {
      const started = now();
      const requestId = crypto.randomUUID();
      const secrets = secretsOf(env);
      const url = request.url;
      // The path without building a URL object: scheme://host/path?query.
      const pathStart = url.indexOf("/", url.indexOf("//") + 2);
      const queryStart = url.indexOf("?", pathStart);
      const path = pathStart === -1 ? "/" : url.slice(pathStart, queryStart === -1 ? undefined : queryStart);
      let handled: Handled;
      try {
        handled = await handle(request, env, path, ctx, secrets, requestId);
      } catch (error) {
        secrets.log("error", "unhandled error", {
          requestId,
          error: describeError(error),
        });
        handled = {
          response: fromError({
            status: 500,
            type: "server_error",
            code: "internal_error",
            message: `Internal error (request ${requestId})`,
          }),
        };
      }
      const response = handled.response;
      response.headers.set("X-Request-Id", requestId);
      response.headers.set("X-Content-Type-Options", "nosniff");
      if (response.status >= 400 || handled.quiet !== true) {
        secrets.log(response.status >= 500 ? "error" : "info", "request", {
          requestId,
          method: request.method,
          path,
          status: response.status,
          msToHeaders: now() - started,
          ...handled.fields,
        });
      }
      return response;
    },
  };
}
