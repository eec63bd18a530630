/**
 * Keeping a secret out of everything the verifier and the sweeper print. Pure.
 *
 * Messages are built so the token never enters them; this is the belt to those braces, for text a
 * server sends back (an API that echoes the Authorization header, upper-cased, split, or inside a
 * base64 blob such as a Basic header or a JWT) and for runtime errors that quote a header value.
 *
 * Removed, case-insensitively: the secret itself, any run of MIN_FRAGMENT or more of its
 * characters, and its base64 and base64url encodings at each of the three byte alignments it can
 * take inside a longer encoded blob (and any MIN_FRAGMENT-run of those). Matches are marked on the
 * original text and every marked stretch becomes one REDACTED, in a single pass: a replacement can
 * never create a new match, whatever characters the secret contains.
 */

export const REDACTED = "[redacted]";

/** Shortest run of the secret's characters that is treated as "a part of it". */
export const MIN_FRAGMENT = 8;

/** ASCII-only lower-casing: keeps every index where it was (String#toLowerCase may not). */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/**
 * The part of base64(pad + secret + anything) that depends only on the secret, for pad lengths
 * 0, 1 and 2: the characters that encode bytes of the secret alone.
 */
export function base64Cores(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  const cores: string[] = [];
  for (let pad = 0; pad < 3; pad++) {
    const encoded = Buffer.concat([Buffer.alloc(pad), bytes]).toString("base64");
    // Output characters are 6-bit groups; group g covers bits [6g, 6g+6) of the padded input.
    const firstBit = pad * 8;
    const endBit = (pad + bytes.length) * 8;
    const first = Math.ceil(firstBit / 6);
    const last = Math.floor(endBit / 6); // exclusive
    if (last > first) cores.push(encoded.slice(first, last));
  }
  const urlSafe = cores.map((core) => core.replace(/\+/g, "-").replace(/\//g, "_"));
  return [...new Set([...cores, ...urlSafe])];
}

/** Every needle to remove, lower-cased; whole strings and their MIN_FRAGMENT-runs. */
function needles(secret: string): { whole: string[]; fragments: Set<string> } {
  const whole = [secret, ...base64Cores(secret)].map(asciiLower).filter((needle) => needle.length > 0);
  const fragments = new Set<string>();
  for (const needle of whole) {
    for (let start = 0; start + MIN_FRAGMENT <= needle.length; start++) {
      fragments.add(needle.slice(start, start + MIN_FRAGMENT));
    }
  }
  return { whole: [...new Set(whole)], fragments };
}

/** `text` with every trace of `secret` (see the module comment) replaced by REDACTED. */
export function redact(text: string, secret: string | undefined): string {
  if (secret === undefined || secret.length === 0 || text.length === 0) return text;
  const lower = asciiLower(text);
  const marked = new Uint8Array(text.length);
  const mark = (from: number, length: number) => marked.fill(1, from, from + length);
  const { whole, fragments } = needles(secret);
  for (const needle of whole) {
    for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, at + 1)) {
      mark(at, needle.length);
    }
  }
  if (fragments.size > 0) {
    for (let at = 0; at + MIN_FRAGMENT <= lower.length; at++) {
      if (fragments.has(lower.slice(at, at + MIN_FRAGMENT))) mark(at, MIN_FRAGMENT);
    }
  }
  let out = "";
  for (let at = 0; at < text.length;) {
    if (marked[at] === 1) {
      while (at < text.length && marked[at] === 1) at++;
      out += REDACTED;
    } else {
      out += text[at];
      at++;
    }
  }
  return out;
}

/** Redacts every string inside a value, object keys included (before JSON escaping could disguise it). */
export function redactDeep<T>(value: T, secret: string | undefined): T {
  if (typeof value === "string") return redact(value, secret) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => redactDeep(item, secret)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [redact(key, secret), redactDeep(inner, secret)]),
    ) as T;
  }
  return value;
}
