/**
 * A small JSON Schema checker for policy config values: the keywords policy configSchemas use
 * (type, enum, pattern, minLength, maxLength, minimum, maximum, items, minItems, maxItems,
 * properties, required). The Pulumi CLI validates the reconciled policy config with gojsonschema
 * before it calls Configure; this mirrors that check for the offline plan. Unknown keywords are
 * ignored, as a validator does with annotations. Pure.
 */

export type JsonSchema = Readonly<Record<string, unknown>>;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  if (type === "number") return actual === "number" || actual === "integer";
  return actual === type;
}

/** Problems with `value` against `schema`, each prefixed with its path (e.g. `maxTtlDays`). */
export function validateJsonSchema(value: unknown, schema: JsonSchema, path = "(root)"): string[] {
  const problems: string[] = [];
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.length > 0 && !types.some((type) => matchesType(value, String(type)))) {
    return [`${path}: Invalid type. Expected: ${types.join(" or ")}, given: ${typeOf(value)}`];
  }
  if (
    Array.isArray(schema.enum) &&
    !schema.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))
  ) {
    problems.push(
      `${path}: must be one of ${schema.enum.map((option) => JSON.stringify(option)).join(", ")}`,
    );
  }
  if (typeof value === "string") {
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value)) {
      problems.push(`${path}: Does not match pattern '${schema.pattern}'`);
    }
    if (typeof schema.minLength === "number" && value.length < schema.minLength) {
      problems.push(`${path}: String length must be greater than or equal to ${schema.minLength}`);
    }
    if (typeof schema.maxLength === "number" && value.length > schema.maxLength) {
      problems.push(`${path}: String length must be less than or equal to ${schema.maxLength}`);
    }
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) {
      problems.push(`${path}: Must be greater than or equal to ${schema.minimum}`);
    }
    if (typeof schema.maximum === "number" && value > schema.maximum) {
      problems.push(`${path}: Must be less than or equal to ${schema.maximum}`);
    }
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === "number" && value.length < schema.minItems) {
      problems.push(`${path}: Array must have at least ${schema.minItems} items`);
    }
    if (typeof schema.maxItems === "number" && value.length > schema.maxItems) {
      problems.push(`${path}: Array must have at most ${schema.maxItems} items`);
    }
    if (isRecord(schema.items)) {
      const items = schema.items;
      value.forEach((item, index) => problems.push(...validateJsonSchema(item, items, `${path}.${index}`)));
    }
  }
  if (isRecord(value)) {
    const prefix = path === "(root)" ? "" : `${path}.`;
    if (Array.isArray(schema.required)) {
      for (const key of schema.required) {
        if (typeof key === "string" && !(key in value)) problems.push(`${prefix}${key}: is required`);
      }
    }
    if (isRecord(schema.properties)) {
      for (const [key, propertySchema] of Object.entries(schema.properties)) {
        if (key in value && isRecord(propertySchema)) {
          problems.push(...validateJsonSchema(value[key], propertySchema, `${prefix}${key}`));
        }
      }
    }
  }
  return problems;
}
