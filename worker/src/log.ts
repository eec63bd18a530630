/** One JSON log line per event. Every line passes through `redact` before it is written. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export type LogSink = (line: string) => void;

export function createLogger(sink: LogSink, secrets: readonly (string | undefined)[]) {
  const hidden = secrets.filter((secret): secret is string => typeof secret === "string" && secret !== "");
  const redact = (line: string): string =>
    hidden.reduce((out, secret) => (out.includes(secret) ? out.split(secret).join("[redacted]") : out), line);
  return (level: "info" | "warn" | "error", message: string, fields: LogFields = {}): void => {
    sink(redact(JSON.stringify({ level, message, ...fields })));
  };
}

export type Logger = ReturnType<typeof createLogger>;

/** An error as "Name: message" for a log line (the logger redacts the key from it). */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : "non-Error thrown";
}
