import { invalid, type ApiError } from "./http";

/** Request headers a browser may send on a cross-origin chat request (besides CORS-safelisted ones). */
export const CORS_ALLOWED_HEADERS = ["content-type"] as const;
export const CORS_EXPOSED_HEADERS = ["retry-after", "x-request-id"] as const;
const EXPOSED = CORS_EXPOSED_HEADERS.join(", ");
export const CORS_MAX_AGE_SECONDS = 600;

/**
 * The origin decision for a request. Requests without an Origin header are not browser cross-origin
 * requests (CORS cannot restrict them; the rate limit still applies) and get no CORS headers.
 */
export type OriginDecision =
  { kind: "none" } | { kind: "allowed"; origin: string } | { kind: "denied"; error: ApiError };

export function checkOrigin(request: Request, allowedOrigins: ReadonlySet<string>): OriginDecision {
  const origin = request.headers.get("Origin");
  if (origin === null) return { kind: "none" };
  if (allowedOrigins.has(origin)) return { kind: "allowed", origin };
  return {
    kind: "denied",
    error: invalid("origin_not_allowed", `Origin ${origin} is not allowed`, undefined, 403),
  };
}

/** Adds the CORS headers for an allowed origin to a response's (mutable) headers; every response varies by Origin. */
export function addCors(headers: Headers, decision: OriginDecision): void {
  headers.append("Vary", "Origin");
  if (decision.kind === "allowed") {
    headers.set("Access-Control-Allow-Origin", decision.origin);
    headers.set("Access-Control-Expose-Headers", EXPOSED);
  }
}

/**
 * A preflight for an allowed origin: the requested method must be one the path accepts and every
 * requested header must be allowed. Returns the 204 headers, or the error to answer with.
 */
export function preflight(
  request: Request,
  origin: string,
  pathMethods: readonly string[],
): { ok: true; headers: Record<string, string> } | { ok: false; error: ApiError } {
  const method = request.headers.get("Access-Control-Request-Method");
  if (method === null) {
    return {
      ok: false,
      error: invalid("invalid_preflight", "Preflight without Access-Control-Request-Method", undefined, 400),
    };
  }
  if (!pathMethods.includes(method)) {
    return {
      ok: false,
      error: invalid("cors_method_not_allowed", `Method ${method} is not allowed here`, undefined, 403),
    };
  }
  const requested = (request.headers.get("Access-Control-Request-Headers") ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  const refused = requested.filter((name) => !(CORS_ALLOWED_HEADERS as readonly string[]).includes(name));
  if (refused.length > 0) {
    return {
      ok: false,
      error: invalid(
        "cors_header_not_allowed",
        `Header(s) not allowed: ${refused.join(", ")}`,
        undefined,
        403,
      ),
    };
  }
  return {
    ok: true,
    headers: {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Allow-Methods": [...pathMethods, "OPTIONS"].join(", "),
      "Access-Control-Allow-Headers": CORS_ALLOWED_HEADERS.join(", "),
      "Access-Control-Max-Age": String(CORS_MAX_AGE_SECONDS),
      Vary: "Origin",
    },
  };
}
