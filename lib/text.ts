/**
 * Text from config or from resources, made safe to print. Pure.
 *
 * A value someone typed (a route, a var, a name) can carry control characters: CR/LF forge extra
 * output lines (a fake "Result:" line), ESC starts a terminal escape sequence (hide text, move the
 * cursor), and the Unicode bidirectional overrides reorder what a reader sees. Every such character
 * is shown as a visible escape instead, so what is printed is what was received.
 */

/**
 * C0 controls (tab, CR and LF included), DEL, C1 controls, the line/paragraph separators, the
 * directional marks and the bidirectional embeddings, overrides and isolates.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** `\xNN` for a byte-sized code point, else `\u{NNNN}`. */
function visibleEscape(character: string): string {
  const code = character.codePointAt(0)!;
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u{${code.toString(16).padStart(4, "0")}}`;
}

/** `value` with every control character as a visible escape (`\x1b`, `\x0a`, `\u{202e}`). */
export function escapeControl(value: string): string {
  return value.replace(CONTROL, visibleEscape);
}

/** Whether `value` holds a character escapeControl would escape. */
export function hasControl(value: string): boolean {
  CONTROL.lastIndex = 0;
  const found = CONTROL.test(value);
  CONTROL.lastIndex = 0;
  return found;
}

/** Every string in a JSON-like value (object keys included) passed through escapeControl. */
export function escapeControlDeep(value: unknown): unknown {
  if (typeof value === "string") return escapeControl(value);
  if (Array.isArray(value)) return value.map(escapeControlDeep);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [escapeControl(key), escapeControlDeep(inner)]),
    );
  }
  return value;
}
