/** OpenAI-style error bodies: `{"error": {"message", "type", "code", "param"}}`. */
export type ErrorType = "invalid_request_error" | "rate_limit_error" | "upstream_error" | "server_error";

export interface ApiError {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string;
  readonly message: string;
  readonly param?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export function jsonResponse(status: number, body: unknown, headers: HeadersInit = {}): Response {
  const response = new Response(JSON.stringify(body), { status, headers });
  response.headers.set("Content-Type", "application/json; charset=utf-8");
  response.headers.set("Cache-Control", "no-store");
  return response;
}

export function errorResponse(error: ApiError): Response {
  return jsonResponse(
    error.status,
    {
      error: {
        message: error.message,
        type: error.type,
        code: error.code,
        param: error.param ?? null,
      },
    },
    error.headers,
  );
}

export function invalid(code: string, message: string, param?: string, status = 400): ApiError {
  return { status, type: "invalid_request_error", code, message, ...(param === undefined ? {} : { param }) };
}
