/**
 * Finds a secret in a byte stream, across chunk boundaries, without ever letting a prefix of it out.
 *
 * Each chunk is searched together with the bytes held back from the previous one. What is held back
 * is the longest end of the data that could still be the start of the secret (at most its length - 1
 * bytes): a secret split over two chunks is then found whole in the second search, and none of its
 * bytes were emitted before. Everything else is emitted at once, so a stream is not delayed unless
 * a chunk happens to end with the secret's first bytes.
 */
const EMPTY = new Uint8Array(0);

/** The chunks as one array of `size` bytes (the chunk itself when there is one). */
export function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Index of `needle` in `data` from `from`, or -1. */
export function indexOfBytes(data: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  if (first === undefined) return -1;
  const last = data.length - needle.length;
  for (let i = data.indexOf(first, from); i !== -1 && i <= last; i = data.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && data[i + j] === needle[j]) j += 1;
    if (j === needle.length) return i;
  }
  return -1;
}

/** Length of the longest proper prefix of `needle` that `data` ends with. */
export function heldPrefixLength(data: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  if (first === undefined) return 0;
  for (let start = Math.max(0, data.length - needle.length + 1); start < data.length; start += 1) {
    start = data.indexOf(first, start);
    if (start === -1) return 0;
    let j = 1;
    while (start + j < data.length && data[start + j] === needle[j]) j += 1;
    if (start + j === data.length) return data.length - start;
  }
  return 0;
}

export class SecretScanner {
  private tail: Uint8Array = EMPTY;

  constructor(private readonly secret: Uint8Array) {}

  /** The bytes of `chunk` (with any held back before) that are safe to emit, or null if the secret is in them. */
  push(chunk: Uint8Array): Uint8Array | null {
    const data = this.tail.length > 0 ? concat([this.tail, chunk], this.tail.length + chunk.length) : chunk;
    if (indexOfBytes(data, this.secret) !== -1) return null;
    const hold = heldPrefixLength(data, this.secret);
    if (hold === 0) {
      this.tail = EMPTY;
      return data;
    }
    this.tail = data.slice(data.length - hold);
    return data.subarray(0, data.length - hold);
  }

  /** The bytes held back, to emit when the stream ends (they are not the whole secret). */
  flush(): Uint8Array {
    const rest = this.tail;
    this.tail = EMPTY;
    return rest;
  }
}
