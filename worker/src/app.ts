import { readConfig, type WorkerConfig, type WorkerEnv } from "./config";
import { checkOrigin, preflight, withCors, type OriginDecision } from "./cors";
import { errorResponse, invalid, jsonResponse, type ApiError } from "./http";
import { createLogger, type LogFields, type LogSink } from "./log";
import { callProvider, mapProviderError, passThrough, PROVIDER_UNREACHABLE } from "./provider";
import { checkRateLimit, rateLimitHeaders } from "./rate-limit";
import { checkContentType, readBody, validateChatRequest } from "./validation";

export const CHAT_PATH = "/v1/chat/completions";
export const HEALTH_PATH = "/health";

/** Methods each path accepts (OPTIONS, the preflight, is implied). */
const ROUTES: Readonly<Record<string, readonly string[]>> = {
  [HEALTH_PATH]: ["GET"],
  [CHAT_PATH]: ["POST"],
};

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
}

function fromError(error: ApiError, headers: Record<string, string> = {}): Response {
  return errorResponse({ ...error, headers: { ...headers, ...error.headers } });
}

export function createWorker(deps: WorkerDeps = {}): ExportedHandler<WorkerEnv> & {
  fetch: (request: Request, env: WorkerEnv, ctx?: ExecutionContext) => Promise<Response>;
} {
  const now = deps.now ?? (() => Date.now());
  // Resolved at call time so a replaced global fetch (tests, instrumentation) is honoured.
  const outbound: typeof fetch = deps.fetch ?? ((input, init) => fetch(input, init));
  const sink: LogSink = deps.log ?? ((line) => console.log(line));

  async function chat(request: Request, env: WorkerEnv, config: WorkerConfig): Promise<Handled> {
    const key = env.PROVIDER_KEY ?? "";
    if (key === "") {
      return {
        response: fromError({
          status: 500,
          type: "server_error",
          code: "server_misconfigured",
          message: "The PROVIDER_KEY secret is not set",
        }),
      };
    }

    // Cloudflare sets CF-Connecting-IP on every request at the edge (a client cannot forge it there);
    // only local tools may omit it, and those requests share one "unknown" bucket.
    const client = request.headers.get("CF-Connecting-IP") ?? "unknown";
    const limit = await checkRateLimit(
      env.RATE_LIMIT_KV,
      client,
      config.rateLimitRequests,
      config.rateLimitWindowSeconds,
      now(),
    );
    const limitHeaders = rateLimitHeaders(limit);
    if (!limit.allowed) {
      return {
        response: fromError(
          {
            status: 429,
            type: "rate_limit_error",
            code: "rate_limited",
            message: `Rate limit of ${limit.limit} requests per ${config.rateLimitWindowSeconds} s exceeded; retry in ${limit.retryAfter} s`,
          },
          { ...limitHeaders, "Retry-After": String(limit.retryAfter) },
        ),
        fields: { rateLimited: true },
      };
    }

    const typeError = checkContentType(request);
    if (typeError !== undefined) return { response: fromError(typeError, limitHeaders) };
    const body = await readBody(request, config.maxBodyBytes);
    if (!body.ok) return { response: fromError(body.error, limitHeaders) };
    const chatRequest = validateChatRequest(body.value, config);
    if (!chatRequest.ok) return { response: fromError(chatRequest.error, limitHeaders) };
    const { model, stream } = chatRequest.value;

    let upstream: Response;
    try {
      upstream = await callProvider(
        { url: config.chatCompletionsUrl, key, body: chatRequest.value.body, stream },
        outbound,
      );
    } catch {
      return { response: fromError(PROVIDER_UNREACHABLE, limitHeaders), fields: { model, stream } };
    }
    const fields = { model, stream, upstreamStatus: upstream.status };
    if (upstream.status >= 200 && upstream.status < 300) {
      return { response: passThrough(upstream, limitHeaders), fields };
    }
    return { response: fromError(await mapProviderError(upstream, key), limitHeaders), fields };
  }

  async function handle(request: Request, env: WorkerEnv): Promise<Handled> {
    const configResult = readConfig(env);
    if (!configResult.ok) {
      return {
        response: fromError({
          status: 500,
          type: "server_error",
          code: "server_misconfigured",
          message: configResult.problem,
        }),
      };
    }
    const config = configResult.config;
    const origin: OriginDecision = checkOrigin(request, config.allowedOrigins);
    const path = new URL(request.url).pathname;
    const methods = ROUTES[path];

    if (origin.kind === "denied") return { response: withCors(fromError(origin.error), origin) };
    if (methods === undefined) {
      return {
        response: withCors(fromError(invalid("not_found", `No route for ${path}`, undefined, 404)), origin),
      };
    }
    if (request.method === "OPTIONS") {
      if (origin.kind === "none") {
        return {
          response: new Response(null, {
            status: 204,
            headers: { Allow: [...methods, "OPTIONS"].join(", ") },
          }),
        };
      }
      const result = preflight(request, origin.origin, methods);
      if (!result.ok) return { response: withCors(fromError(result.error), { kind: "none" }) };
      return { response: new Response(null, { status: 204, headers: result.headers }) };
    }
    if (!methods.includes(request.method)) {
      const error = invalid(
        "method_not_allowed",
        `Method ${request.method} is not allowed on ${path}`,
        undefined,
        405,
      );
      return { response: withCors(fromError(error, { Allow: [...methods, "OPTIONS"].join(", ") }), origin) };
    }
    if (path === HEALTH_PATH) {
      return { response: withCors(jsonResponse(200, { status: "ok", version: config.version }), origin) };
    }
    const handled = await chat(request, env, config);
    return { ...handled, response: withCors(handled.response, origin) };
  }

  return {
    async fetch(request: Request, env: WorkerEnv): Promise<Response> {
      const started = now();
      const requestId = crypto.randomUUID();
      const log = createLogger(sink, [env.PROVIDER_KEY]);
      const path = new URL(request.url).pathname;
      let handled: Handled;
      try {
        handled = await handle(request, env);
      } catch (error) {
        log("error", "unhandled error", {
          requestId,
          error: error instanceof Error ? `${error.name}: ${error.message}` : "non-Error thrown",
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
      log(response.status >= 500 ? "error" : "info", "request", {
        requestId,
        method: request.method,
        path,
        status: response.status,
        msToHeaders: now() - started,
        ...handled.fields,
      });
      return response;
    },
  };
}
