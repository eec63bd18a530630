/**
 * Freezes `value` and everything it holds, in place, and returns it: for a cached value shared by
 * readers that only read (one that wrote to it would fail instead of changing what the next one sees).
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
