/**
 * Heuristics for "this plain value is a secret": binding names and value shapes. Pure. Messages
 * built from these never quote the value.
 */

/** Words in a binding name that mark a secret (matched as whole words: KV_KEY_PREFIX is a match, MONKEY is not). */
export const SECRET_NAME_WORDS: readonly string[] = [
  "KEY",
  "APIKEY",
  "TOKEN",
  "SECRET",
  "PASSWORD",
  "PASSWD",
  "CREDENTIAL",
  "CREDENTIALS",
];

/** The secret words in `name` (`providerKey`, `PROVIDER_KEY`, `provider-key` all give ["KEY"]). */
export function secretWordsInName(name: string): string[] {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((word) => word !== "");
  return [...new Set(words.filter((word) => SECRET_NAME_WORDS.includes(word)))];
}

interface ValuePattern {
  readonly label: string;
  readonly pattern: RegExp;
}

const VALUE_PATTERNS: readonly ValuePattern[] = [
  { label: "a Groq API key (gsk_...)", pattern: /(^|[^A-Za-z0-9])gsk_[A-Za-z0-9]{8,}/ },
  { label: "a Cloudflare user API token (cfut_...)", pattern: /(^|[^A-Za-z0-9])cfut_[A-Za-z0-9_-]{8,}/ },
  { label: "a Cloudflare account API token (cfat_...)", pattern: /(^|[^A-Za-z0-9])cfat_[A-Za-z0-9_-]{8,}/ },
  { label: "an OpenAI-style secret key (sk-...)", pattern: /(^|[^A-Za-z0-9])sk-[A-Za-z0-9_-]{16,}/ },
  {
    label: "a GitHub token (ghp_/github_pat_...)",
    pattern: /(^|[^A-Za-z0-9])(gh[pousr]_|github_pat_)[A-Za-z0-9_]{16,}/,
  },
  { label: "an AWS access key id (AKIA...)", pattern: /(^|[^A-Za-z0-9])AKIA[0-9A-Z]{16}($|[^A-Za-z0-9])/ },
  { label: "a PEM private key", pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
];

/** Runs this long in the base64 alphabet, mixing upper case, lower case and digits, look like keys. */
export const MIN_BASE64_SECRET_LENGTH = 32;

/**
 * Whether `value` holds a run of at least MIN_BASE64_SECRET_LENGTH base64 characters (`+` `/` and a
 * trailing `=` included) that mixes upper case, lower case and digits: a random key, not a word, a
 * path or a model id (those are split by '-', '.', or ':' and rarely mix all three classes).
 */
export function hasBase64Secret(value: string): boolean {
  const runs = value.match(new RegExp(`[A-Za-z0-9+/]{${MIN_BASE64_SECRET_LENGTH},}={0,2}`, "g")) ?? [];
  return runs.some((run) => /[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run));
}

/** What `value` looks like when it looks like a secret, else undefined. */
export function secretValueKind(value: string, minHexLength: number): string | undefined {
  for (const { label, pattern } of VALUE_PATTERNS) if (pattern.test(value)) return label;
  if (hasBase64Secret(value)) {
    return `a long random base64 string (${MIN_BASE64_SECRET_LENGTH}+ characters mixing cases and digits)`;
  }
  const hex = new RegExp(
    `(^|[^0-9a-fA-F])[0-9a-fA-F]{${Math.max(1, Math.floor(minHexLength))},}($|[^0-9a-fA-F])`,
  );
  if (hex.test(value)) {
    return `a long hex string (${Math.floor(minHexLength)}+ hex characters, like a Cloudflare Global API Key)`;
  }
  return undefined;
}
