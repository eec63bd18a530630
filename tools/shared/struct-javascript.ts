/**
 * A protobuf Struct's JavaScript form, remembered as such. `Struct.toJavaScript()` lists each
 * object's keys in the Struct map's sorted order and holds only what a Struct can hold, so a request
 * built from that object again (tools/plan/analyzer.ts) needs no canonical copy of it: the analyzer
 * gets exactly what the SDK's handler would read from the Struct the engine forwards.
 */
interface StructLike {
  toJavaScript(): Record<string, unknown>;
}

const fromStructs = new WeakSet<object>();

/** `struct.toJavaScript()`, marked as a Struct's own JavaScript form. */
export function structJavaScript(struct: StructLike): Record<string, unknown> {
  const value = struct.toJavaScript();
  fromStructs.add(value);
  return value;
}

/** Whether `value` is a Struct's own JavaScript form (structJavaScript's result). */
export const isStructJavaScript = (value: object): boolean => fromStructs.has(value);
