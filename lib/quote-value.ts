/**
 * Values from config or resources, quoted for a message. Pure. A message may quote what it received
 * (it helps to see the folded YAML line), but never a secret- or key-looking value, and never a
 * raw control character (a CR/LF or ESC in a value could forge or hide output lines).
 */
import { secretValueKind } from "../policies/lib/secret-patterns";
import { escapeControl } from "./text";

/** What a message shows instead of a value that looks like a secret or a key. */
export const SECRET_LOOKING = "[secret-looking value]";

/** Hex runs this long count as keys in messages (a Global API Key has 37 hex characters). */
export const MESSAGE_MIN_SECRET_HEX_LENGTH = 32;

/** Whether a value looks like a secret or a key (policies/lib/secret-patterns.ts). */
export function looksSecret(value: string): boolean {
  return secretValueKind(value, MESSAGE_MIN_SECRET_HEX_LENGTH) !== undefined;
}

/** `value` in double quotes with control characters escaped, or SECRET_LOOKING. */
export function quoteValue(value: string): string {
  return looksSecret(value) ? SECRET_LOOKING : `"${escapeControl(value)}"`;
}
