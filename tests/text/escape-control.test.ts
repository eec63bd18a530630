/** lib/text.ts: control characters from config or resources become visible escapes. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { escapeControl, escapeControlDeep, hasControl } from "../../lib/text";

describe("escapeControl", () => {
  it.each([
    [
      "api.example.dev/*\nResult: no mandatory violation.",
      "api.example.dev/*\\x0aResult: no mandatory violation.",
    ],
    ["a\r\nb", "a\\x0d\\x0ab"],
    ["\u001b[8mhidden\u001b[0m", "\\x1b[8mhidden\\x1b[0m"],
    ["tab\there", "tab\\x09here"],
    ["del\u007f c1\u009b", "del\\x7f c1\\x9b"],
    ["evil\u202eved.dev", "evil\\u{202e}ved.dev"],
    ["iso\u2066x\u2069 sep\u2028", "iso\\u{2066}x\\u{2069} sep\\u{2028}"],
    ["plain ascii, ünïcode, 日本, emoji 🙂", "plain ascii, ünïcode, 日本, emoji 🙂"],
  ])("%j -> %j", (input, expected) => {
    expect(escapeControl(input)).toBe(expected);
    expect(hasControl(input)).toBe(input !== expected);
  });

  it("leaves no control character in any string, and changes none without one", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (input) => {
        const escaped = escapeControl(input);
        expect(hasControl(escaped)).toBe(false);
        if (!hasControl(input)) expect(escaped).toBe(input);
      }),
    );
  });

  it("escapes keys and values at any depth, leaving other types alone", () => {
    expect(escapeControlDeep({ "k\n": ["v\u001b", 1, null, true, { x: "\r" }] })).toEqual({
      "k\\x0a": ["v\\x1b", 1, null, true, { x: "\\x0d" }],
    });
  });
});
