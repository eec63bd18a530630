/**
 * Property tests for the redaction every printed line goes through: whatever the secret and however
 * a server returns it (any case, split into runs, inside a base64 or base64url blob at any byte
 * offset), none of it survives; text without it is left alone; and it always terminates, even for a
 * secret that contains the replacement marker itself.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { MIN_FRAGMENT, redact, REDACTED, redactDeep } from "../../tools/verify/redact";
import { TOKEN } from "./fixtures";

/** Printable ASCII, what Cloudflare tokens (and the verifier's accepted env values) are made of. */
const printable = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
});
const secretArb = printable.filter((s) => s.length >= MIN_FRAGMENT && s.length <= 64);
const anyText = fc.string({ unit: "grapheme", maxLength: 80 });

const windows = (text: string, size = MIN_FRAGMENT) =>
  Array.from({ length: Math.max(0, text.length - size + 1) }, (_, at) => text.slice(at, at + size));

const randomCase = (text: string, flips: readonly boolean[]) =>
  [...text]
    .map((c, i) => (flips[i % Math.max(1, flips.length)] ? c.toUpperCase() : c.toLowerCase()))
    .join("");

describe("redact (properties)", () => {
  it("removes the secret in any letter case, wherever it sits", () => {
    fc.assert(
      fc.property(
        secretArb,
        anyText,
        anyText,
        fc.array(fc.boolean(), { minLength: 1 }),
        (secret, before, after, flips) => {
          const out = redact(`${before}${randomCase(secret, flips)}${after}`, secret);
          expect(out.toLowerCase()).not.toContain(secret.toLowerCase());
          expect(out).toContain(REDACTED);
        },
      ),
    );
  });

  it("removes every run of 8 or more of its characters, in any case", () => {
    fc.assert(
      fc.property(
        secretArb,
        fc.nat(),
        fc.nat(),
        anyText,
        anyText,
        fc.boolean(),
        (secret, a, b, before, after, upper) => {
          const start = a % (secret.length - MIN_FRAGMENT + 1);
          const end = start + MIN_FRAGMENT + (b % (secret.length - start - MIN_FRAGMENT + 1));
          const run = secret.slice(start, end);
          const out = redact(`${before}${upper ? run.toUpperCase() : run}${after}`, secret);
          for (const window of windows(run.toLowerCase())) expect(out.toLowerCase()).not.toContain(window);
        },
      ),
    );
  });

  it.each(["base64", "base64url"] as const)(
    "removes the secret from a %s blob at every byte offset (Basic headers, JWTs)",
    (encoding) => {
      fc.assert(
        fc.property(
          secretArb,
          fc.uint8Array({ maxLength: 7 }),
          fc.uint8Array({ maxLength: 7 }),
          (secret, pre, post) => {
            const bytes = Buffer.from(secret, "utf8");
            const blob = Buffer.concat([pre, bytes, post]).toString(encoding);
            // The characters that encode the secret's bytes alone, computed from the blob itself.
            const first = Math.ceil((pre.length * 8) / 6);
            const last = Math.floor(((pre.length + bytes.length) * 8) / 6);
            const encodedSecret = blob.slice(first, last);
            const out = redact(`token=${blob};`, secret);
            for (const window of windows(encodedSecret)) expect(out).not.toContain(window);
          },
        ),
      );
    },
  );

  it("leaves text that shares no character with the secret untouched", () => {
    const punctuation = fc.string({
      unit: fc.constantFrom(..." !#$%&()*,.:;<>?@[]^`{|}~\"'"),
      maxLength: 80,
    });
    const alphanumeric = fc.string({
      unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789"),
      minLength: 8,
      maxLength: 48,
    });
    fc.assert(
      fc.property(alphanumeric, punctuation, (secret, text) => {
        expect(redact(text, secret)).toBe(text);
      }),
    );
  });

  it("terminates and removes a secret that contains the marker itself", () => {
    for (const secret of [`${REDACTED}${REDACTED}`, `xx${REDACTED}yy`, "redacted", "[redacted]x"]) {
      expect(redact(`a ${secret} b ${secret.toUpperCase()} c`, secret)).toBe(`a ${REDACTED} b ${REDACTED} c`);
    }
  });

  it("redacts inside structures, keys included", () => {
    const doc = redactDeep({ [`k-${TOKEN}`]: [{ got: `echo ${TOKEN.toUpperCase()}` }], n: 1 }, TOKEN);
    expect(doc).toEqual({ [`k-${REDACTED}`]: [{ got: `echo ${REDACTED}` }], n: 1 });
  });
});
